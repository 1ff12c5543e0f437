"""Push against loopback servers: FCM HTTP v1 with its OAuth token endpoint, and a Web Push service that
decrypts what it receives."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from datetime import timedelta
from urllib.parse import parse_qs

import http_ece
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from smartcomm.channels.base import (
    Channel,
    OutgoingMessage,
    PermanentError,
    PushContent,
    RetryableError,
)
from smartcomm.channels.push.fcm import SCOPE, FcmSender, FcmSettings
from smartcomm.channels.push.webpush import WebPushSender, WebPushSettings, b64url, vapid_public_key
from smartcomm.kit.errors import InvalidInput
from smartcomm.kit.time import utcnow
from tests.channels.http_server import Answer, Request, http_server
from tests.channels.tls import rsa_key_pem

# google-auth names Google's token endpoint as the audience whatever `token_uri` the key gives.
GOOGLE_TOKEN_AUDIENCE = "https://oauth2.googleapis.com/token"
CONTENT = PushContent(
    "Скидка 20 %", "Только до воскресенья, Анна", "https://cdn.shop.example/p.png", "shop://sale/42"
)


class Handovers:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self) -> None:
        self.count += 1


def push(token: str, message_id: int = 5, expires_in: timedelta | None = None) -> OutgoingMessage:
    expires_at = utcnow() + expires_in if expires_in else None
    return OutgoingMessage(message_id, Channel.PUSH, token, CONTENT, expires_at=expires_at)


@dataclass
class FakeFcm:
    """Google's token endpoint and the FCM send method, checking the JWT and the bearer token."""

    public_key_pem: bytes
    client_email: str
    tokens_issued: int = 0
    failures: list[str] = field(default_factory=list)
    url: str = ""

    def __call__(self, request: Request) -> Answer:
        if request.path == "/token":
            return self.token(request)
        if request.headers.get("authorization") != f"Bearer at-{self.tokens_issued}":
            return Answer(401, {"error": {"code": 401, "status": "UNAUTHENTICATED", "message": "bad token"}})
        return self.send(request.json()["message"])

    def token(self, request: Request) -> Answer:
        form = {k: v[0] for k, v in parse_qs(request.body.decode()).items()}
        claims = jwt.decode(
            form["assertion"], self.public_key_pem, algorithms=["RS256"], audience=GOOGLE_TOKEN_AUDIENCE
        )
        if (
            form["grant_type"] != "urn:ietf:params:oauth:grant-type:jwt-bearer"
            or claims["iss"] != self.client_email
        ):
            return Answer(400, {"error": "invalid_grant"})
        if SCOPE not in claims["scope"].split():
            return Answer(400, {"error": "invalid_scope"})
        self.tokens_issued += 1
        return Answer(
            200, {"access_token": f"at-{self.tokens_issued}", "expires_in": 3600, "token_type": "Bearer"}
        )

    def send(self, message: dict) -> Answer:
        errors = {
            "dead-token": (404, "NOT_FOUND", "UNREGISTERED"),
            "bad-token": (400, "INVALID_ARGUMENT", "INVALID_ARGUMENT"),
            "busy-token": (429, "RESOURCE_EXHAUSTED", "QUOTA_EXCEEDED"),
            "down-token": (503, "UNAVAILABLE", "UNAVAILABLE"),
        }
        if message["token"] in errors:
            status, name, code = errors[message["token"]]
            detail = {"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": code}
            body = {"error": {"code": status, "status": name, "message": "refused", "details": [detail]}}
            return Answer(status, body, {"Retry-After": "17"} if status == 429 else {})
        return Answer(200, {"name": f"projects/demo/messages/0:{message['data']['message_id']}"})


@pytest.fixture
def fcm():
    key = rsa_key_pem()
    public = serialization.load_pem_private_key(key.encode(), None).public_key()
    fake = FakeFcm(
        public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo),
        "push@demo.iam.gserviceaccount.com",
    )
    with http_server(fake) as server:
        fake.url = server.url
        account = {
            "type": "service_account",
            "project_id": "demo",
            "private_key_id": "k1",
            "private_key": key,
            "client_email": fake.client_email,
            "client_id": "1",
            "token_uri": f"{server.url}/token",
        }
        settings = FcmSettings(service_account_json=json.dumps(account), base_url=server.url)
        yield fake, server, settings


def test_fcm_gets_a_token_once_and_sends_the_notification_with_the_deep_link(fcm) -> None:
    fake, server, settings = fcm
    sender = FcmSender(settings)
    sender.open()
    handovers = Handovers()
    accepted = [sender.send(push(f"device-{n}", n, timedelta(hours=1)), handovers) for n in (1, 2, 3)]
    sender.close()
    sends = [r for r in server.requests if r.path != "/token"]
    assert fake.tokens_issued == 1 and handovers.count == 3
    assert [a.provider_message_id for a in accepted] == [f"projects/demo/messages/0:{n}" for n in (1, 2, 3)]
    assert {r.path for r in sends} == {"/v1/projects/demo/messages:send"}
    message = sends[0].json()["message"]
    assert message["token"] == "device-1"
    assert message["notification"] == {
        "title": CONTENT.title,
        "body": CONTENT.body,
        "image": CONTENT.image_url,
    }
    assert message["data"] == {"message_id": "1", "link": "shop://sale/42"}
    assert 3500 < int(message["android"]["ttl"].rstrip("s")) <= 3600


