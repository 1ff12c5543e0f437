"""Web Push (browsers) with pywebpush: the payload encrypted for the subscription (RFC 8291,
aes128gcm) and signed with our VAPID key (RFC 8292).

The push token of a web subscriber is the subscription JSON the browser gave the site
(`{"endpoint": …, "keys": {"p256dh": …, "auth": …}}`). The VAPID key pair is generated when the provider
is saved without one; the site subscribes with its public half. A push service answering 404 or 410
says the subscription is gone: the error marks the token invalid.
"""

from __future__ import annotations

import base64
import json
from typing import Annotated, Any

import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from py_vapid import Vapid
from pydantic import Field
from pywebpush import WebPushException, webpush
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError

from smartcomm.channels.base import (
    Accepted,
    HandingOver,
    OutcomeUnknown,
    OutgoingMessage,
    PermanentError,
    PushContent,
    RetryableError,
    SendError,
)
from smartcomm.channels.checks import ProviderSettings
from smartcomm.channels.fields import FormField
from smartcomm.kit.errors import InvalidInput
from smartcomm.kit.i18n import lazy
from smartcomm.kit.time import utcnow

DEFAULT_TTL = 24 * 60 * 60


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def new_vapid_private_key() -> str:
    """A new P-256 private key as the 32 raw bytes in base64url (the form web push libraries share)."""
    key = ec.generate_private_key(ec.SECP256R1())
    return b64url(key.private_numbers().private_value.to_bytes(32, "big"))


def vapid_public_key(private_key: str) -> str:
    """The applicationServerKey a site subscribes with: the public point, uncompressed, base64url."""
    public = Vapid.from_string(private_key).public_key
    return b64url(
        public.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    )


class WebPushSettings(ProviderSettings):
    vapid_subject: Annotated[
        str,
        Field(min_length=1, max_length=200),
        FormField(
            lazy("Contact for push services"),
            placeholder="mailto:admin@shop.example",
            hint=lazy("A mailto: or https: address push services may use to reach you."),
        ),
    ]
    vapid_private_key: Annotated[
        str | None,
        Field(max_length=500),
        FormField(
            lazy("VAPID private key"),
            widget="password",
            secret=True,
            hint=lazy("Generated when left empty; the site subscribes with the public key shown beside."),
        ),
    ] = None
    ttl_seconds: Annotated[
        int,
        Field(ge=0, le=28 * 24 * 3600),
        FormField(lazy("Lifetime when the message has none, seconds"), widget="number"),
    ] = DEFAULT_TTL
    timeout_seconds: Annotated[
        int, Field(ge=1, le=120), FormField(lazy("Timeout, seconds"), widget="number")
    ] = 15

    def completed(self) -> WebPushSettings:
        """The settings with a VAPID key pair generated when none was given."""
        if self.vapid_private_key:
            return self
        return self.model_copy(update={"vapid_private_key": new_vapid_private_key()})

    def public_key(self) -> str | None:
        return vapid_public_key(self.vapid_private_key) if self.vapid_private_key else None

    def check(self) -> None:
        if not self.vapid_subject.startswith(("mailto:", "https://")):
            raise InvalidInput.for_field("vapid_subject", "Start the contact with mailto: or https://")
        if self.vapid_private_key:
            try:
                vapid_public_key(self.vapid_private_key)
            except Exception:
                raise InvalidInput.for_field("vapid_private_key", "This is not a VAPID private key") from None


def subscription_of(token: str) -> dict[str, Any]:
    """The browser's subscription stored as the push token; anything else is not a web push token."""
    try:
        info = json.loads(token)
    except ValueError:
        info = None
    keys = info.get("keys") if isinstance(info, dict) else None
    endpoint = info.get("endpoint") if isinstance(info, dict) else None
    if not isinstance(endpoint, str) or not isinstance(keys, dict) or not {"p256dh", "auth"} <= set(keys):
        raise PermanentError("not a Web Push subscription", invalid_contact=True)
    return {"endpoint": endpoint, "keys": {"p256dh": keys["p256dh"], "auth": keys["auth"]}}


def payload_of(message: OutgoingMessage) -> str:
    """What the site's service worker shows: title, text, image and the link to open."""
    content = message.content
    if not isinstance(content, PushContent) or not (content.title or content.body):
        raise PermanentError("a push needs a title or a text")
    data = {"title": content.title, "body": content.body, "image": content.image_url, "link": content.link}
    return json.dumps(data | {"message_id": message.message_id}, ensure_ascii=False)


def push_error(status: int, text: str) -> SendError:
    words = f"HTTP {status}: {text[:300]}".strip()
    if status in (404, 410):
        return PermanentError(words, invalid_contact=True)
    if status in (429, 500, 502, 503, 504):
        return RetryableError(words)
    return PermanentError(words)


def never_connected(error: requests.RequestException) -> bool:
    """Whether the request failed before a connection existed (so the push service never saw it)."""
    reason = error.args[0] if error.args else None
    reason = getattr(reason, "reason", reason)
    return isinstance(error, requests.ConnectTimeout) or isinstance(
        reason, (NewConnectionError, ConnectTimeoutError)
    )


class WebPushSender:
    """Encrypts and posts each message to its subscription's push service; one HTTP session per batch."""

    is_sandbox = False

    def __init__(self, settings: WebPushSettings) -> None:
        self.settings = settings.completed()
        self.vapid = Vapid.from_string(self.settings.vapid_private_key or "")
        self._session: requests.Session | None = None

    def open(self) -> None:
        if self._session is None:
            self._session = requests.Session()

    def close(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            session.close()

    def send(self, message: OutgoingMessage, handing_over: HandingOver) -> Accepted:
        subscription = subscription_of(message.recipient)
        payload = payload_of(message)
        self.open()
        handing_over()
        response = self._post(subscription, payload, self._ttl(message))
        if response.status_code > 202:
            raise push_error(response.status_code, response.text)
        return Accepted(response.headers.get("Location"))

    def _post(self, subscription: dict[str, Any], payload: str, ttl: int) -> requests.Response:
        try:
            response = webpush(
                subscription,
                data=payload,
                vapid_private_key=self.vapid,
                vapid_claims={"sub": self.settings.vapid_subject},
                ttl=ttl,
                timeout=self.settings.timeout_seconds,
                requests_session=self._session,
            )
        except WebPushException as error:
            if error.response is None:
                raise PermanentError(
                    f"cannot encrypt for this subscription: {error}", invalid_contact=True
                ) from error
            return error.response  # type: ignore[no-any-return]
        except requests.RequestException as error:
            if never_connected(error):
                raise RetryableError(f"cannot reach the push service: {error}") from error
            raise OutcomeUnknown(f"no answer from the push service: {error}") from error
        assert isinstance(response, requests.Response)
        return response

    def _ttl(self, message: OutgoingMessage) -> int:
        if message.expires_at is None:
            return self.settings.ttl_seconds
        seconds = int((message.expires_at - utcnow()).total_seconds())
        if seconds <= 0:
            raise PermanentError("the message's lifetime has passed")
        return seconds
