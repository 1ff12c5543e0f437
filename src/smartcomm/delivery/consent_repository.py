"""Every SQL statement of consent: subscriptions read for the public pages, unsubscribe records, e-mail
confirmations and watcher groups."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from smartcomm.kit.repository import Repository
from smartcomm.models import (
    Customer,
    EmailConfirmation,
    MailingCategory,
    Subscription,
    UnsubscribeRecord,
    WatcherGroup,
)

CHUNK = 900


class ConsentRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def categories(self) -> list[MailingCategory]:
        return list(self.session.scalars(select(MailingCategory).order_by(MailingCategory.name)))

    def subscriptions_of(self, customer_id: int) -> dict[tuple[int, str], bool]:
        statement = select(Subscription).where(Subscription.customer_id == customer_id)
        return {(row.category_id, row.channel): row.subscribed for row in self.session.scalars(statement)}

    def subscription(self, customer_id: int, category_id: int, channel: str) -> bool | None:
        statement = select(Subscription.subscribed).where(
            Subscription.customer_id == customer_id,
            Subscription.category_id == category_id,
            Subscription.channel == channel,
        )
        return self.session.scalar(statement)

    def add_records(self, records: Sequence[UnsubscribeRecord]) -> None:
        self.session.add_all(records)
        self.session.flush()

    def records_of(self, customer_id: int) -> list[UnsubscribeRecord]:
        statement = (
            select(UnsubscribeRecord)
            .where(UnsubscribeRecord.customer_id == customer_id)
            .order_by(UnsubscribeRecord.id)
        )
        return list(self.session.scalars(statement))


class ConfirmationRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, confirmation: EmailConfirmation) -> EmailConfirmation:
        self.session.add(confirmation)
        self.session.flush()
        return confirmation

    def customers(self, ids: Sequence[int]) -> dict[int, Customer]:
        statement = select(Customer).where(Customer.id.in_(list(ids)))
        return {customer.id: customer for customer in self.session.scalars(statement)}

    def get(self, confirmation_id: int) -> EmailConfirmation | None:
        return self.session.get(EmailConfirmation, confirmation_id)

    def requested(self, pairs: Sequence[tuple[int, str]]) -> set[tuple[int, str]]:
        """Which (customer, address) pairs were asked to confirm already."""
        found: set[tuple[int, str]] = set()
        customers = sorted({customer_id for customer_id, _ in pairs})
        for start in range(0, len(customers), CHUNK):
            part = customers[start : start + CHUNK]
            statement = select(EmailConfirmation.customer_id, EmailConfirmation.email).where(
                EmailConfirmation.customer_id.in_(part)
            )
            found |= {(row.customer_id, row.email) for row in self.session.execute(statement)}
        return found

    def unconfirmed(self, customer_ids: Sequence[int]) -> list[Any]:
        """Customers among these with a valid e-mail that is not the one they confirmed: (id, email)."""
        found: list[Any] = []
        for start in range(0, len(customer_ids), CHUNK):
            part = list(customer_ids[start : start + CHUNK])
            statement = select(Customer.id, Customer.email).where(
                Customer.id.in_(part),
                Customer.email.is_not(None),
                Customer.email_valid.is_(True),
                (Customer.confirmed_email.is_(None)) | (Customer.confirmed_email != Customer.email),
            )
            found += self.session.execute(statement).all()
        return found

    def unconfirmed_after(self, after_id: int, limit: int) -> list[Any]:
        """The next customers (by id) with a valid e-mail not confirmed: for events about too many
        customers to list."""
        statement = (
            select(Customer.id, Customer.email)
            .where(
                Customer.id > after_id,
                Customer.email.is_not(None),
                Customer.email_valid.is_(True),
                (Customer.confirmed_email.is_(None)) | (Customer.confirmed_email != Customer.email),
            )
            .order_by(Customer.id)
            .limit(limit)
        )
        return list(self.session.execute(statement))

    def confirm_customer(self, customer_id: int, email: str, at: datetime) -> bool:
        """Mark the address confirmed, if it is still the customer's; False when it changed meanwhile."""
        statement = (
            update(Customer)
            .where(Customer.id == customer_id, Customer.email == email)
            .values(confirmed_email=email, email_confirmed_at=at)
            .execution_options(synchronize_session="fetch")
        )
        return bool(self.session.execute(statement).rowcount)  # type: ignore[attr-defined]

    def confirmed_addresses(self, customer_ids: Sequence[int]) -> dict[int, tuple[str | None, str | None]]:
        """{customer id: (current e-mail, confirmed e-mail)}."""
        found: dict[int, tuple[str | None, str | None]] = {}
        for start in range(0, len(customer_ids), CHUNK):
            part = list(customer_ids[start : start + CHUNK])
            statement = select(Customer.id, Customer.email, Customer.confirmed_email).where(
                Customer.id.in_(part)
            )
            found |= {row.id: (row.email, row.confirmed_email) for row in self.session.execute(statement)}
        return found


class WatcherRepository(Repository[WatcherGroup]):
    model = WatcherGroup

    def all(self) -> list[WatcherGroup]:
        return list(self.session.scalars(select(WatcherGroup).order_by(func.lower(WatcherGroup.name))))

    def by_name(self, name: str) -> WatcherGroup | None:
        statement = select(WatcherGroup).where(func.lower(WatcherGroup.name) == name.lower())
        return self.session.scalar(statement)

    def by_ids(self, ids: Sequence[int]) -> list[WatcherGroup]:
        if not ids:
            return []
        statement = select(WatcherGroup).where(WatcherGroup.id.in_(list(ids))).order_by(WatcherGroup.id)
        return list(self.session.scalars(statement))
