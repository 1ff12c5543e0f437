"""Small demo bases generated inside the test's transaction."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from smartcomm.delivery.tracking import links
from smartcomm.demo import DemoOptions, DemoSummary, generate
from smartcomm.models import Customer, Event, MailingCategory, Receipt, ReceiptLine, Store, Subscription
from smartcomm.personalization.renderer import renderer

AS_OF = date(2026, 6, 1)
# The purchase aggregates of a customer, with the id: what a load must compute exactly as
# `CustomerRepository.refresh_aggregates` does.
AGGREGATES = (
    Customer.id,
    Customer.receipt_count,
    Customer.total_amount,
    Customer.average_receipt,
    Customer.first_purchase_at,
    Customer.last_purchase_at,
)


@pytest.fixture(autouse=True)
def _fresh_caches() -> Iterator[None]:
    """The starters send messages: compiled versions and tracked links are cached by id for the life of
    the process, and rolled-back tests reuse ids."""
    renderer.forget()
    links.forget()
    yield
    renderer.forget()
    links.forget()


def make_demo(session: Session, customers: int = 150, seed: int = 7, **options: Any) -> DemoSummary:
    return generate(session, DemoOptions(customers=customers, seed=seed, as_of=AS_OF, **options))


def count(session: Session, model: type[Any], *where: Any) -> int:
    return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def digest(session: Session, statement: Select[Any]) -> str:
    """A checksum of every row of a query (natural keys only, so surrogate ids never matter)."""
    hasher = hashlib.sha256()
    for row in session.execute(statement):
        hasher.update(repr(tuple(row)).encode())
    return hasher.hexdigest()


def checksums(session: Session) -> dict[str, str]:
    customers = select(
        Customer.external_id,
        Customer.first_name,
        Customer.last_name,
        Customer.middle_name,
        Customer.gender,
        Customer.birth_date,
        Customer.city,
        Customer.email,
        Customer.phone,
        Customer.card_number,
        Customer.registered_at,
        Customer.receipt_count,
        Customer.total_amount,
        Customer.last_purchase_at,
    ).order_by(Customer.external_id)
    receipts = (
        select(
            Receipt.number,
            Store.code,
            Customer.external_id,
            Receipt.purchased_at,
            Receipt.status,
            Receipt.total,
            Receipt.bonus_spent,
        )
        .join(Store, Store.id == Receipt.store_id)
        .join(Customer, Customer.id == Receipt.customer_id)
        .order_by(Receipt.number)
    )
    lines = (
        select(
            Receipt.number, ReceiptLine.position, ReceiptLine.sku, ReceiptLine.quantity, ReceiptLine.amount
        )
        .join(Receipt, Receipt.id == ReceiptLine.receipt_id)
        .order_by(Receipt.number, ReceiptLine.position)
    )
    events = (
        select(Customer.external_id, Event.name, Event.occurred_at, Event.context)
        .join(Customer, Customer.id == Event.customer_id)
        .order_by(Event.id)
    )
    subscriptions = (
        select(Customer.external_id, MailingCategory.code, Subscription.channel, Subscription.subscribed)
        .join(Customer, Customer.id == Subscription.customer_id)
        .join(MailingCategory, MailingCategory.id == Subscription.category_id)
        .order_by(Customer.external_id, MailingCategory.code, Subscription.channel)
    )
    queries = {
        "customers": customers,
        "receipts": receipts,
        "lines": lines,
        "events": events,
        "subscriptions": subscriptions,
    }
    return {name: digest(session, query) for name, query in queries.items()}
