"""The HTTP-JSON SMS provider and the Viber aggregator against real HTTP servers on loopback."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import pytest

from smartcomm.channels.base import (
    Channel,
    OutcomeUnknown,
    OutgoingMessage,
    PermanentError,
    RetryableError,
    SenderIdentity,
    SmsContent,
    ViberContent,
)
from smartcomm.channels.receipts import CallbackRefused, CallbackRequest, DeliveryState
from smartcomm.channels.sms.http import SmsHttpSettings, sms_http_callback, sms_http_sender
from smartcomm.channels.viber.aggregator import ViberSettings, viber_callback, viber_sender
from smartcomm.kit.errors import InvalidInput
from smartcomm.kit.time import utcnow
from tests.channels.http_server import Answer, http_server


class Handovers:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self) -> None:
        self.count += 1


def sms(phone: str = "+79161234567", text: str = "Код 4711") -> OutgoingMessage:
    return OutgoingMessage(77, Channel.SMS, phone, SmsContent(text))


def sms_settings(url: str, **values: object) -> SmsHttpSettings:
    return SmsHttpSettings.model_validate({"url": url, "token": "tok-1", "sender_name": "SHOP"} | values)


def send(sender, message: OutgoingMessage, handovers: Handovers | None = None):
    sender.open()
    try:
        return sender.send(message, handovers or Handovers())
    finally:
        sender.close()


def test_sms_body_follows_the_field_mapping_and_the_id_is_read_by_its_path() -> None:
    with http_server(lambda r: Answer(200, {"result": {"messages": [{"id": "P-981"}]}})) as server:
        settings = sms_settings(
            server.url + "/v1/send",
            phone_field="message.to",
            text_field="message.body",
            sender_field="message.from",
            message_id_field="reference",
            extra_fields='{"route": "marketing"}',
            id_path="result.messages.0.id",
        )
        accepted = send(sms_http_sender(settings), sms())
        request = server.requests[0]
    assert accepted.provider_message_id == "P-981" and not accepted.delivered
    assert request.path == "/v1/send" and request.headers["authorization"] == "Bearer tok-1"
    assert request.json() == {
        "route": "marketing",
        "message": {"to": "+79161234567", "body": "Код 4711", "from": "SHOP"},
        "reference": "77",
    }


def test_basic_and_header_authentication() -> None:
    with http_server(lambda r: Answer(200, {"id": 1})) as server:
        send(sms_http_sender(sms_settings(server.url, auth="basic", username="shop", password="pw")), sms())
        send(sms_http_sender(sms_settings(server.url, auth="header", header_name="X-API-Key")), sms())
        basic, header = server.requests
    assert basic.headers["authorization"] == "Basic " + base64.b64encode(b"shop:pw").decode()
    assert header.headers["x-api-key"] == "tok-1" and "authorization" not in header.headers


def test_http_answers_map_onto_retryable_and_permanent_errors() -> None:
    answers = {
        "/busy": Answer(429, {"error": "slow down"}, {"Retry-After": "30"}),
        "/down": Answer(503, {"error": "maintenance"}),
        "/bad": Answer(400, {"error": "invalid number format"}),
        "/denied": Answer(401, {"error": "bad token"}),
    }
    with http_server(lambda r: answers[r.path]) as server:
        outcomes = {}
        for path in answers:
            with pytest.raises((RetryableError, PermanentError)) as caught:
                send(sms_http_sender(sms_settings(server.url + path)), sms())
            outcomes[path] = caught.value
    assert isinstance(outcomes["/busy"], RetryableError) and outcomes["/busy"].retry_after == 30
    assert isinstance(outcomes["/down"], RetryableError) and "maintenance" in str(outcomes["/down"])
    assert isinstance(outcomes["/bad"], PermanentError) and "invalid number format" in str(outcomes["/bad"])
    assert isinstance(outcomes["/denied"], RetryableError) and "credentials" in str(outcomes["/denied"])


def test_no_server_is_retryable_and_no_answer_is_an_unknown_outcome() -> None:
    import services

    with pytest.raises(RetryableError, match="cannot connect"):
        send(sms_http_sender(sms_settings(f"http://127.0.0.1:{services.free_port()}")), sms())
    with http_server(lambda r: Answer(hang_up=True)) as server:
        handovers = Handovers()
        with pytest.raises(OutcomeUnknown):
            send(sms_http_sender(sms_settings(server.url)), sms(), handovers)
        received = len(server.requests)
    assert handovers.count == 1 and received == 1


def test_sms_callbacks_need_the_secret_and_map_statuses() -> None:
    settings = sms_settings("https://api.example.com/send", callback_secret="cb-secret")
    body = json.dumps(
        [
            {"id": "P-1", "status": "DELIVERED"},
            {"id": "P-2", "status": "expired"},
            {"id": "P-3", "status": "sent"},
        ]
    ).encode()
    updates = sms_http_callback(settings, CallbackRequest(body, {"x-callback-token": "cb-secret"}))
    assert [(u.provider_message_id, u.state) for u in updates] == [
        ("P-1", DeliveryState.DELIVERED),
        ("P-2", DeliveryState.UNDELIVERED),
    ]
    one = sms_http_callback(
        settings, CallbackRequest(b'{"id": 5, "status": "delivered"}', query={"token": "cb-secret"})
    )
    assert [(u.provider_message_id, u.state) for u in one] == [("5", DeliveryState.DELIVERED)]
    for refused in (CallbackRequest(body), CallbackRequest(body, {"x-callback-token": "guess"})):
        with pytest.raises(CallbackRefused):
            sms_http_callback(settings, refused)
    with pytest.raises(CallbackRefused):
        sms_http_callback(settings.model_copy(update={"callback_secret": None}), CallbackRequest(body))


def test_settings_name_the_missing_field() -> None:
    with pytest.raises(InvalidInput) as caught:
        SmsHttpSettings.model_validate({"url": "https://x.example/send", "auth": "bearer"}).check()
    assert caught.value.errors[0].field == "token"
    with pytest.raises(InvalidInput) as caught:
        SmsHttpSettings.model_validate({"url": "ftp://x.example", "auth": "none"}).check()
    assert caught.value.errors[0].field == "url"
    with pytest.raises(InvalidInput) as caught:
        SmsHttpSettings.model_validate(
            {"url": "https://x.example", "auth": "none", "extra_fields": "[1]"}
        ).check()
    assert caught.value.errors[0].field == "extra_fields"


def viber(content: ViberContent, expires_in: timedelta | None = timedelta(hours=2)) -> OutgoingMessage:
    expires_at = utcnow() + expires_in if expires_in else None
    return OutgoingMessage(
        91, Channel.VIBER, "+79161234567", content, SenderIdentity(name=None), expires_at=expires_at
    )


def viber_settings(url: str, **values: object) -> ViberSettings:
    return ViberSettings.model_validate(
        {"url": url, "token": "v-tok", "sender_name": "Ромашка", "id_path": "message_id"} | values
    )


def test_a_viber_message_carries_text_button_image_and_lifetime() -> None:
    content = ViberContent(
        "Анна, скидка 20 % до воскресенья",
        "Открыть",
        "https://shop.example/sale",
        "https://cdn.shop.example/sale.png",
    )
    with http_server(lambda r: Answer(200, {"message_id": "VB-1"})) as server:
        accepted = send(viber_sender(viber_settings(server.url)), viber(content))
        body = server.requests[0].json()
    assert accepted.provider_message_id == "VB-1"
    assert body["to"] == "+79161234567" and body["from"] == "Ромашка" and body["client_id"] == "91"
    assert body["text"] == content.text and body["image_url"] == content.image_url
    assert body["button"] == {"caption": "Открыть", "url": "https://shop.example/sale"}
    assert 7000 < body["ttl"] <= 7200


def test_viber_rules_refuse_a_message_before_anything_is_sent() -> None:
    broken = [
        ViberContent("Hi", "Open", None),
        ViberContent("Hi", None, "https://shop.example"),
        ViberContent("Hi", "Open", "javascript:alert(1)"),
        ViberContent("x" * 1001),
    ]
    with http_server(lambda r: Answer(200, {"message_id": "never"})) as server:
        handovers = Handovers()
        for content in broken:
            with pytest.raises(PermanentError):
                send(viber_sender(viber_settings(server.url)), viber(content), handovers)
        with pytest.raises(PermanentError, match="lifetime"):
            send(viber_sender(viber_settings(server.url)), viber(ViberContent("Hi"), timedelta(seconds=-1)))
        requests = server.requests
    assert requests == [] and handovers.count == 0


def test_viber_callbacks_report_delivered_and_read() -> None:
    settings = viber_settings(
        "https://api.example.com/viber", callback_secret="s", callback_status_path="state"
    )
    body = json.dumps(
        [
            {"id": "VB-1", "state": "delivered"},
            {"id": "VB-1", "state": "seen"},
            {"id": "VB-2", "state": "failed"},
        ]
    ).encode()
    updates = viber_callback(settings, CallbackRequest(body, {"x-callback-token": "s"}))
    assert [(u.provider_message_id, u.state) for u in updates] == [
        ("VB-1", DeliveryState.DELIVERED),
        ("VB-1", DeliveryState.READ),
        ("VB-2", DeliveryState.UNDELIVERED),
    ]
