"""Checking receipt rows: one row per receipt line, the receipt's own columns repeated on each of its rows.

This is the hottest loop of the product's bulk intake. A batch is first checked column by column
(`map` over whole columns runs in C, and repeated values come from caches); that fast path only
accepts what is certainly valid. Any doubt about a row sends it to the detailed check, which names
every problem and is the one that decides. Both use the same value parsers.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from itertools import repeat
from typing import Any

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

# One checked receipt line, as a plain tuple (millions of them go through the spool): row, number, store
# code, customer id, purchased at (microseconds since 1970 UTC), status, total or None, discount, bonus
# earned, bonus spent, receipt custom JSON, sku, quantity (thousandths), price, amount, line discount,
# line custom JSON. Money is in minor units (hundredths).
LineRow = tuple[int, str, str, int, int, str, int | None, int, int, int, str, str, int, int, int, int, str]
EMPTY_JSON = "{}"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)
NAME_LIMIT = 64
STATUS_TEXTS = frozenset({"", *RECEIPT_STATUSES})
NO_ERRORS: tuple[RowError, ...] = ()
_UNKNOWN = object()  # not in a cache yet
_CACHE_LIMIT = 500_000


def to_micros(moment: datetime) -> int:
    return (moment - EPOCH) // MICROSECOND


def from_micros(micros: int) -> datetime:
    return EPOCH + timedelta(microseconds=micros)


def line_amount(quantity: int, price: int, discount: int) -> int:
    """quantity × price − discount in minor units, rounded half-even like `ReceiptLineIn.line_amount`."""
    units, remainder = divmod(quantity * price, 1000)
    if remainder * 2 > 1000 or (remainder * 2 == 1000 and units % 2):
        units += 1
    return max(0, units - discount)


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

    @property
    def receipts(self) -> int:
        return len(self.signatures)

    def check(self, batch: Batch, log: ErrorLog) -> list[LineRow]:
        regular = [cells for _, cells in batch if len(cells) == self.width]
        fast = iter(self._fast(regular))
        parsed: list[tuple[int, Sequence[Any] | None, Sequence[RowError]]] = []
        for row, cells in batch:
            values: Sequence[Any] | None = next(fast) if len(cells) == self.width else None
            parsed.append(
                (row, values, NO_ERRORS) if values is not None else (row, *self._explain(row, cells))
            )
        customers = self.customer_ids(
            {values[2] for _, values, _ in parsed if values is not None and values[2]}
        )
        lines: list[LineRow] = []
        for row, values, errors in parsed:
            if values is None:
                log.extend(errors)
                continue
            problems = self._problems(row, values, errors, customers.get(values[2]))
            if problems:
                log.extend(problems)
            else:
                v = values  # one tuple per line, built in one step: this runs for every row
                lines.append((row, v[0], v[1], customers[v[2]], v[3], v[4], v[5], v[6], v[7], v[8], v[9],
                              v[10], v[11], v[12], v[13], v[14], v[15]))  # fmt: skip
        return lines

    def _problems(
        self, row: int, values: Sequence[Any], errors: Sequence[RowError], customer_id: int | None
    ) -> Sequence[RowError]:
        """The row's problems once its customer is known; the receipt bookkeeping is kept on the way."""
        key = hash((values[1], values[0]))
        if customer_id is None and values[2]:
            errors = [*errors, RowError(row, "customer_external_id", "no customer with this external id")]
        if not errors:
            disagreement = self._agree(row, key, hash((values[2], *values[3:10])))
            errors = NO_ERRORS if disagreement is None else [disagreement]
        self._last_key = key
        if errors and values[0] and values[1]:
            self.rejected.setdefault((values[1], values[0]), row)
        return errors

    def _agree(self, row: int, key: int, signature: int) -> RowError | None:
        known = self.signatures.get(key)
        if known is None:
            self.signatures[key] = signature
        elif known != signature:
            return RowError(row, "number", "the receipt values differ from an earlier row of this receipt")
        elif key != self._last_key:
            self.split.add(key)
        return None

    def _micros(self, text: str) -> int:
        # Rows of one receipt repeat its time: remember the previous answer.
        last_text, last_value = self._last_moment
        if text != last_text:
            last_value = to_micros(self.moments(text))
            self._last_moment = (text, last_value)
        return last_value

    def _fast(self, rows: list[list[str]]) -> list[tuple[Any, ...] | None]:
        """Each row's values when it is certainly valid, else None (the detailed check then decides)."""
        if not rows:
            return []
        count, doubtful = len(rows), set[int]()
        columns = [*zip(*rows, strict=True), ("",) * count]  # absent columns point at the last one
        c = self.columns

        def stripped(index: int) -> list[str]:
            return list(map(str.strip, columns[index]))

        number, store, customer, sku = stripped(c[0]), stripped(c[1]), stripped(c[2]), stripped(c[9])
        for texts in (number, store, customer, sku):
            _names(texts, doubtful)
        status = self._statuses(list(map(str.lower, stripped(c[4]))), doubtful)
        when = self._cached(stripped(c[3]), self._micros_of, self._micros, doubtful)
        total, discount, earned, spent, price, amount, line_discount = (
            self._cached(stripped(c[i]), self._amounts, self.money, doubtful)
            for i in (5, 6, 7, 8, 11, 12, 13)
        )
        quantity = self._cached(stripped(c[10]), self._quantities, self.quantity, doubtful)
        doubtful.update(i for i, value in enumerate(price) if value is None)  # price is required
        discount, earned, spent, line_discount = (
            _zero_when_empty(v) for v in (discount, earned, spent, line_discount)
        )
        custom, line_custom = self._custom_json(rows, doubtful)
        for i, value in enumerate(amount):
            if value is None and i not in doubtful:
                amount[i] = line_amount(quantity[i], price[i], line_discount[i] or 0)
        values: list[tuple[Any, ...] | None] = list(zip(
            number, store, customer, when, status, total, discount, earned, spent, custom, sku, quantity,
            price, amount, line_discount, line_custom, strict=True,
        ))  # fmt: skip
        for i in doubtful:
            values[i] = None
        return values

    def _statuses(self, texts: list[str], doubtful: set[int]) -> list[str]:
        present = set(texts)
        if not present <= STATUS_TEXTS:
            doubtful.update(i for i, text in enumerate(texts) if text not in STATUS_TEXTS)
        return [text or "paid" for text in texts] if "" in present else texts

    def _cached(
        self, texts: list[str], known: dict[str, Any], parse: Callable[[str], Any], doubtful: set[int]
    ) -> list[Any]:
        """Values of a column from its cache (in C); texts seen for the first time are parsed and kept."""
        values = list(map(known.get, texts, repeat(_UNKNOWN)))
        if _UNKNOWN in values:
            if len(known) > _CACHE_LIMIT:
                empty = known.get("", _UNKNOWN)
                known.clear()
                if empty is not _UNKNOWN:
                    known[""] = empty
            for i, value in enumerate(values):
                if value is _UNKNOWN:
                    values[i] = self._parse_into(known, texts[i], parse, i, doubtful)
        return values

    @staticmethod
    def _parse_into(
        known: dict[str, Any], text: str, parse: Callable[[str], Any], i: int, doubtful: set[int]
    ) -> Any:
        # The same new text often repeats within a batch (the lines of one receipt): parse it once.
        value = known.get(text, _UNKNOWN)
        if value is not _UNKNOWN:
            return value
        try:
            value = known[text] = parse(text)
        except ValueError:
            doubtful.add(i)
            return None
        return value

    def _custom_json(self, rows: list[list[str]], doubtful: set[int]) -> tuple[Sequence[str], Sequence[str]]:
        if not (self.custom or self.line_custom):
            empty = (EMPTY_JSON,) * len(rows)
            return empty, empty
        custom, line_custom = [], []
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
