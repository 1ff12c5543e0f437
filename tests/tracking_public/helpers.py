"""Test data for tracking and consent: customers, mailing categories and messages in the ledger as the
dispatcher leaves them once a provider took them."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from smartcomm.kit.time import utcnow
from smartcomm.models import (
    AuditEntry,
    Customer,
    DomainEvent,
    MailingCategory,
    Message,
    MessageEvent,
    Subscription,
)

_numbers = itertools.count(1)


def make_customer(session: Session, **values: Any) -> Customer:
    number = next(_numbers)
    fields: dict[str, Any] = {
        "external_id": f"T-{number}",
        "first_name": "Anna",
        "last_name": f"Smirnova{number}",
        "email": f"anna{number}@example.com",
        "email_valid": True,
        "phone": f"+7916{number:07d}",
        "phone_valid": True,
        "phone_type": "mobile",
        "custom": {},
    }
    customer = Customer(**(fields | values))
    session.add(customer)
    session.flush()
    return customer


def make_category(session: Session, code: str = "promo", name: str = "Promotions") -> MailingCategory:
    category = MailingCategory(code=code, name=name)
    session.add(category)
    session.flush()
    return category


def subscribe(
    session: Session, customer: Customer, category: MailingCategory, channel: str = "email"
) -> None:
    session.add(
        Subscription(customer_id=customer.id, category_id=category.id, channel=channel, subscribed=True)
    )
    session.flush()


def make_message(
    session: Session,
    customer: Customer | None,
    *,
    channel: str = "email",
    status: str = "delivered",
    sent_ago: timedelta = timedelta(hours=2),
    category: MailingCategory | None = None,
    source_kind: str = "mailing",
    **values: Any,
) -> Message:
    """A message sent `sent_ago` (delivered then, unless its status says otherwise)."""
    sent = utcnow() - sent_ago
    recipient = None
    if customer is not None:
        recipient = customer.email if channel == "email" else customer.phone
    fields: dict[str, Any] = {
        "idempotency_key": f"test-{next(_numbers):059d}",
        "source_kind": source_kind,
        "source_id": 7,
        "customer_id": customer.id if customer is not None else None,
        "channel": channel,
        "category_id": category.id if category is not None else None,
        "recipient": recipient,
        "status": status,
        "handed_over_at": sent,
        "sent_at": sent,
        "delivered_at": sent if status == "delivered" else None,
        "next_attempt_at": sent,
        "created_at": sent,
        "options": {},
    }
    message = Message(**(fields | values))
    session.add(message)
    session.flush()
    return message


def reload(session: Session, message: Message) -> Message:
    session.expire_all()
    found = session.get(Message, message.id)
    assert found is not None
    return found


def events_of(session: Session, message: Message) -> list[MessageEvent]:
    statement = select(MessageEvent).where(MessageEvent.message_id == message.id).order_by(MessageEvent.id)
    return list(session.scalars(statement))


def domain_events(session: Session, kind: str) -> list[DomainEvent]:
    """Events published by the transactions committed so far (written just before each commit)."""
    statement = select(DomainEvent).where(DomainEvent.kind == kind).order_by(DomainEvent.id)
    return list(session.scalars(statement))


def audit_of(session: Session, object_type: str, object_id: int) -> list[AuditEntry]:
    statement = (
        select(AuditEntry)
        .where(AuditEntry.object_type == object_type, AuditEntry.object_id == str(object_id))
        .order_by(AuditEntry.id)
    )
    return list(session.scalars(statement))


def at(message: Message, seconds: float) -> datetime:
    """A moment this long after the message was sent."""
    assert message.sent_at is not None
    return message.sent_at + timedelta(seconds=seconds)
