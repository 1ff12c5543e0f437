"""SQL of webhook deliveries: recording them once, reading one (claims, outcomes: `kit.signed_delivery`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import Table
from sqlalchemy.dialects.postgresql import insert as postgres_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from smartcomm.models import WebhookDelivery

deliveries = cast(Table, WebhookDelivery.__table__)


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

    def get(self, delivery_id: int) -> WebhookDelivery | None:
        return self.session.get(WebhookDelivery, delivery_id)
