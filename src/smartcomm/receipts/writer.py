"""The one write path of receipts: set-based upsert by (store, number), lines, then customer aggregates.

The API, the CSV import and the Segment intake all end here, with already-resolved ids.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import Table, bindparam, delete, insert, select, update
from sqlalchemy.orm import Session

from smartcomm.customers.repository import CustomerRepository, chunks
from smartcomm.kit.outbox import publish
from smartcomm.kit.time import utcnow
from smartcomm.models import Receipt, ReceiptLine
from smartcomm.models.receipts import PURCHASE_STATUSES

receipts = cast(Table, Receipt.__table__)
lines = cast(Table, ReceiptLine.__table__)


@dataclass(slots=True)
class LineRecord:
    sku: str
    quantity: Decimal
    price: Decimal
    amount: Decimal
    discount: Decimal = Decimal("0")
    product_id: int | None = None
    category_id: int | None = None
    custom: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class ReceiptRecord:
    number: str
    store_id: int
    customer_id: int
    purchased_at: datetime
    total: Decimal
    status: str = "paid"
    discount: Decimal = Decimal("0")
    bonus_earned: Decimal = Decimal("0")
    bonus_spent: Decimal = Decimal("0")
    custom: dict[str, Any] = field(default_factory=dict)
    lines: list[LineRecord] = field(default_factory=list)
    promo_codes: list[str] | None = None  # presented at the till; redeemed by the promo codes subscriber

    @property
    def key(self) -> tuple[int, str]:
        return self.store_id, self.number

    @property
    def item_count(self) -> Decimal:
        return sum((line.quantity for line in self.lines), Decimal("0"))


@dataclass
class WriteResult:
    ids: list[int]
    created: int
    replaced: int
    customer_ids: set[int]


def _written_entry(receipt_id: int, record: ReceiptRecord, replaced: bool) -> dict[str, Any]:
    """One receipt as the `receipt.written` event carries it."""
    return {
        "id": receipt_id,
        "customer_id": record.customer_id,
        "store_id": record.store_id,
        "number": record.number,
        "status": record.status,
        "total": str(record.total),
        "purchased_at": record.purchased_at.isoformat(),
        "replaced": replaced,
    } | ({"promo_codes": record.promo_codes} if record.promo_codes else {})


class ReceiptWriter:
    def __init__(self, session: Session, *, refresh_aggregates: bool = True) -> None:
        self.session = session
        self.refresh_aggregates = refresh_aggregates

    def write(self, records: Sequence[ReceiptRecord]) -> WriteResult:
        """Insert new receipts and replace re-sent ones (same store and number) with their lines."""
        unique = {record.key: record for record in records}  # within one batch the last copy wins
        existing = self._existing(list(unique))
        fresh = [r for key, r in unique.items() if key not in existing]
        resent = [(existing[key][0], r) for key, r in unique.items() if key in existing]
        ids_by_key = {r.key: existing[r.key][0] for _, r in resent}
        ids_by_key.update(zip((r.key for r in fresh), self._insert(fresh), strict=True))
        self._replace(resent)
        self._insert_lines([(ids_by_key[r.key], r) for r in unique.values()])
        customers = {r.customer_id for r in unique.values()} | {existing[k][1] for k in existing}
        if self.refresh_aggregates:
            CustomerRepository(self.session).refresh_aggregates(customers)
        written = [_written_entry(ids_by_key[key], r, key in existing) for key, r in unique.items()]
        publish(self.session, "receipt.written", customer_ids=customers, payload={"receipts": written})
        ordered_ids = [ids_by_key[record.key] for record in records]
        return WriteResult(ordered_ids, len(fresh), len(resent), customers)

    def _existing(self, keys: list[tuple[int, str]]) -> dict[tuple[int, str], tuple[int, int]]:
        """(store, number) -> (receipt id, customer id) for keys already stored."""
        wanted = set(keys)
        found: dict[tuple[int, str], tuple[int, int]] = {}
        for part in chunks(list({number for _, number in keys})):
            statement = select(
                receipts.c.id, receipts.c.store_id, receipts.c.number, receipts.c.customer_id
            ).where(receipts.c.number.in_(part))
            for id_, store_id, number, customer_id in self.session.execute(statement):
                if (store_id, number) in wanted:
                    found[(store_id, number)] = (id_, customer_id)
        return found

    def _insert(self, records: Sequence[ReceiptRecord]) -> list[int]:
        if not records:
            return []
        now = utcnow()
        rows = [self._receipt_row(r) | {"created_at": now, "updated_at": now} for r in records]
        statement = insert(receipts).returning(receipts.c.id, sort_by_parameter_order=True)
        return [row[0] for row in self.session.execute(statement, rows)]

    def _replace(self, resent: Sequence[tuple[int, ReceiptRecord]]) -> None:
        if not resent:
            return
        ids = [receipt_id for receipt_id, _ in resent]
        for part in chunks(ids):
            self.session.execute(delete(lines).where(lines.c.receipt_id.in_(part)))
        now = utcnow()
        values: dict[str, Any] = {name: bindparam(f"v_{name}") for name in self._receipt_row(resent[0][1])}
        statement = (
            update(receipts).where(receipts.c.id == bindparam("v_id")).values(updated_at=now, **values)
        )
        rows = [{f"v_{k}": v for k, v in self._receipt_row(r).items()} | {"v_id": i} for i, r in resent]
        self.session.execute(statement, rows)

    def _insert_lines(self, receipts_with_ids: Iterable[tuple[int, ReceiptRecord]]) -> None:
        rows = [
            {
                "receipt_id": receipt_id,
                "position": position,
                "customer_id": record.customer_id,
                "purchased_at": record.purchased_at,
                "is_purchase": record.status in PURCHASE_STATUSES,
                "product_id": line.product_id,
                "category_id": line.category_id,
                "sku": line.sku,
                "quantity": line.quantity,
                "price": line.price,
                "amount": line.amount,
                "discount": line.discount,
                "custom": line.custom,
            }
            for receipt_id, record in receipts_with_ids
            for position, line in enumerate(record.lines, start=1)
        ]
        if rows:
            self.session.execute(insert(lines), rows)

    @staticmethod
    def _receipt_row(record: ReceiptRecord) -> dict[str, Any]:
        return {
            "number": record.number,
            "store_id": record.store_id,
            "customer_id": record.customer_id,
            "purchased_at": record.purchased_at,
            "status": record.status,
            "total": record.total,
            "discount": record.discount,
            "bonus_earned": record.bonus_earned,
            "bonus_spent": record.bonus_spent,
            "item_count": record.item_count,
            "custom": record.custom,
            "promo_codes": record.promo_codes or None,
        }
