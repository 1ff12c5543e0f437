"""Test data for the ledger: customers with contacts and consent, templates, and an SMTP provider pointed
at a loopback server — all through the services, as the product makes them."""

from __future__ import annotations

import itertools
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from smartcomm.audit.actor import Actor
from smartcomm.channels.service import channel_provider_service
from smartcomm.delivery.ledger import Source
from smartcomm.delivery.schemas import PlanRequest
from smartcomm.models import (
    Customer,
    MailingCategory,
    Message,
    MessageEvent,
    MessageTemplateVersion,
    PushToken,
)
from smartcomm.personalization.schemas import TemplateCreate
from smartcomm.personalization.service import template_service

ACTOR = Actor.system("tests")
_numbers = itertools.count(1)


def make_customer(session: Session, **values: Any) -> Customer:
    number = next(_numbers)
    fields: dict[str, Any] = {
        "external_id": f"D-{number}",
        "first_name": "Ivan",
        "last_name": f"Petrov{number}",
        "email": f"ivan{number}@example.com",
        "email_valid": True,
        "phone": f"+7916{number:07d}",
        "phone_valid": True,
        "phone_type": "mobile",
        "time_zone": "Europe/Moscow",
    }
    customer = Customer(**(fields | values))
    session.add(customer)
    session.flush()
    return customer


def add_push_token(session: Session, customer: Customer, token: str) -> PushToken:
    row = PushToken(customer_id=customer.id, token=token, platform="android")
    session.add(row)
    session.flush()
    return row


def make_category(session: Session, code: str = "news") -> MailingCategory:
    category = MailingCategory(code=code, name=code.title())
    session.add(category)
    session.flush()
    return category


def email_template(
    session: Session, subject: str = "Hello {{ client.first_name }}"
) -> MessageTemplateVersion:
    content = {
        "channel": "email",
        "editor": "html",
        "subject": subject,
        "html": "<p>Dear {{ client.first_name }}, see <a href='https://shop.example/sale'>the sale</a>.</p>",
    }
    return _template(session, content)


def text_template(
    session: Session, channel: str, text: str = "Hi {{ client.first_name }}!"
) -> MessageTemplateVersion:
    content: dict[str, Any] = {"channel": channel, "text": text}
    if channel == "push":
        content = {"channel": "push", "title": "Shop", "body": text}
    return _template(session, content)


def _template(session: Session, content: dict[str, Any]) -> MessageTemplateVersion:
    body = TemplateCreate.model_validate({"name": f"T{next(_numbers)}", "content": content})
    _, version = template_service.create(session, ACTOR, body)
    return version


def request_for(customer: Customer | None, version: MessageTemplateVersion, **values: Any) -> PlanRequest:
    fields: dict[str, Any] = {
        "source_kind": Source.TRANSACTIONAL,
        "channel": version.channel,
        "customer_id": customer.id if customer is not None else None,
        "template_version_id": version.id,
        "source_id": 1,
        "occurrence": "one",
    }
    return PlanRequest(**(fields | values))


def smtp_provider(session: Session, port: int) -> int:
    """An active SMTP provider sending to the loopback server on `port`."""
    form = {
        "name": "Loopback",
        "host": "127.0.0.1",
        "port": str(port),
        "security": "none",
        "from_address": "shop@shop.example",
        "timeout_seconds": "10",
    }
    provider = channel_provider_service.create(session, ACTOR, "email", "smtp", form)
    channel_provider_service.set_active(session, ACTOR, provider.id, True)
    return provider.id


def history(session: Session, message_id: int) -> list[str]:
    statement = (
        select(MessageEvent.kind).where(MessageEvent.message_id == message_id).order_by(MessageEvent.id)
    )
    return list(session.scalars(statement))


def reload(session: Session, message: Message) -> Message:
    session.expire_all()
    found = session.get(Message, message.id)
    assert found is not None
    return found
