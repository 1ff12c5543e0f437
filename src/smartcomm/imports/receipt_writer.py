"""The fast write path of receipt imports, beside `receipts.writer.ReceiptWriter` and equal to it.

It stores the same rows `ReceiptWriter` would (upsert by store and number, lines numbered in file
order, a total that defaults to the sum of the lines, customer aggregates recomputed by the same
set-based statement), but from the checked columns of a batch, straight through the DBAPI cursor:
`executemany` on SQLite and `COPY` on PostgreSQL, with receipt ids taken in one step per batch. The
per-line work is column-wise (maps and zips that run in C); only the per-receipt bookkeeping is a loop.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from itertools import count
from operator import itemgetter
from typing import Any

from sqlalchemy.orm import Session

from smartcomm.catalog.lookups import ProductLookup, StoreLookup
from smartcomm.customers.repository import CustomerRepository
from smartcomm.imports.receipt_rows import LineColumns
from smartcomm.imports.repository import Bulk
from smartcomm.kit.outbox import publish
from smartcomm.models.receipts import PURCHASE_STATUSES

RECEIPT_COLUMNS = (
    "id", "number", "store_id", "customer_id", "purchased_at", "status", "total", "discount", "bonus_earned",
    "bonus_spent", "item_count", "custom", "created_at", "updated_at",
)  # fmt: skip
REPLACED_COLUMNS = (
    "customer_id", "purchased_at", "status", "total", "discount", "bonus_earned", "bonus_spent", "item_count",
    "custom", "updated_at",
)  # fmt: skip
CONTINUED_COLUMNS = ("total", "item_count", "updated_at")
LINE_COLUMNS = (
    "receipt_id", "position", "customer_id", "purchased_at", "is_purchase", "product_id", "category_id",
    "sku", "quantity", "price", "amount", "discount", "custom",
)  # fmt: skip
ReceiptKey = tuple[int, str]  # store id, number
PURCHASES = frozenset(PURCHASE_STATUSES)
_PRODUCT, _CATEGORY = itemgetter(0), itemgetter(1)


@dataclass(slots=True)
class Tally:
    """A receipt's lines so far: in this batch, plus those earlier batches wrote (a continued receipt)."""

    first: int  # where its first line of this batch is
    lines: int
    amount: int
    quantity: int


