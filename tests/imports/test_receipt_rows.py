"""Receipt rows: the fast path never accepts what the detailed check refuses, and agrees on the values."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from smartcomm.imports.formats import RECEIPT_COLUMNS, CheckContext
from smartcomm.imports.receipt_rows import ReceiptRows, line_amount
from smartcomm.imports.schemas import ErrorLog

HEADER = list(RECEIPT_COLUMNS.system)
GOOD = {
    "number": ["R1", " R2 "], "store": ["S1", "S" * 64], "customer_external_id": ["C-1", "C-2"],
    "purchased_at": ["2026-01-10 10:00", "2026-01-10T10:00:00+03:00"], "status": ["", "paid", "RETURNED"],
    "total": ["", "10", "0"], "discount": ["", "1,5"],
    "bonus_earned": ["", "2.25"], "bonus_spent": ["", "0.1"],
    "sku": ["A", " B "], "quantity": ["", "1", "0.333", "2,5"], "price": ["3.33", "0", "10,5"],
    "amount": ["", "7"], "line_discount": ["", "0.5", "99"],
}  # fmt: skip
ODD = ["", "x" * 65, "-3", "+4", "1.005", "1e3", "abc", "٣", "2026-13-01", "lost", "99999999999999.99", "0"]
ROWS = st.fixed_dictionaries({name: st.sampled_from(values) for name, values in GOOD.items()})


def checker() -> ReceiptRows:
    context = CheckContext(ZoneInfo("Europe/Moscow"), "RU", {}, lambda ids: {"C-1": 1, "C-2": 2})
    return ReceiptRows(RECEIPT_COLUMNS.layout(HEADER, {}), context)


def agree(cells: list[str]) -> None:
    """The fast path accepts only what the detailed check accepts, with the same values."""
    rows = checker()
    explained, errors = rows._explain(2, list(cells))
    values, doubtful = rows._fast([list(cells)])
    fast = None if doubtful else tuple(column[0] for column in values)
    if fast is not None:
        assert errors == [] and explained is not None and fast == tuple(explained), cells
    if not errors:
        # A row the detailed check accepts goes through the whole checker, if its customer exists.
        known = explained is not None and explained[2] in ("C-1", "C-2")
        assert len(rows.check([(2, list(cells))], ErrorLog())) == (1 if known else 0), cells


def test_every_single_odd_cell() -> None:
    base = {name: values[0] for name, values in GOOD.items()}
    for column in HEADER:
        for value in [*GOOD[column], *ODD]:
            agree([value if name == column else base[name] for name in HEADER])


@settings(max_examples=200, deadline=None)
@given(texts=ROWS)
def test_any_mix_of_good_cells(texts: dict[str, str]) -> None:
    agree([texts[name] for name in HEADER])


def test_line_amount_rounds_half_even_like_the_api() -> None:
    # 0.333 × 3.33 = 1.10889 -> 1.11; 0.5 × 0.05 = 0.025 -> 0.02; 1.5 × 0.05 = 0.075 -> 0.08; never below zero
    assert [
        line_amount(333, 333, 0),
        line_amount(500, 5, 0),
        line_amount(1500, 5, 0),
        line_amount(1000, 5, 9),
    ] == [111, 2, 8, 0]
