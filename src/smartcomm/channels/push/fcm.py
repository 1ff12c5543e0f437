"""Push through Firebase Cloud Messaging, HTTP v1 API.

A service account (its JSON key, encrypted at rest) signs a JWT that google-auth exchanges at the
account's `token_uri` for an access token; each message is one `POST /v1/projects/{id}/messages:send`
with the notification (title, body, image) and the deep link in `data`. A token FCM calls
`UNREGISTERED` (404) or `INVALID_ARGUMENT` (400) is dead: the error says so (`invalid_contact`).
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import httpx
from google.auth import exceptions as google_errors
from google.auth.transport.requests import Request as GoogleRequest
from google.oauth2 import service_account
from pydantic import Field

from smartcomm.channels.base import (
    Accepted,
    HandingOver,
    OutgoingMessage,
    PermanentError,
    PushContent,
    RetryableError,
    SendError,
)
from smartcomm.channels.checks import ProviderSettings, check_url
from smartcomm.channels.fields import FormField
from smartcomm.channels.http_json import post_json, retry_after
from smartcomm.kit.errors import InvalidInput
from smartcomm.kit.i18n import lazy
from smartcomm.kit.time import utcnow

SCOPE = "https://www.googleapis.com/auth/firebase.messaging"
DEAD_TOKEN = {"UNREGISTERED", "INVALID_ARGUMENT", "SENDER_ID_MISMATCH"}
_ACCOUNT_KEYS = ("client_email", "private_key", "token_uri")


class FcmSettings(ProviderSettings):
    service_account_json: Annotated[
        str,
        Field(min_length=2, max_length=20000),
        FormField(
            lazy("Service account key (JSON)"),
            widget="textarea",
            secret=True,
            hint=lazy("Firebase console → Project settings → Service accounts → Generate new private key."),
        ),
    ]
    project_id: Annotated[
        str | None,
        Field(max_length=100),
        FormField(lazy("Project ID"), hint=lazy("Taken from the key when empty.")),
    ] = None
    base_url: Annotated[
        str, Field(min_length=1, max_length=500), FormField(lazy("API address"), widget="url")
    ] = "https://fcm.googleapis.com"
    timeout_seconds: Annotated[
        int, Field(ge=1, le=120), FormField(lazy("Timeout, seconds"), widget="number")
    ] = 15

    def account(self) -> dict[str, Any]:
        """The service account's key as a dict, or an error naming the field."""
        try:
            info = json.loads(self.service_account_json)
        except ValueError:
            info = None
        if not isinstance(info, dict) or not all(isinstance(info.get(k), str) for k in _ACCOUNT_KEYS):
            raise InvalidInput.for_field(
                "service_account_json",
                "Paste the service account's JSON key as the Firebase console gives it",
            )
        return info

    def project(self) -> str:
        project = self.project_id or self.account().get("project_id")
        if not isinstance(project, str) or not project:
            raise InvalidInput.for_field("project_id", "Enter the Firebase project ID")
        return project

    def check(self) -> None:
        self.account()
        self.project()
        check_url("base_url", self.base_url)


def fcm_message(message: OutgoingMessage) -> dict[str, Any]:
    """The FCM v1 message: the notification, our id and the deep link as data, the lifetime as TTL."""
    content = message.content
    if not isinstance(content, PushContent) or not (content.title or content.body):
        raise PermanentError("a push needs a title or a text")
    notification = {"title": content.title, "body": content.body}
    if content.image_url:
        notification["image"] = content.image_url
    data = {"message_id": str(message.message_id)}
    if content.link:
        data["link"] = content.link
    body: dict[str, Any] = {"token": message.recipient, "notification": notification, "data": data}
    if message.expires_at is not None:
        seconds = max(0, int((message.expires_at - utcnow()).total_seconds()))
        body["android"] = {"ttl": f"{seconds}s"}
        body["apns"] = {"headers": {"apns-expiration": str(int(message.expires_at.timestamp()))}}
    if content.link and content.link.startswith("https://"):
        body["webpush"] = {"fcm_options": {"link": content.link}}
    return {"message": body}


def fcm_error(response: httpx.Response) -> SendError:
    """FCM's answer as the ledger's error: a dead token is final and marks the token invalid; quota and
    server errors wait (Retry-After); refused credentials wait for the settings to be fixed."""
    error = _error_body(response)
    codes = {str(error.get("status", ""))} | {
        str(detail.get("errorCode", "")) for detail in error.get("details", []) if isinstance(detail, dict)
    }
    words = (
        f"HTTP {response.status_code} {'/'.join(sorted(c for c in codes if c))}: {error.get('message', '')}"
    )
    if response.status_code in (429, 500, 502, 503, 504):
        return RetryableError(words.strip(), retry_after=retry_after(response))
    if response.status_code == 401:
        return RetryableError(f"FCM refused our credentials: {words}")
    return PermanentError(words.strip(), invalid_contact=bool(codes & DEAD_TOKEN))


def _error_body(response: httpx.Response) -> dict[str, Any]:
    try:
        error = response.json().get("error")
    except (ValueError, AttributeError):
        error = None
    return error if isinstance(error, dict) else {"message": response.text[:300]}


class FcmSender:
    """Sends through FCM with one HTTP connection pool and one access token for the batch."""

    is_sandbox = False

    def __init__(self, settings: FcmSettings) -> None:
        self.settings = settings
        self.url = f"{settings.base_url.rstrip('/')}/v1/projects/{settings.project()}/messages:send"
        account = settings.account()
        self.token_uri = account["token_uri"]
        self.credentials = service_account.Credentials.from_service_account_info(  # type: ignore[no-untyped-call]
            account, scopes=[SCOPE]
        )
        self._client: httpx.Client | None = None
        self._token_request = GoogleRequest()

    def open(self) -> None:
        if self._client is None:
            self._client = httpx.Client(timeout=self.settings.timeout_seconds)

    def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            client.close()

    def send(self, message: OutgoingMessage, handing_over: HandingOver) -> Accepted:
        body = fcm_message(message)
        self.open()
        assert self._client is not None
        headers = {"Authorization": f"Bearer {self._access_token()}"}
        response = self._post(body, headers, handing_over)
        if response.status_code == 401:  # a token revoked early: FCM did not take the message, try once more
            self.credentials.token = None
            headers = {"Authorization": f"Bearer {self._access_token()}"}
            response = self._post(body, headers, lambda: None)
        if response.is_success:
            name = response.json().get("name")
            return Accepted(str(name) if name else None)
        raise fcm_error(response)

    def _post(
        self, body: dict[str, Any], headers: dict[str, str], handing_over: HandingOver
    ) -> httpx.Response:
        assert self._client is not None
        self._client.headers.update(headers)
        return post_json(self._client, self.url, body, handing_over)

    def _access_token(self) -> str:
        """The cached access token, fetched again from the token endpoint when missing or expired."""
        if not self.credentials.valid:
            try:
                self.credentials.refresh(self._token_request)
            except google_errors.GoogleAuthError as error:
                raise RetryableError(f"no access token from {self.token_uri}: {error}") from error
        return str(self.credentials.token)
