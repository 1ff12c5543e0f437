"""The one write path of orders: set-based upsert by number, lines, status history, and the events.

The API and the CSV import both end here with already-resolved ids. An order sent again under the same
number replaces the stored one with its lines; each status dimension whose value changed gets a history
row, and (outside imports) one `order.status_changed` event carries every change of the batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from smartcomm.kit.outbox import publish
from smartcomm.kit.time import ensure_utc, utcnow
from smartcomm.models.orders import DIMENSIONS
from smartcomm.orders.book import StatusBook
from smartcomm.orders.repository import OrderRepository, StoredOrder


@dataclass(slots=True)
class LineRecord:
    sku: str
    quantity: Decimal
    price: Decimal
    amount: Decimal
    name: str | None = None
    weight: Decimal | None = None
    discount: Decimal = Decimal("0")
    bonus_accrued: Decimal = Decimal("0")
    bonus_redeemed: Decimal = Decimal("0")
    cash_part: Decimal = Decimal("0")
    product_id: int | None = None
    category_id: int | None = None


@dataclass(slots=True)
class OrderRecord:
    number: str
    customer_id: int
    created_at: datetime
    total: Decimal
    store_id: int | None = None
    status_ids: dict[str, int | None] = field(default_factory=dict)
    cash_part: Decimal = Decimal("0")
    bonus_part: Decimal = Decimal("0")
    delivery_cost: Decimal = Decimal("0")
    discount: Decimal = Decimal("0")
    delivery_type: str | None = None
    carrier: str | None = None
    country: str | None = None
    city: str | None = None
    street: str | None = None
    delivery_at: datetime | None = None
    customer_note: str | None = None
    payment_type: str | None = None
    payment_provider: str | None = None
    lines: list[LineRecord] = field(default_factory=list)

    def status_id(self, dimension: str) -> int | None:
        return self.status_ids.get(dimension)


ORDER_VALUES = (
    "number",
    "customer_id",
    "store_id",
    "created_at",
    "total",
    "cash_part",
    "bonus_part",
    "delivery_cost",
    "discount",
    "delivery_type",
    "carrier",
    "country",
    "city",
    "street",
    "delivery_at",
    "customer_note",
    "payment_type",
    "payment_provider",
)
LINE_VALUES = (
    "sku",
    "name",
    "quantity",
    "price",
    "amount",
    "weight",
    "discount",
    "bonus_accrued",
    "bonus_redeemed",
    "cash_part",
    "product_id",
    "category_id",
)


@dataclass(frozen=True, slots=True)
class Change:
    order_id: int
    customer_id: int
    dimension: str
    from_code: str | None
    to_code: str | None
    changed_at: datetime

    def as_row(self) -> dict[str, Any]:
        return {
            "order_id": self.order_id,
            "dimension": self.dimension,
            "from_code": self.from_code,
            "to_code": self.to_code,
            "changed_at": self.changed_at,
        }

    def as_event(self) -> dict[str, Any]:
        return {
            "order_id": self.order_id,
            "customer_id": self.customer_id,
            "dimension": self.dimension,
            "from": self.from_code,
            "to": self.to_code,
            "changed_at": ensure_utc(self.changed_at).isoformat(),
        }


@dataclass
class WriteResult:
    ids: list[int]
    created: int
    replaced: int
    customer_ids: set[int]
    changes: list[Change] = field(default_factory=list)


class OrderWriter:
    def __init__(self, session: Session, book: StatusBook) -> None:
        self.session = session
        self.book = book
        self.repository = OrderRepository(session)

    def write(self, records: Sequence[OrderRecord], *, publish_events: bool = True) -> WriteResult:
        """Insert new orders and replace re-sent ones with their lines; record the status changes."""
        unique = {record.number: record for record in records}  # within one batch the last copy wins
        stored = self.repository.stored(list(unique))
        now = utcnow()
        fresh = [record for number, record in unique.items() if number not in stored]
        resent = [(stored[number], record) for number, record in unique.items() if number in stored]
        inserted = self.repository.insert([self._row(record, now) for record in fresh])
        ids = dict(zip((record.number for record in fresh), inserted, strict=True))
        ids.update({record.number: order.id for order, record in resent})
        self.repository.replace([(order.id, self._row(record, now)) for order, record in resent])
        self.repository.insert_lines(self._line_rows(ids, unique.values()))
        created_changes = [c for r in fresh for c in self._changes(ids[r.number], None, r, now)]
        changes = [c for order, r in resent for c in self._changes(order.id, order, r, now)]
        self.repository.insert_changes([change.as_row() for change in created_changes + changes])
        customers = {r.customer_id for r in unique.values()} | {order.customer_id for order, _ in resent}
        if publish_events:
            self._publish(ids, fresh, changes)
        ordered = [ids[record.number] for record in records]
        return WriteResult(ordered, len(fresh), len(resent), customers, changes)

    def _row(self, record: OrderRecord, now: datetime) -> dict[str, Any]:
        values = {name: getattr(record, name) for name in ORDER_VALUES}
        statuses = {f"{dimension}_status_id": record.status_id(dimension) for dimension in DIMENSIONS}
        in_analytics = self.book.in_analytics(record.status_ids)
        return values | statuses | {"in_analytics": in_analytics, "updated_at": now}

    @staticmethod
    def _line_rows(ids: dict[str, int], records: Any) -> list[dict[str, Any]]:
        return [
            {name: getattr(line, name) for name in LINE_VALUES}
            | {"order_id": ids[record.number], "position": position}
            for record in records
            for position, line in enumerate(record.lines, start=1)
        ]

    def _changes(
        self, order_id: int, stored: StoredOrder | None, record: OrderRecord, now: datetime
    ) -> list[Change]:
        changes = []
        for dimension in DIMENSIONS:
            before = stored.status_ids[dimension] if stored else None
            after = record.status_id(dimension)
            if before != after:
                codes = self.book.code_of(before), self.book.code_of(after)
                changes.append(Change(order_id, record.customer_id, dimension, *codes, now))
        return changes

    def _publish(self, ids: dict[str, int], fresh: Sequence[OrderRecord], changes: Sequence[Change]) -> None:
        if fresh:
            created = [self._created_entry(ids[record.number], record) for record in fresh]
            publish(
                self.session,
                "order.created",
                customer_ids=[record.customer_id for record in fresh],
                payload={"orders": created},
            )
        if changes:
            publish(
                self.session,
                "order.status_changed",
                customer_ids=[change.customer_id for change in changes],
                payload={"changes": [change.as_event() for change in changes]},
            )

    def _created_entry(self, order_id: int, record: OrderRecord) -> dict[str, Any]:
        """One order as the `order.created` event carries it (statuses as codes)."""
        return {
            "id": order_id,
            "customer_id": record.customer_id,
            "number": record.number,
            "store_id": record.store_id,
            "total": str(record.total),
            "created_at": ensure_utc(record.created_at).isoformat(),
        } | {dimension: self.book.code_of(record.status_id(dimension)) for dimension in DIMENSIONS}
