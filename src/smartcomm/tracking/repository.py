"""SQL of the tracker beyond the intake's own writes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Row, or_, select
from sqlalchemy.orm import Session

from smartcomm.models import WebEvent


class TrackingRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def anonymous_container_changes(self, visitor_id: str, since: datetime) -> list[Row[Any]]:
        """The visitor's container changes while it was anonymous (not applied to any list: nobody's
        yet), oldest first."""
        statement = (
            select(
                WebEvent.container_code,
                WebEvent.container_action,
                WebEvent.product_id,
                WebEvent.quantity,
                WebEvent.context,
                WebEvent.occurred_at,
            )
            .where(
                WebEvent.visitor_id == visitor_id,
                WebEvent.customer_id.is_(None),
                WebEvent.kind == "container_change",
                WebEvent.occurred_at >= since,
                or_(WebEvent.product_id.is_not(None), WebEvent.container_action == "clear"),
            )
            .order_by(WebEvent.occurred_at, WebEvent.id)
        )
        return list(self.session.execute(statement))
