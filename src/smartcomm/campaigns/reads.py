"""What triggers and exit rules read of the events a domain event names (by id, as the outbox carries
them): one query per batch of events."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from smartcomm.kit.bulk import chunked
from smartcomm.kit.outbox import Event
from smartcomm.models import Event as CustomerEvent
from smartcomm.models import WebEvent


def ids_in(events: Iterable[Event], key: str) -> list[int]:
    found: list[int] = []
    for event in events:
        found.extend(int(each) for each in event.payload.get(key) or ())
    return found


def customer_events(
    session: Session, ids: Collection[int], names: Collection[str] | None = None
) -> list[Any]:
    """The stored customer events with these ids (optionally of these names): id, customer_id, name,
    occurred_at, context — system events (no customer) included."""
    rows: list[Any] = []
    table = CustomerEvent
    for part in chunked(sorted(set(ids))):
        statement = select(table.id, table.customer_id, table.name, table.occurred_at, table.context).where(
            table.id.in_(part)
        )
        if names is not None:
            statement = statement.where(table.name.in_(list(names)))
        rows.extend(session.execute(statement.order_by(table.id)))
    return rows


def web_events(session: Session, ids: Collection[int], kinds: Collection[str] | None = None) -> list[Any]:
    """The stored web events with these ids that belong to a customer (optionally of these kinds)."""
    rows: list[Any] = []
    for part in chunked(sorted(set(ids))):
        statement = select(
            WebEvent.id,
            WebEvent.customer_id,
            WebEvent.kind,
            WebEvent.occurred_at,
            WebEvent.product_id,
            WebEvent.category_id,
            WebEvent.section,
            WebEvent.url,
            WebEvent.source_id,
            WebEvent.container_code,
            WebEvent.container_action,
            WebEvent.snapshot,
            WebEvent.context,
        ).where(WebEvent.id.in_(part), WebEvent.customer_id.is_not(None))
        if kinds is not None:
            statement = statement.where(WebEvent.kind.in_(list(kinds)))
        rows.extend(session.execute(statement.order_by(WebEvent.id)))
    return rows
