"""Test data for attribution: receipts, and messages of the ledger with their deliveries and opens, written
as the ledger and tracking leave them (milestones, counters and the history of events)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from smartcomm.models import AttributedReceipt, Customer, Message, MessageEvent, Receipt, ReceiptLine, Store

_numbers = itertools.count(1)
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def at(hours: float = 0, days: float = 0) -> datetime:
    return T0 + timedelta(hours=hours, days=days)


def make_customer(session: Session) -> Customer:
    customer = Customer(external_id=f"A-{next(_numbers)}", first_name="Olga")
    session.add(customer)
    session.flush()
    return customer


def store(session: Session) -> Store:
    found = session.scalar(select(Store).where(Store.code == "ATTR"))
    if found is None:
        found = Store(code="ATTR", name="Attribution store")
        session.add(found)
        session.flush()
    return found


def make_receipt(
    session: Session,
    customer: Customer,
    purchased_at: datetime,
    total: str = "100.00",
    status: str = "paid",
    lines: tuple[tuple[str, int | None], ...] = (("SKU-1", None),),
) -> Receipt:
    receipt = Receipt(
        number=f"N{next(_numbers)}",
        store_id=store(session).id,
        customer_id=customer.id,
        purchased_at=purchased_at,
        status=status,
        total=Decimal(total),
        item_count=Decimal(len(lines)),
    )
    session.add(receipt)
    session.flush()
    for position, (sku, category_id) in enumerate(lines, 1):
        session.add(
            ReceiptLine(
                receipt_id=receipt.id,
                position=position,
                customer_id=customer.id,
                purchased_at=purchased_at,
                is_purchase=status == "paid",
                sku=sku,
                category_id=category_id,
                quantity=Decimal(1),
                price=Decimal(total) / len(lines),
                amount=Decimal(total) / len(lines),
            )
        )
    session.flush()
    return receipt


def make_message(
    session: Session,
    customer: Customer,
    channel: str = "email",
    source_kind: str = "transactional",
    source_id: int | None = None,
    sent_at: datetime | None = None,
) -> Message:
    """A message handed to its provider (not delivered, not opened yet)."""
    sent = sent_at or T0
    message = Message(
        idempotency_key=f"attr-{next(_numbers)}",
        source_kind=source_kind,
        source_id=source_id,
        customer_id=customer.id,
        channel=channel,
        status="sent",
        created_at=sent,
        next_attempt_at=sent,
        sent_at=sent,
    )
    session.add(message)
    session.flush()
    return message


def deliver(session: Session, message: Message, when: datetime) -> Message:
    message.status, message.delivered_at = "delivered", message.delivered_at or when
    session.add(MessageEvent(message_id=message.id, kind="delivered", occurred_at=when))
    session.flush()
    return message


def open_(session: Session, message: Message, when: datetime, machine: bool = False) -> Message:
    """An open as tracking records it: people's and machines' counted apart, milestones by people only."""
    message.delivered_at = message.delivered_at or when
    if machine:
        message.machine_opens += 1
    else:
        message.opens += 1
        message.opened_at = message.opened_at or when
        message.status = "opened"
    session.add(MessageEvent(message_id=message.id, kind="opened", occurred_at=when, is_machine=machine))
    session.flush()
    return message


def pairs(session: Session) -> list[tuple[Any, ...]]:
    """Every attributed pair: (receipt, message, credited, source kind, source id, channel, amount,
    touched at)."""
    a = AttributedReceipt
    statement = select(
        a.receipt_id, a.message_id, a.credited, a.source_kind, a.source_id, a.channel, a.amount, a.touched_at
    ).order_by(a.receipt_id, a.message_id)
    return [tuple(row) for row in session.execute(statement)]


def credited(session: Session) -> dict[int, int]:
    """receipt id -> the message credited with it."""
    return {receipt: message for receipt, message, is_credited, *_ in pairs(session) if is_credited}
