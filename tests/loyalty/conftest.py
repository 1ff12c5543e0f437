"""Helpers of the loyalty tests: the loopback loyalty system (tests/webhooks), the API client, customers,
the loyalty system's address, and what was written."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from smartcomm.audit.actor import Actor
from smartcomm.customers.schemas import CustomerIn
from smartcomm.customers.service import customer_service
from smartcomm.models import (
    BonusExpiration,
    Customer,
    DomainEvent,
    LoyaltyAccount,
    LoyaltyRequest,
    PointsEntry,
)
from smartcomm.settings.schemas import DeliverySettings
from smartcomm.settings.service import settings_service
from tests.api.conftest import api  # noqa: F401 (the fixture)
from tests.imports.conftest import write_csv  # noqa: F401 (the fixture)
from tests.webhooks.conftest import SECRET, loyalty  # noqa: F401 (the loopback loyalty system)

ACTOR = Actor.system("tests")
LOYALTY_TABLES: dict[str, Any] = {
    "accounts": LoyaltyAccount,
    "expirations": BonusExpiration,
    "points": PointsEntry,
    "requests": LoyaltyRequest,
}


def connect(session: Session, url: str | None, secret: str | None = SECRET) -> None:
    """Point the loyalty system's webhook (Settings → General → Loyalty system) at `url`."""
    settings_service.update(session, ACTOR, DeliverySettings, {"webhook_url": url, "webhook_secret": secret})
    session.commit()


def member(session: Session, external_id: str = "C-1", **fields: Any) -> Customer:
    customer, _ = customer_service.upsert(session, ACTOR, CustomerIn(external_id=external_id, **fields))
    session.commit()
    return customer


def counts(session: Session) -> dict[str, int]:
    """Rows of every loyalty table (and customers)."""
    found = {
        name: session.scalar(select(func.count()).select_from(model))
        for name, model in LOYALTY_TABLES.items()
    }
    return {**found, "customers": session.scalar(select(func.count()).select_from(Customer))}


def events(session: Session, kind: str) -> list[DomainEvent]:
    return list(session.scalars(select(DomainEvent).where(DomainEvent.kind == kind).order_by(DomainEvent.id)))


def changed_customers(session: Session) -> list[list[int]]:
    """The customers each `bonus.changed` event names, oldest event first."""
    return [sorted(event.payload.get("customer_ids", [])) for event in events(session, "bonus.changed")]
