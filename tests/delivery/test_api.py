"""The transactional API: POST /api/v1/messages records the message (or both legs of a cascade) and
answers 202 with its status; GET /api/v1/messages/{id} follows it. A retried request never makes a second
message; a refused request writes nothing."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import time_machine
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from smartcomm.delivery import cascade
from smartcomm.delivery.ledger import Reason, Status
from smartcomm.models import AuditEntry, IdempotencyRecord, Message, MessageContent
from tests.api.conftest import ApiClient
from tests.delivery.helpers import add_push_token, email_template, history, make_customer, text_template


def count(session: Session, model: type[Any]) -> int:
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def sends(session: Session) -> int:
    return int(session.scalar(select(func.count()).where(AuditEntry.object_type == "message")) or 0)


def test_a_template_email_is_accepted_then_delivered_with_its_history(
    session: Session, api: ApiClient
) -> None:
    customer = make_customer(session, external_id="ERP-7")
    version = email_template(session)
    session.commit()
    body = {"channel": "email", "customer": {"external_id": "ERP-7"}, "template_id": version.template_id}
    response = api.post("/api/v1/messages", json=body)
    assert response.status_code == 202, response.text
    [accepted] = response.json()["messages"]
    assert (accepted["status"], accepted["recipient"], accepted["customer_id"]) == (
        "planned",
        customer.email,
        customer.id,
    )
    found = api.get(f"/api/v1/messages/{accepted['id']}").json()
    assert found["status"] == "delivered"
    assert [step["kind"] for step in found["history"]] == ["planned", "sent", "delivered"]
    assert sends(session) == 1


def test_a_retried_request_with_the_same_key_never_makes_a_second_message(
    session: Session, api: ApiClient
) -> None:
    make_customer(session, email="olga@example.com")
    version = email_template(session)
    session.commit()
    body = {"channel": "email", "customer": {"email": "Olga@Example.com"}, "template_version_id": version.id}
    first = api.post("/api/v1/messages", json=body, key="order-42")
    again = api.post("/api/v1/messages", json=body, key="order-42")
    assert again.headers.get("Idempotent-Replayed") == "true"
    session.execute(delete(IdempotencyRecord))  # the stored answers are kept a day; the ledger for ever
    session.commit()
    later = api.post("/api/v1/messages", json=body, key="order-42")
    ids = {r.json()["messages"][0]["id"] for r in (first, again, later)}
    assert len(ids) == 1 and count(session, Message) == 1
    assert sends(session) == 1
    other = api.post("/api/v1/messages", json=body, key="order-43")
    assert other.json()["messages"][0]["id"] not in ids and count(session, Message) == 2


def test_a_message_the_customer_refused_is_suppressed_at_once_with_the_reason(
    session: Session, api: ApiClient
) -> None:
    customer = make_customer(session, allow_sms=False)
    version = text_template(session, "sms")
    session.commit()
    body = {"channel": "sms", "customer": {"id": customer.id}, "template_id": version.template_id}
    [message] = api.post("/api/v1/messages", json=body).json()["messages"]
    assert (message["status"], message["reason"]) == ("suppressed", "unsubscribed_channel")


def test_inline_content_is_rendered_for_the_customer(session: Session, api: ApiClient) -> None:
    customer = make_customer(session, first_name="Anna")
    session.commit()
    content = {
        "channel": "push",
        "title": "Order {{ event.order }}",
        "body": "{{ client.first_name }}, it is on its way",
    }
    customer_token = "tok-anna-1"
    add_push_token(session, customer, customer_token)
    session.commit()
    body = {
        "channel": "push",
        "customer": {"id": customer.id},
        "content": content,
        "context": {"order": "A-17"},
    }
    [accepted] = api.post("/api/v1/messages", json=body).json()["messages"]
    assert accepted["recipient"] == customer_token
    stored = session.get(MessageContent, accepted["id"])
    assert stored is not None and stored.content is not None
    assert (stored.content["title"], stored.content["body"]) == ("Order A-17", "Anna, it is on its way")


def test_refused_requests_name_the_field_and_write_nothing(session: Session, api: ApiClient) -> None:
    customer = make_customer(session, email="twin@example.com")
    make_customer(session, email="twin@example.com")
    sms = text_template(session, "sms")
    session.commit()
    cases: list[tuple[dict[str, Any], int, str | None]] = [
        ({"channel": "email", "customer": {"id": 10**9}, "template_id": sms.template_id}, 404, None),
        (
            {"channel": "email", "customer": {"id": customer.id}, "template_id": sms.template_id},
            422,
            "template_id",
        ),
        (
            {"channel": "email", "customer": {"email": "twin@example.com"}, "template_id": sms.template_id},
            409,
            None,
        ),
        ({"channel": "sms", "customer": {"id": customer.id}, "template_id": 10**9}, 404, None),
        (
            {
                "channel": "sms",
                "customer": {"id": customer.id},
                "content": {"channel": "sms", "text": "{{ client.first_name "},
            },
            422,
            "content.text",
        ),
        ({"channel": "sms", "customer": {"id": customer.id}}, 422, None),
        (
            {
                "channel": "sms",
                "customer": {"id": customer.id},
                "template_id": sms.template_id,
                "category": "nope",
            },
            422,
            "category",
        ),
        (
            {
                "channel": "sms_viber",
                "customer": {"id": customer.id},
                "content": {"channel": "viber", "text": "Hi"},
            },
            422,
            "sms",
        ),
    ]
    for body, status, field in cases:
        response = api.post("/api/v1/messages", json=body)
        assert response.status_code == status, (body, response.text)
        if field is not None:
            assert field in {error.get("field") for error in response.json()["errors"]}, response.text
    assert count(session, Message) == 0 and sends(session) == 0


def test_an_unknown_message_is_not_found(api: ApiClient) -> None:
    assert api.get("/api/v1/messages/999999").status_code == 404


def _cascade_body(customer_id: int, **extra: Any) -> dict[str, Any]:
    return {
        "channel": "sms_viber",
        "customer": {"id": customer_id},
        "content": {
            "channel": "viber",
            "text": "Your order is ready",
            "button_text": "Track",
            "button_url": "https://shop.example/t",
        },
        "sms": {"content": {"channel": "sms", "text": "Your order is ready"}},
    } | extra


def test_a_delivered_viber_message_cancels_its_sms_leg(session: Session, api: ApiClient) -> None:
    customer = make_customer(session, phone="+79161234562")  # the sandbox's Viber reaches even numbers
    session.commit()
    viber, sms = api.post("/api/v1/messages", json=_cascade_body(customer.id)).json()["messages"]
    assert (viber["channel"], sms["channel"], sms["cascade_of"]) == ("viber", "sms", viber["id"])
    assert (sms["status"], sms["reason"]) == ("planned", "cascade_wait")
    session.expire_all()
    assert session.get(Message, viber["id"]).status == Status.DELIVERED  # type: ignore[union-attr]
    leg = session.get(Message, sms["id"])
    assert leg is not None and (leg.status, leg.reason) == (Status.CANCELLED, Reason.CASCADE_DELIVERED)
    assert history(session, leg.id) == ["planned", "cancelled"]


def test_an_undelivered_viber_message_sends_its_sms_leg_after_the_timeout(
    session: Session, api: ApiClient
) -> None:
    customer = make_customer(session, phone="+79161234567")  # odd: the sandbox's Viber does not reach it
    session.commit()
    body = _cascade_body(customer.id, cascade_timeout_minutes=5)
    viber, sms = api.post("/api/v1/messages", json=body).json()["messages"]
    session.expire_all()
    sent = session.get(Message, viber["id"])
    assert sent is not None and sent.status == Status.SENT and sent.sent_at is not None
    assert cascade.check(session, [viber["id"]]) == 0  # not yet: the timeout runs
    with time_machine.travel(sent.sent_at + timedelta(minutes=5, seconds=1), tick=False):
        assert cascade.check(session, [viber["id"]]) == 1
        session.commit()  # the released leg wakes the dispatcher
    session.expire_all()
    leg = session.get(Message, sms["id"])
    assert leg is not None and leg.status == Status.DELIVERED and leg.recipient == "+79161234567"
    assert history(session, leg.id) == ["planned", "sent", "delivered"]
