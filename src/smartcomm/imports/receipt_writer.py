"""The fast write path of receipt imports, beside `receipts.writer.ReceiptWriter` and equal to it.

It stores the same rows `ReceiptWriter` would (upsert by store and number, lines numbered in file
order, a total that defaults to the sum of the lines, customer aggregates recomputed by the same
set-based statement), but from plain tuples in minor units, straight through the DBAPI cursor:
`executemany` on SQLite and `COPY` on PostgreSQL, with receipt ids taken in one step per batch.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from operator import itemgetter
from typing import Any

from sqlalchemy.orm import Session

from smartcomm.catalog.lookups import ProductLookup, StoreLookup
from smartcomm.customers.repository import CustomerRepository
from smartcomm.imports.receipt_rows import LineRow, from_micros
from smartcomm.imports.repository import Bulk
from smartcomm.models.receipts import PURCHASE_STATUSES
from smartcomm.segments.changes import customers_changed

RECEIPT_COLUMNS = (
    "id", "number", "store_id", "customer_id", "purchased_at", "status", "total", "discount", "bonus_earned",
    "bonus_spent", "item_count", "custom", "created_at", "updated_at",
)  # fmt: skip
REPLACED_COLUMNS = (
    "customer_id", "purchased_at", "status", "total", "discount", "bonus_earned", "bonus_spent", "item_count",
    "custom", "updated_at",
)  # fmt: skip
LINE_COLUMNS = (
    "receipt_id", "position", "customer_id", "purchased_at", "is_purchase", "product_id", "category_id",
    "sku", "quantity", "price", "amount", "discount", "custom",
)  # fmt: skip
ReceiptKey = tuple[int, str]  # store id, number
_AMOUNT, _QUANTITY = itemgetter(14), itemgetter(12)


@dataclass(slots=True)
class OpenReceipt:
    """A receipt written by this import whose further rows come later in the file."""

    id: int
    lines: int
    amount: int
    quantity: int
    total: int | None  # the total given in the file, if any


def receipt_batches(lines: Iterable[LineRow], size: int) -> Iterator[list[LineRow]]:
    """Batches of about `size` lines that never cut a run of one receipt's adjacent rows."""
    batch: list[LineRow] = []
    for line in lines:
        if len(batch) >= size and (line[1], line[2]) != (batch[-1][1], batch[-1][2]):
            yield batch
            batch = []
        batch.append(line)
    if batch:
        yield batch


