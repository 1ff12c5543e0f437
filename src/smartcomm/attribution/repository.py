"""Every SQL statement of attribution: touches and receipts read in sets, pairs written and reported."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import Row, and_, case, delete, func, or_, select, type_coerce
from sqlalchemy.dialects.postgresql import insert as postgres_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from smartcomm.attribution.rules import DELIVERED_CHANNELS, NOT_TOUCHES, OPENED_CHANNELS
from smartcomm.kit.models import UTCDateTime
from smartcomm.models import AttributedReceipt, Message, MessageEvent, Receipt, ReceiptLine

# Ids bound per IN list: far below every backend's limit on parameters.
CHUNK = 1000
T = TypeVar("T")


def chunks(values: Iterable[T], size: int = CHUNK) -> Iterator[list[T]]:
    part: list[T] = []
    for value in values:
        part.append(value)
        if len(part) == size:
            yield part
            part = []
    if part:
        yield part


def _first_person_open() -> Any:
    """When a person first opened the message: its earliest open event not made by a machine (a click
    proves an open and records one; opens later judged a machine's are flagged so and drop out)."""
    return (
        select(func.min(MessageEvent.occurred_at))
        .where(
            MessageEvent.message_id == Message.id,
            MessageEvent.kind == "opened",
            MessageEvent.is_machine.is_(False),
        )
        .scalar_subquery()
    )


def _touched_at() -> Any:
    moment = case((Message.channel.in_(DELIVERED_CHANNELS), Message.delivered_at), else_=_first_person_open())
    return type_coerce(moment, UTCDateTime()).label("touched_at")


def _may_touch() -> Any:
    """Messages that can be touches: delivered SMS and Viber, e-mail and push opened by people."""
    return and_(
        Message.source_kind.not_in(NOT_TOUCHES),
        or_(
            and_(Message.channel.in_(DELIVERED_CHANNELS), Message.delivered_at.is_not(None)),
            and_(Message.channel.in_(OPENED_CHANNELS), Message.opens > 0),
        ),
    )


class AttributionRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    # --- reading what to attribute ---------------------------------------------------------------------

    def touches(self, customer_ids: Collection[int], before: datetime) -> list[Row[Any]]:
        """The touches of these customers before a moment, each with its time."""
        found: list[Row[Any]] = []
        for part in chunks(sorted(customer_ids)):
            inner = (
                select(
                    Message.id.label("message_id"),
                    Message.customer_id,
                    Message.source_kind,
                    Message.source_id,
                    Message.channel,
                    _touched_at(),
                )
                .where(Message.customer_id.in_(part), _may_touch())
                .subquery()
            )
            statement = select(inner).where(inner.c.touched_at.is_not(None), inner.c.touched_at < before)
            found.extend(self.session.execute(statement))
        return found

    def receipts(self, receipt_ids: Collection[int]) -> list[Row[Any]]:
        columns = (Receipt.id, Receipt.customer_id, Receipt.purchased_at, Receipt.status, Receipt.total)
        found: list[Row[Any]] = []
        for part in chunks(sorted(receipt_ids)):
            found.extend(
                self.session.execute(select(*columns, Receipt.item_count).where(Receipt.id.in_(part)))
            )
        return found

    def purchase_lines(self, receipt_ids: Collection[int]) -> list[tuple[int, str, int | None]]:
        """(receipt id, sku, category id) of the purchase lines of these receipts."""
        found: list[tuple[int, str, int | None]] = []
        for part in chunks(sorted(receipt_ids)):
            statement = select(ReceiptLine.receipt_id, ReceiptLine.sku, ReceiptLine.category_id).where(
                ReceiptLine.receipt_id.in_(part), ReceiptLine.is_purchase.is_(True)
            )
            found.extend((row[0], row[1], row[2]) for row in self.session.execute(statement))
        return found

    def message_customers(self, message_ids: Collection[int]) -> dict[int, datetime]:
        """For the customers of these messages: when the earliest of them was made (no touch of it is
        older, so no receipt before it can change)."""
        earliest: dict[int, datetime] = {}
        for part in chunks(sorted(message_ids)):
            statement = (
                select(Message.customer_id, func.min(Message.created_at))
                .where(Message.id.in_(part), Message.customer_id.is_not(None), _may_touch())
                .group_by(Message.customer_id)
            )
            for customer_id, created_at in self.session.execute(statement):
                if customer_id is not None:
                    earliest[customer_id] = min(created_at, earliest.get(customer_id, created_at))
        return earliest

    def receipt_ids_since(self, since: dict[int, datetime]) -> list[int]:
        """The receipts of each customer purchased at or after the customer's moment."""
        found: list[int] = []
        for part in chunks(sorted(since)):
            statement = select(Receipt.id, Receipt.customer_id, Receipt.purchased_at).where(
                Receipt.customer_id.in_(part), Receipt.purchased_at >= min(since[c] for c in part)
            )
            found.extend(
                row.id
                for row in self.session.execute(statement)
                if row.purchased_at >= since[row.customer_id]
            )
        return found

    def receipt_ids_of_customers(self, customer_ids: Collection[int]) -> list[int]:
        found: list[int] = []
        for part in chunks(sorted(customer_ids)):
            found.extend(self.session.scalars(select(Receipt.id).where(Receipt.customer_id.in_(part))))
        return found

    def receipt_ids_purchased(self, start: datetime, end: datetime, after_id: int, limit: int) -> list[int]:
        """The next batch of receipts purchased in [start, end), in id order after `after_id`."""
        statement = (
            select(Receipt.id)
            .where(Receipt.purchased_at >= start, Receipt.purchased_at < end, Receipt.id > after_id)
            .order_by(Receipt.id)
            .limit(limit)
        )
        return list(self.session.scalars(statement))

    def receipt_ids_updated(self, since: datetime, after_id: int, limit: int) -> list[int]:
        statement = (
            select(Receipt.id)
            .where(Receipt.updated_at >= since, Receipt.id > after_id)
            .order_by(Receipt.id)
            .limit(limit)
        )
        return list(self.session.scalars(statement))

    # --- writing -------------------------------------------------------------------------------------

    def forget(self, receipt_ids: Collection[int]) -> None:
        for part in chunks(sorted(receipt_ids)):
            self.session.execute(delete(AttributedReceipt).where(AttributedReceipt.receipt_id.in_(part)))

    def write(self, rows: Sequence[dict[str, Any]]) -> None:
        """Insert the pairs; a pair written meanwhile by another transaction is overwritten (same result)."""
        if not rows:
            return
        build = postgres_insert if self.session.get_bind().dialect.name == "postgresql" else sqlite_insert
        statement = build(AttributedReceipt)
        statement = statement.on_conflict_do_update(
            index_elements=["receipt_id", "message_id"],
            set_={"credited": statement.excluded.credited, "touched_at": statement.excluded.touched_at},
        )
        for part in chunks(rows):
            self.session.execute(statement, part)

    # --- reading the results -------------------------------------------------------------------------

    def summary(self, source_kind: str, source_id: int | None) -> tuple[int, int, Decimal]:
        statement = select(
            func.count(),
            func.count(func.distinct(AttributedReceipt.customer_id)),
            func.coalesce(func.sum(AttributedReceipt.amount), 0),
        ).where(*self._credited_to(source_kind, source_id))
        return self.session.execute(statement).one()

    def credited_purchases(self, source_kind: str, source_id: int | None) -> list[tuple[datetime, Decimal]]:
        """(purchased_at, amount) of the receipts credited to a communication (days are cut in the project
        time zone by the caller: SQLite knows no zones)."""
        statement = select(AttributedReceipt.purchased_at, AttributedReceipt.amount).where(
            *self._credited_to(source_kind, source_id)
        )
        return [(row[0], row[1]) for row in self.session.execute(statement)]

    def _credited_to(self, source_kind: str, source_id: int | None) -> list[Any]:
        source = (
            AttributedReceipt.source_id.is_(None)
            if source_id is None
            else AttributedReceipt.source_id == source_id
        )
        return [AttributedReceipt.source_kind == source_kind, source, AttributedReceipt.credited.is_(True)]