def test_fcm_dead_tokens_are_invalid_contacts_and_overload_waits(fcm) -> None:
    _, _, settings = fcm
    sender = FcmSender(settings)
    sender.open()
    outcomes = {}
    for token in ("dead-token", "bad-token", "busy-token", "down-token"):
        with pytest.raises((PermanentError, RetryableError)) as caught:
            sender.send(push(token), Handovers())
        outcomes[token] = caught.value
    sender.close()
    assert isinstance(outcomes["dead-token"], PermanentError) and outcomes["dead-token"].invalid_contact
    assert "UNREGISTERED" in str(outcomes["dead-token"])
    assert isinstance(outcomes["bad-token"], PermanentError) and outcomes["bad-token"].invalid_contact
    assert isinstance(outcomes["busy-token"], RetryableError) and outcomes["busy-token"].retry_after == 17
    assert isinstance(outcomes["down-token"], RetryableError) and not outcomes["down-token"].invalid_contact


def test_fcm_refetches_a_token_the_server_no_longer_accepts(fcm) -> None:
    fake, _, settings = fcm
    sender = FcmSender(settings)
    sender.open()
    sender.send(push("device-1", 1), Handovers())
    fake.tokens_issued += 1  # the server now expects a newer token than the cached one
    accepted = sender.send(push("device-2", 2), Handovers())
    sender.close()
    assert accepted.provider_message_id == "projects/demo/messages/0:2" and fake.tokens_issued == 3


def test_fcm_settings_refuse_a_key_that_is_not_a_service_account() -> None:
    with pytest.raises(InvalidInput) as caught:
        FcmSettings(service_account_json='{"type": "authorized_user"}').check()
    assert caught.value.errors[0].field == "service_account_json"


@dataclass
class Browser:
    """A browser's push subscription: its ECDH key pair and auth secret, as the site would store them."""

    endpoint: str
    private_key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )
    auth: bytes = b"0123456789abcdef"

    def token(self) -> str:
        public = self.private_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return json.dumps(
            {"endpoint": self.endpoint, "keys": {"p256dh": b64url(public), "auth": b64url(self.auth)}}
        )

    def decrypt(self, body: bytes) -> dict:
        return json.loads(
            http_ece.decrypt(body, private_key=self.private_key, auth_secret=self.auth, version="aes128gcm")
        )


def vapid_claims(request: Request) -> tuple[dict, str]:
    """The VAPID JWT of a push request, verified with the public key it names."""
    scheme, _, value = request.headers["authorization"].partition(" ")
    parts = dict(item.split("=", 1) for item in value.split(","))
    raw = base64.urlsafe_b64decode(parts["k"] + "=" * (-len(parts["k"]) % 4))
    key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), raw)
    origin = "http://" + request.headers["host"]
    assert scheme == "vapid"
    return jwt.decode(parts["t"], key, algorithms=["ES256"], audience=origin), parts["k"]


def test_web_push_arrives_encrypted_for_the_subscription_and_signed_with_vapid() -> None:
    answers = {"/push/gone": Answer(410, b"gone"), "/push/missing": Answer(404, b"no such subscription")}

    def service(request: Request) -> Answer:
        return answers.get(request.path, Answer(201, b"", {"Location": f"/messages{request.path[5:]}"}))

    with http_server(service) as server:
        settings = WebPushSettings(vapid_subject="mailto:admin@shop.example").completed()
        browser = Browser(f"{server.url}/push/anna")
        sender = WebPushSender(settings)
        sender.open()
        accepted = sender.send(push(browser.token(), 9, timedelta(minutes=30)), Handovers())
        outcomes = []
        for path in ("gone", "missing"):
            with pytest.raises(PermanentError) as caught:
                sender.send(push(Browser(f"{server.url}/push/{path}").token()), Handovers())
            outcomes.append(caught.value)
        sender.close()
        delivered = server.requests[0]
    assert accepted.provider_message_id == "/messages/anna"
    assert delivered.headers["content-encoding"] == "aes128gcm"
    assert 1700 < int(delivered.headers["ttl"]) <= 1800
    assert browser.decrypt(delivered.body) == {
        "title": CONTENT.title,
        "body": CONTENT.body,
        "image": CONTENT.image_url,
        "link": CONTENT.link,
        "message_id": 9,
    }
    claims, public_key = vapid_claims(delivered)
    assert claims["sub"] == "mailto:admin@shop.example"
    assert public_key == vapid_public_key(settings.vapid_private_key or "") == settings.public_key()
    assert all(o.invalid_contact for o in outcomes) and "410" in str(outcomes[0])


def test_a_token_that_is_not_a_subscription_is_refused_before_sending() -> None:
    sender = WebPushSender(WebPushSettings(vapid_subject="mailto:admin@shop.example"))
    handovers = Handovers()
    with pytest.raises(PermanentError) as caught:
        sender.send(push("fcm-registration-token"), handovers)
    assert caught.value.invalid_contact and handovers.count == 0


def test_vapid_keys_are_generated_once_and_kept() -> None:
    settings = WebPushSettings(vapid_subject="mailto:admin@shop.example")
    completed = settings.completed()
    assert settings.vapid_private_key is None and completed.vapid_private_key
    assert completed.completed().vapid_private_key == completed.vapid_private_key
    assert len(base64.urlsafe_b64decode(completed.public_key() + "=")) == 65  # an uncompressed P-256 point
    with pytest.raises(InvalidInput) as caught:
        WebPushSettings(vapid_subject="admin@shop.example").check()
    assert caught.value.errors[0].field == "vapid_subject"
