"""Checking receipt rows: one row per receipt line, the receipt's own columns repeated on each of its rows.

This is the hottest loop of the product's bulk intake, so a batch is checked a column at a time: every
distinct text of a column is parsed once (the rows of a receipt repeat its values; prices, quantities and
times repeat across receipts) and the column is then mapped to values in C. That fast path only accepts
what is certainly valid. Any doubt about a row sends it to the detailed check, which names every problem
and is the one that decides. Both use the same value parsers. The checked lines leave as columns too
(`LineColumns`), which is how the spool keeps them and the writer reads them.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta
from itertools import chain
from typing import Any, cast

from smartcomm.imports.formats import (
    CUSTOM_PREFIX,
    LINE_CUSTOM_PREFIX,
    RECEIPT_COLUMNS,
    Batch,
    CheckContext,
    Layout,
)
from smartcomm.imports.reading import Moments, Units, convert, custom_values, fit, required, text_value
from smartcomm.imports.schemas import ErrorLog, RowError
from smartcomm.models.receipts import RECEIPT_STATUSES

EMPTY_JSON = "{}"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)
NAME_LIMIT = 64
STATUS_TEXTS = frozenset({"", *RECEIPT_STATUSES})
DISAGREES = "the receipt values differ from an earlier row of this receipt"
_CACHE_LIMIT = 500_000
# Rows checked together: few enough that their cells stay in the CPU cache between column passes.
PART_ROWS = 4096


def to_micros(moment: datetime) -> int:
    return (moment - EPOCH) // MICROSECOND


def line_amount(quantity: int, price: int, discount: int) -> int:
    """quantity × price − discount in minor units, rounded half-even like `ReceiptLineIn.line_amount`."""
    units, remainder = divmod(quantity * price, 1000)
    if remainder * 2 > 1000 or (remainder * 2 == 1000 and units % 2):
        units += 1
    return max(0, units - discount)


@dataclass(slots=True)
class LineColumns:
    """Checked receipt lines of one batch, one list per column, in file order.

    Money is in minor units (hundredths), quantities in thousandths, custom fields as JSON text.
    """

    rows: list[int]  # the file's line numbers
    numbers: list[str]
    stores: list[str]  # store codes
    customer_ids: list[int]
    moments: list[int]  # purchased_at, microseconds since 1970 UTC
    statuses: list[str]
    totals: list[int | None]  # None: the sum of the receipt's line amounts
    discounts: list[int]
    bonus_earned: list[int]
    bonus_spent: list[int]
    customs: list[str]
    skus: list[str]
    quantities: list[int]
    prices: list[int]
    amounts: list[int]
    line_discounts: list[int]
    line_customs: list[str]

    def __len__(self) -> int:
        return len(self.rows)

    def columns(self) -> list[list[Any]]:
        return [getattr(self, name) for name in LINE_FIELDS]

    @staticmethod
    def joined(parts: list[LineColumns]) -> LineColumns:
        """The lines of `parts`, one after the other."""
        if len(parts) == 1:
            return parts[0]
        columns = (
            zip(*(part.columns() for part in parts), strict=True) if parts else ([] for _ in LINE_FIELDS)
        )
        return LineColumns(*(list(chain.from_iterable(pieces)) for pieces in columns))

    def without(self, indices: Collection[int]) -> LineColumns:
        """The same lines but those at `indices`."""
        if not indices:
            return self
        kept = [i for i in range(len(self.rows)) if i not in indices]
        return LineColumns(*([column[i] for i in kept] for column in self.columns()))


LINE_FIELDS = tuple(field.name for field in fields(LineColumns))


class ReceiptRows:
    """Receipt lines, one per row. The receipt columns repeat on every row of a receipt and must agree.

    Rows of one receipt may be anywhere in the file: the checker remembers a hash of every receipt's
    values (to catch rows that disagree) and which receipts are split, so the writer can merge them.
    """

    def __init__(self, layout: Layout, context: CheckContext) -> None:
        self.layout = layout
        self.width = layout.width
        self.money = Units(2, max_digits=16)
        self.quantity = Units(3, max_digits=15, positive=True)
        self.moments = Moments(context.zone)
        self._last_moment: tuple[str | None, int] = (None, 0)
        # Column caches of the fast path: text -> value; an empty cell's value is preset.
        self._amounts: dict[str, int | None] = {"": None}
        self._quantities: dict[str, int] = {"": 1000}
        self._micros_of: dict[str, int] = {}
        self.custom = list(layout.custom.items())
        self.line_custom = list(layout.line_custom.items())
        self.types = context.custom_types.get("receipt", {})
        self.line_types = context.custom_types.get("receipt_line", {})
        self.customer_ids = context.customer_ids
        self.columns = tuple(layout.at(name) for name in RECEIPT_COLUMNS.system)
        self.signatures: dict[int, int] = {}  # hash of (store, number) -> hash of the receipt's values
        self.split: set[int] = set()  # receipts whose rows are not adjacent
        self.rejected: dict[tuple[str, str], int] = {}  # (store, number) -> first row with an error
        self._last_key = 0
        self._blank = [""] * self.width  # stands in for rows of another width on the fast path

    def check(self, batch: Batch, log: ErrorLog) -> LineColumns:
        parts = range(0, len(batch), PART_ROWS)
        return LineColumns.joined([self._check_part(batch[at : at + PART_ROWS], log) for at in parts])

    def _check_part(self, batch: Batch, log: ErrorLog) -> LineColumns:
        rows = [row for row, _ in batch]
        width, blank = self.width, self._blank
        values, doubtful = self._fast([cells if len(cells) == width else blank for _, cells in batch])
        problems, skipped = self._explain_doubtful(batch, values, doubtful)
        customers = values[2]
        found = self.customer_ids(set(customers).difference(("",)))
        customer_ids = list(map(found.get, customers))
        if None in customer_ids:
            self._unknown_customers(rows, customers, customer_ids, problems, skipped)
        keys = list(map(hash, zip(values[1], values[0], strict=True)))
        signatures = list(map(hash, zip(customers, *values[3:10], strict=True)))
        self._follow_receipts(rows, values[0], values[1], keys, signatures, problems, skipped)
        for index in sorted(problems):
            log.extend(problems[index])
        # Rows whose customer is unknown have a problem: the lines kept all have a customer id.
        lines = LineColumns(rows, values[0], values[1], cast(list[int], customer_ids), *values[3:])
        return lines.without(problems.keys() | skipped)

    def _explain_doubtful(
        self, batch: Batch, values: list[list[Any]], doubtful: set[int]
    ) -> tuple[dict[int, list[RowError]], set[int]]:
        """Rows the fast path doubts go through the detailed check: its values replace the fast ones.

        Returns the problems by row index, and the rows without values (wrong number of cells).
        """
        problems: dict[int, list[RowError]] = {}
        skipped: set[int] = set()
        for index in sorted(doubtful):
            row, cells = batch[index]
            explained, errors = self._explain(row, cells)
            if explained is None:
                skipped.add(index)
            else:
                for column, value in zip(values, explained, strict=True):
                    column[index] = value
            if errors:
                problems[index] = errors
        return problems, skipped

    @staticmethod
    def _unknown_customers(
        rows: list[int], customers: list[str], customer_ids: list[int | None],
        problems: dict[int, list[RowError]], skipped: set[int],
    ) -> None:  # fmt: skip
        for index, (text, customer_id) in enumerate(zip(customers, customer_ids, strict=True)):
            if customer_id is None and text and index not in skipped:
                problem = RowError(rows[index], "customer_external_id", "no customer with this external id")
                problems.setdefault(index, []).append(problem)

    def _follow_receipts(
        self, rows: list[int], numbers: list[str], stores: list[str], keys: list[int], signatures: list[int],
        problems: dict[int, list[RowError]], skipped: set[int],
    ) -> None:  # fmt: skip
        """Receipt bookkeeping in file order: a receipt's first row sets its values and later rows must
        agree; receipts whose rows are not adjacent are split; a wrong row rejects its receipt."""
        known_signatures, split, last = self.signatures, self.split, self._last_key
        for index, key, signature in zip(range(len(keys)), keys, signatures, strict=True):
            if index in skipped:
                continue  # no values: not a row of any receipt
            if index not in problems:
                known = known_signatures.get(key)
                if known is None:
                    known_signatures[key] = signature
                    last = key
                    continue
                if known == signature:
                    if key != last:
                        split.add(key)
                    last = key
                    continue
                problems[index] = [RowError(rows[index], "number", DISAGREES)]
            last = key
            if numbers[index] and stores[index]:
                self.rejected.setdefault((stores[index], numbers[index]), rows[index])
        self._last_key = last

    def _micros(self, text: str) -> int:
        # Rows of one receipt repeat its time: remember the previous answer.
        last_text, last_value = self._last_moment
        if text != last_text:
            last_value = to_micros(self.moments(text))
            self._last_moment = (text, last_value)
        return last_value

    def _cell_micros(self, text: str) -> int:
        return self._micros(text.strip())

    def _cell_money(self, text: str) -> int | None:
        text = text.strip()
        return self.money(text) if text else None

    def _cell_quantity(self, text: str) -> int:
        text = text.strip()
        return self.quantity(text) if text else 1000

    def _fast(self, rows: list[list[str]]) -> tuple[list[list[Any]], set[int]]:
        """The sixteen value columns of the rows, and the rows that are not certainly valid (doubtful):
        the detailed check decides about those, and their values here mean nothing."""
        count, doubtful = len(rows), set[int]()
        if not rows:
            return [[] for _ in range(16)], doubtful
        columns = [*zip(*rows, strict=True), ("",) * count]  # absent columns point at the last one
        c = self.columns

        def stripped(index: int) -> list[str]:
            return list(map(str.strip, columns[index]))

        number, store, customer, sku = stripped(c[0]), stripped(c[1]), stripped(c[2]), stripped(c[9])
        for texts in (number, store, customer, sku):
            _names(texts, doubtful)
        status = self._statuses(list(map(str.lower, stripped(c[4]))), doubtful)
        # Parsed columns are cached by their raw text: only texts met for the first time get stripped.
        when = self._parsed(columns[c[3]], self._micros_of, self._cell_micros, doubtful)
        total, discount, earned, spent, price, amount, line_discount = (
            self._parsed(columns[c[i]], self._amounts, self._cell_money, doubtful)
            for i in (5, 6, 7, 8, 11, 12, 13)
        )
        quantity = self._parsed(columns[c[10]], self._quantities, self._cell_quantity, doubtful)
        if None in price:  # price is required
            doubtful.update(i for i, value in enumerate(price) if value is None)
        discount, earned, spent, line_discount = (
            _zero_when_empty(v) for v in (discount, earned, spent, line_discount)
        )
        custom, line_custom = self._custom_json(rows, doubtful)
        if None in amount:
            for i, value in enumerate(amount):
                if value is None and i not in doubtful:
                    amount[i] = line_amount(quantity[i], price[i], line_discount[i] or 0)
        return [
            number, store, customer, when, status, total, discount, earned, spent, custom, sku, quantity,
            price, amount, line_discount, line_custom,
        ], doubtful  # fmt: skip

    def _statuses(self, texts: list[str], doubtful: set[int]) -> list[str]:
        present = set(texts)
        if not present <= STATUS_TEXTS:
            doubtful.update(i for i, text in enumerate(texts) if text not in STATUS_TEXTS)
        return [text or "paid" for text in texts] if "" in present else texts

    def _parsed(
        self, texts: Sequence[str], known: dict[str, Any], parse: Callable[[str], Any], doubtful: set[int]
    ) -> list[Any]:
        """A column's values: each text not met before is parsed once and kept in `known` (its cache);
        rows whose text does not parse are doubtful."""
        new = set(texts).difference(known)
        if new and len(known) + len(new) > _CACHE_LIMIT:
            _forget(known)
            new = set(texts).difference(known)
        wrong = set()
        for text in new:
            try:
                known[text] = parse(text)
            except ValueError:
                wrong.add(text)
        if wrong:
            doubtful.update(i for i, text in enumerate(texts) if text in wrong)
        return list(map(known.get, texts))

    def _custom_json(self, rows: list[list[str]], doubtful: set[int]) -> tuple[list[str], list[str]]:
        if not (self.custom or self.line_custom):
            return [EMPTY_JSON] * len(rows), [EMPTY_JSON] * len(rows)
        custom: list[str] = []
        line_custom: list[str] = []
        for i, cells in enumerate(rows):
            problems: list[RowError] = []
            padded = [*cells, ""]
            custom.append(self._json(problems, 0, padded, self.custom, self.types, CUSTOM_PREFIX))
            line_custom.append(
                self._json(problems, 0, padded, self.line_custom, self.line_types, LINE_CUSTOM_PREFIX)
            )
            if problems:
                doubtful.add(i)
        return custom, line_custom

    def _explain(self, row: int, cells: list[str]) -> tuple[list[Any] | None, list[RowError]]:
        """Every problem of the row, each naming its column; the values too when there are none."""
        errors: list[RowError] = []
        problem = fit(cells, self.width, row)
        if problem:
            return None, [problem]
        c, money = self.columns, self.money
        number = text_value(errors, row, "number", cells[c[0]].strip(), NAME_LIMIT, True)
        store = text_value(errors, row, "store", cells[c[1]].strip(), NAME_LIMIT, True)
        customer = text_value(errors, row, "customer_external_id", cells[c[2]].strip(), NAME_LIMIT, True)
        when = required(errors, row, "purchased_at", cells[c[3]].strip(), self._micros)
        status = cells[c[4]].strip().lower() or "paid"
        if status not in RECEIPT_STATUSES:
            errors.append(RowError(row, "status", "expected paid, returned or cancelled"))
        total = convert(errors, row, "total", cells[c[5]].strip(), money)
        discount = convert(errors, row, "discount", cells[c[6]].strip(), money, 0)
        earned = convert(errors, row, "bonus_earned", cells[c[7]].strip(), money, 0)
        spent = convert(errors, row, "bonus_spent", cells[c[8]].strip(), money, 0)
        custom = self._json(errors, row, cells, self.custom, self.types, CUSTOM_PREFIX)
        sku = text_value(errors, row, "sku", cells[c[9]].strip(), NAME_LIMIT, True)
        quantity = convert(errors, row, "quantity", cells[c[10]].strip(), self.quantity, 1000)
        price = required(errors, row, "price", cells[c[11]].strip(), money)
        amount = convert(errors, row, "amount", cells[c[12]].strip(), money)
        line_discount = convert(errors, row, "line_discount", cells[c[13]].strip(), money, 0)
        if amount is None and not errors:
            amount = line_amount(quantity, price, line_discount)
        line_custom = self._json(errors, row, cells, self.line_custom, self.line_types, LINE_CUSTOM_PREFIX)
        values = [number, store, customer, when, status, total, discount, earned, spent, custom, sku,
                  quantity, price, amount, line_discount, line_custom]  # fmt: skip
        return values, errors

    @staticmethod
    def _json(
        errors: list[RowError], row: int, cells: list[str], columns: list[tuple[str, int]],
        types: dict[str, str], prefix: str,
    ) -> str:  # fmt: skip
        if not columns:
            return EMPTY_JSON
        cleaned = custom_values(errors, row, cells, columns, types, prefix)
        return json.dumps({code: value for code, value in cleaned.items() if value is not None})


def _names(texts: list[str], doubtful: set[int]) -> None:
    """Required names of at most NAME_LIMIT characters: rows breaking that are doubtful."""
    lengths = list(map(len, texts))
    if min(lengths) == 0 or max(lengths) > NAME_LIMIT:
        doubtful.update(i for i, length in enumerate(lengths) if length == 0 or length > NAME_LIMIT)


def _zero_when_empty(values: list[int | None]) -> list[int | None]:
    return [0 if value is None else value for value in values] if None in values else values


def _forget(known: dict[str, Any]) -> None:
    """Empty a column cache, keeping the preset value of an empty cell."""
    empty = known.get("", known)
    known.clear()
    if empty is not known:
        known[""] = empty
