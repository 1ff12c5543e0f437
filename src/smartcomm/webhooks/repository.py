"""SQL of webhook deliveries: recording them once, claiming the due ones, writing each attempt's outcome."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, select, update
from sqlalchemy.dialects.postgresql import insert as postgres_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from smartcomm.models import WebhookDelivery

deliveries = cast(Table, WebhookDelivery.__table__)
PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"


class WebhookRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add_once(self, rows: Sequence[dict[str, Any]]) -> None:
        """Insert deliveries; one that exists already for its event and customer is left as it is."""
        if not rows:
            return
        postgres = self.session.get_bind().dialect.name == "postgresql"
        build = postgres_insert if postgres else sqlite_insert
        statement = build(deliveries).on_conflict_do_nothing(index_elements=["event_id", "customer_id"])
        self.session.execute(statement, list(rows))

    def due_ids(self, now: datetime, limit: int) -> list[int]:
        statement = (
            select(deliveries.c.id)
            .where(deliveries.c.status == PENDING, deliveries.c.next_attempt_at <= now)
            .order_by(deliveries.c.next_attempt_at, deliveries.c.id)
            .limit(limit)
        )
        return list(self.session.scalars(statement))

    def held(self, now: datetime) -> list[tuple[int, str, datetime]]:
        """(id, owner, claimed at) of the deliveries an attempt holds right now."""
        claimed_at = deliveries.c.next_attempt_at
        statement = select(deliveries.c.id, deliveries.c.claimed_by, claimed_at).where(
            deliveries.c.status == PENDING, deliveries.c.claimed_by.is_not(None), claimed_at > now
        )
        return [(id_, owner, at) for id_, owner, at in self.session.execute(statement)]

    def claim(self, delivery_id: int, now: datetime, hold: timedelta, owner: str, gone: str | None) -> bool:
        """Take a delivery for one attempt — a due one, or one whose attempt was held by the process
        `gone` — counted, and not due again for `hold` (so that no other worker sends it meanwhile)."""
        taken = deliveries.c.next_attempt_at <= now
        if gone is not None:
            taken = deliveries.c.claimed_by == gone
        statement = (
            update(deliveries)
            .where(deliveries.c.id == delivery_id, deliveries.c.status == PENDING, taken)
            .values(attempts=deliveries.c.attempts + 1, next_attempt_at=now + hold, claimed_by=owner)
        )
        return bool(getattr(self.session.execute(statement), "rowcount", 0))

    def get(self, delivery_id: int) -> WebhookDelivery | None:
        return self.session.get(WebhookDelivery, delivery_id)

    def record(self, delivery_id: int, **values: Any) -> None:
        self.session.execute(update(deliveries).where(deliveries.c.id == delivery_id).values(**values))