@dataclass(slots=True)
class OpenReceipt:
    """A receipt written by this import whose further rows may come in a later batch."""

    id: int
    lines: int
    amount: int
    quantity: int
    total: int | None  # the total given in the file, if any


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
        self.created = 0
        self.replaced = 0

    def write(self, lines: LineColumns) -> int:
        if not len(lines):
            return 0
        store_ids = self.stores.ids(list(dict.fromkeys(lines.stores)))
        keys = list(zip(map(store_ids.__getitem__, lines.stores), lines.numbers, strict=True))
        tallies, positions = self._tally(keys, lines)
        moments = self.bulk.moments(set(lines.moments))
        batch = _Batch()
        ids = self._receipts(batch, tallies, lines, moments)
        batch.lines = self._line_rows(lines, map(ids.__getitem__, keys), positions, moments)
        self._execute(batch)
        self.customers.update(lines.customer_ids)
        self._keep_open(keys[-1], tallies, ids, lines)
        return len(lines)

    def _line_rows(
        self, lines: LineColumns, receipt_ids: Iterable[int], positions: list[int], moments: dict[int, Any]
    ) -> list[tuple[Any, ...]]:
        """The receipt_lines rows (LINE_COLUMNS), zipped column by column."""
        products = self.products.resolve(list(dict.fromkeys(lines.skus)))
        found = list(map(products.__getitem__, lines.skus))
        return list(zip(
            receipt_ids, positions, lines.customer_ids, map(moments.__getitem__, lines.moments),
            map(PURCHASES.__contains__, lines.statuses), map(_PRODUCT, found), map(_CATEGORY, found),
            lines.skus, lines.quantities, lines.prices, lines.amounts, lines.line_discounts,
            lines.line_customs, strict=True,
        ))  # fmt: skip

    def finish(self) -> None:
        """Recompute the purchase aggregates of every customer whose receipts changed; segments follow."""
        CustomerRepository(self.session).refresh_aggregates(self.customers)
        if self.customers:
            counts = {"created": self.created, "replaced": self.replaced}
            publish(self.session, "receipts.imported", customer_ids=self.customers, payload=counts)

    def _tally(self, keys: list[ReceiptKey], lines: LineColumns) -> tuple[dict[ReceiptKey, Tally], list[int]]:
        """Each receipt's tally, and each line's position (continuing a receipt an earlier batch began)."""
        tallies: dict[ReceiptKey, Tally] = {}
        positions: list[int] = []
        add_position = positions.append
        for index, key, amount, quantity in zip(count(), keys, lines.amounts, lines.quantities):
            tally = tallies.get(key)
            if tally is None:
                known = self.open.get(key)
                tally = tallies[key] = (
                    Tally(index, 0, 0, 0)
                    if known is None
                    else Tally(index, known.lines, known.amount, known.quantity)
                )
            tally.lines += 1
            tally.amount += amount
            tally.quantity += quantity
            add_position(tally.lines)
        return tallies, positions

    def _receipts(
        self, batch: _Batch, tallies: dict[ReceiptKey, Tally], lines: LineColumns, moments: dict[int, Any]
    ) -> dict[ReceiptKey, int]:
        """The receipt rows of the batch (new, replacing a stored one, or continued); id of every key."""
        stored = self._stored([key for key in tallies if key not in self.open])
        fresh = [key for key in tallies if key not in self.open and key not in stored]
        ids = dict(zip(fresh, self.bulk.new_ids("receipts", len(fresh)), strict=True))
        for key, tally in tallies.items():
            known = self.open.get(key)
            if known is not None:
                ids[key] = known.id
                total = tally.amount if known.total is None else known.total
                batch.continued.append((total, tally.quantity, self.now, known.id))
                continue
            at = tally.first
            given_total = lines.totals[at]
            header = (
                lines.customer_ids[at], moments[lines.moments[at]], lines.statuses[at],
                tally.amount if given_total is None else given_total, lines.discounts[at],
                lines.bonus_earned[at], lines.bonus_spent[at], tally.quantity, lines.customs[at],
            )  # fmt: skip
            previous = stored.get(key)
            if previous is None:
                batch.new.append((ids[key], key[1], key[0], *header, self.now, self.now))
                self.created += 1
            else:
                ids[key], previous_buyer = previous
                batch.replaced.append((*header, self.now, ids[key]))
                self.customers.add(previous_buyer)  # the previous buyer's aggregates change too
                self.replaced += 1
        return ids

    def _keep_open(
        self, last: ReceiptKey, tallies: dict[ReceiptKey, Tally], ids: dict[ReceiptKey, int],
        lines: LineColumns,
    ) -> None:  # fmt: skip
        """Remember the receipts later batches may continue: split ones, and the one the batch ends with
        (its run of rows may go on in the next batch)."""
        split = self.split
        for key, tally in tallies.items():
            if key == last or (split and hash((lines.stores[tally.first], key[1])) in split):
                known = self.open.get(key)
                total = lines.totals[tally.first] if known is None else known.total
                self.open[key] = OpenReceipt(ids[key], tally.lines, tally.amount, tally.quantity, total)

    def _execute(self, batch: _Batch) -> None:
        self.bulk.insert("receipts", RECEIPT_COLUMNS, batch.new)
        if batch.replaced:
            self.bulk.delete_where_in("receipt_lines", "receipt_id", [row[-1] for row in batch.replaced])
            self.bulk.update_by_id("receipts", REPLACED_COLUMNS, batch.replaced)
        self.bulk.update_by_id("receipts", CONTINUED_COLUMNS, batch.continued)
        self.bulk.insert("receipt_lines", LINE_COLUMNS, batch.lines)

    def _stored(self, keys: list[ReceiptKey]) -> dict[ReceiptKey, tuple[int, int]]:
        """(store id, number) -> (receipt id, customer id) of the receipts already in the database."""
        if self.nothing_stored or not keys:
            return {}
        return self.bulk.receipts_by_key(keys)


class _Batch:
    """The rows one batch writes: new, replaced and continued receipts, and every line."""

    def __init__(self) -> None:
        self.new: list[tuple[Any, ...]] = []
        self.replaced: list[tuple[Any, ...]] = []
        self.continued: list[tuple[Any, ...]] = []
        self.lines: list[tuple[Any, ...]] = []