class ReceiptBulkWriter:
    """Writes batches of checked receipt lines; `split` holds receipts whose rows are not adjacent."""

    def __init__(
        self, session: Session, *, classifier_id: int | None, split: set[int], now: datetime
    ) -> None:
        self.session = session
        self.bulk = Bulk(session)
        self.stores = StoreLookup(session)
        self.products = ProductLookup(session, classifier_id)
        self.split = split
        # On a first load no receipt can exist beyond those this import writes: skip looking them up.
        self.nothing_stored = self.bulk.is_empty("receipts")
        self.open: dict[ReceiptKey, OpenReceipt] = {}
        self.customers: set[int] = set()
        self.now = self.bulk.moment(now)
        self._moment: tuple[int, Any] = (-1, None)
        self.created = 0
        self.replaced = 0

    def write(self, lines: list[LineRow]) -> int:
        grouped: dict[tuple[str, str], list[LineRow]] = {}
        for line in lines:
            grouped.setdefault((line[2], line[1]), []).append(line)
        store_ids = self.stores.ids(list({store for store, _ in grouped}))
        by_key = {(store_ids[store], number): rows for (store, number), rows in grouped.items()}
        stored = self._stored([key for key in by_key if key not in self.open])
        new_keys = [key for key in by_key if key not in self.open and key not in stored]
        ids = dict(zip(new_keys, self.bulk.new_ids("receipts", len(new_keys)), strict=True))
        products = self.products.resolve(list({line[11] for line in lines}))
        plan = _Plan()
        for key, rows in by_key.items():
            known = self.open.get(key)
            if known is None:
                receipt_id, previous_buyer = stored[key] if key in stored else (ids[key], None)
                self._start(plan, key, rows, receipt_id, previous_buyer)
            else:
                self._continue(plan, known, rows)
            plan.add_lines(rows, products)
        self._execute(plan)
        return len(lines)

    def finish(self) -> None:
        """Recompute the purchase aggregates of every customer whose receipts changed; segments follow."""
        CustomerRepository(self.session).refresh_aggregates(self.customers)
        customers_changed(self.session, self.customers)

    def _start(
        self, plan: _Plan, key: ReceiptKey, rows: list[LineRow], receipt_id: int, previous_buyer: int | None
    ) -> None:
        """A receipt met for the first time in this import: new, or replacing the stored one."""
        first = rows[0]
        amount, quantity = sum(map(_AMOUNT, rows)), sum(map(_QUANTITY, rows))
        customer_id, when = first[3], self._stored_moment(first[4])
        total = amount if first[6] is None else first[6]
        header = (
            customer_id,
            when,
            first[5],
            total,
            first[7],
            first[8],
            first[9],
            quantity,
            first[10],
            self.now,
        )
        if previous_buyer is None:
            plan.new.append((receipt_id, first[1], key[0], *header[:9], self.now, self.now))
            self.created += 1
        else:
            plan.replaced.append((*header, receipt_id))
            self.customers.add(previous_buyer)  # the previous buyer's aggregates change too
            self.replaced += 1
        self.customers.add(customer_id)
        plan.start(receipt_id, 1, customer_id, when, first[5] in PURCHASE_STATUSES)
        if hash((first[2], first[1])) in self.split:
            self.open[key] = OpenReceipt(receipt_id, len(rows), amount, quantity, first[6])

    def _continue(self, plan: _Plan, known: OpenReceipt, rows: list[LineRow]) -> None:
        """More lines of a receipt an earlier batch wrote (its rows were not adjacent in the file)."""
        first = rows[0]
        plan.start(
            known.id, known.lines + 1, first[3], self._stored_moment(first[4]), first[5] in PURCHASE_STATUSES
        )
        known.lines += len(rows)
        known.amount += sum(map(_AMOUNT, rows))
        known.quantity += sum(map(_QUANTITY, rows))
        total = known.amount if known.total is None else known.total
        plan.continued.append((total, known.quantity, self.now, known.id))

    def _stored_moment(self, micros: int) -> Any:
        if micros != self._moment[0]:
            self._moment = (micros, self.bulk.moment(from_micros(micros)))
        return self._moment[1]

    def _execute(self, plan: _Plan) -> None:
        self.bulk.insert("receipts", RECEIPT_COLUMNS, plan.new)
        if plan.replaced:
            self.bulk.delete_where_in("receipt_lines", "receipt_id", [row[-1] for row in plan.replaced])
            self.bulk.update_by_id("receipts", REPLACED_COLUMNS, plan.replaced)
        self.bulk.update_by_id("receipts", ("total", "item_count", "updated_at"), plan.continued)
        self.bulk.insert("receipt_lines", LINE_COLUMNS, plan.lines)

    def _stored(self, keys: list[ReceiptKey]) -> dict[ReceiptKey, tuple[int, int]]:
        """(store id, number) -> (receipt id, customer id) of the receipts already in the database."""
        found: dict[ReceiptKey, tuple[int, int]] = {}
        if self.nothing_stored or not keys:
            return found
        wanted = set(keys)
        numbers = list({number for _, number in keys})
        for id_, store_id, number, customer_id in self.bulk.rows_where_in(
            "receipts", ("id", "store_id", "number", "customer_id"), "number", numbers
        ):
            if (store_id, number) in wanted:
                found[(store_id, number)] = (id_, customer_id)
        return found


class _Plan:
    """The rows one batch writes: new, replaced and continued receipts, and every line."""

    def __init__(self) -> None:
        self.new: list[tuple[Any, ...]] = []
        self.replaced: list[tuple[Any, ...]] = []
        self.continued: list[tuple[Any, ...]] = []
        self.lines: list[tuple[Any, ...]] = []
        self._head: tuple[int, int, int, Any, bool] = (0, 1, 0, None, True)

    def start(self, receipt_id: int, position: int, customer_id: int, when: Any, is_purchase: bool) -> None:
        self._head = (receipt_id, position, customer_id, when, is_purchase)

    def add_lines(self, rows: list[LineRow], products: dict[str, tuple[int | None, int | None]]) -> None:
        receipt_id, position, customer_id, when, is_purchase = self._head
        append = self.lines.append
        for offset, r in enumerate(rows):
            product_id, category_id = products[r[11]]
            append((receipt_id, position + offset, customer_id, when, is_purchase, product_id, category_id,
                    r[11], r[12], r[13], r[14], r[15], r[16]))  # fmt: skip
