"""SQL of pop-ups."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as postgres_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from smartcomm.kit.repository import Repository
from smartcomm.models import Customer, Popup, Visitor

# Where each report may move a pop-up from, and the time column it stamps.
TRANSITIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "shown": (("queued",), "shown_at"),
    "clicked": (("queued", "shown"), "clicked_at"),
    "dismissed": (("queued", "shown"), "closed_at"),
}


class PopupRepository(Repository[Popup]):
    model = Popup

    def insert_new(self, row: dict[str, Any]) -> bool:
        """Insert the pop-up unless its key is stored already (atomic between concurrent callers)."""
        dialect = self.session.get_bind().dialect.name
        build = postgres_insert if dialect == "postgresql" else sqlite_insert
        statement = (
            build(Popup).values(**row).on_conflict_do_nothing(index_elements=["key"]).returning(Popup.id)
        )
        return self.session.execute(statement).scalar() is not None

    def visitor_customer(self, visitor_id: str, external_id: str | None) -> int | None:
        """The customer the visitor is identified as — and, when the external id is given, only if it is
        that customer's."""
        statement = select(Visitor.customer_id).where(
            Visitor.id == visitor_id, Visitor.customer_id.is_not(None)
        )
        if external_id is not None:
            statement = statement.join(Customer, Customer.id == Visitor.customer_id).where(
                Customer.external_id == external_id
            )
        return self.session.scalar(statement)

    def pending(self, customer_id: int, now: datetime, limit: int) -> list[Popup]:
        statement = (
            select(Popup)
            .where(
                Popup.customer_id == customer_id,
                Popup.status == "queued",
                or_(Popup.expires_at.is_(None), Popup.expires_at > now),
            )
            .order_by(Popup.created_at, Popup.id)
            .limit(limit)
        )
        return list(self.session.scalars(statement))

    def of_customer(self, popup_id: int, customer_id: int) -> Popup | None:
        statement = select(Popup).where(Popup.id == popup_id, Popup.customer_id == customer_id)
        return self.session.scalar(statement)

    def move(self, popup_id: int, action: str, now: datetime) -> bool:
        """Apply a report if the pop-up is in a state it may leave (a claim: a repeat changes nothing)."""
        sources, stamp = TRANSITIONS[action]
        values: dict[str, Any] = {"status": action, stamp: now}
        if action != "shown":
            values["shown_at"] = func.coalesce(Popup.shown_at, now)  # clicked or closed: it was shown
        statement = (
            update(Popup)
            .where(Popup.id == popup_id, Popup.status.in_(sources))
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        return bool(self.session.execute(statement).rowcount)  # type: ignore[attr-defined]

    def expire_due(self, now: datetime) -> int:
        """Queued pop-ups past their expiry become expired; returns how many."""
        statement = (
            update(Popup)
            .where(Popup.status == "queued", Popup.expires_at.is_not(None), Popup.expires_at <= now)
            .values(status="expired", closed_at=now)
            .execution_options(synchronize_session=False)
        )
        return int(self.session.execute(statement).rowcount)  # type: ignore[attr-defined]

    def latest_of(self, customer_id: int, limit: int) -> list[Popup]:
        statement = (
            select(Popup)
            .where(Popup.customer_id == customer_id)
            .order_by(Popup.created_at.desc(), Popup.id.desc())
            .limit(limit)
        )
        return list(self.session.scalars(statement))

    def counts_of(self, customer_id: int) -> dict[str, int]:
        """How many of the customer's pop-ups were shown and clicked (ever)."""
        statement = select(func.count(Popup.shown_at), func.count(Popup.clicked_at), func.count()).where(
            Popup.customer_id == customer_id
        )
        shown, clicked, total = self.session.execute(statement).one()
        return {"shown": int(shown), "clicked": int(clicked), "total": int(total)}
