"""Windowed purchase conditions of a segment read receipts and receipt lines through indexes, not full scans.

"Bought in category X at least twice in the last 90 days" must stay cheap as receipts grow: the database
should reach the lines by (category, time) or (customer, time), never by reading every line; "at least three
receipts in the last 90 days" reads each candidate's receipts by (customer, time) and the profile
conditions beside it run first.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ClauseElement, Executable, text
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session

from smartcomm.segments.compiler import compile_rules
from smartcomm.segments.rules import SegmentRules
from smartcomm.segments.service import segment_service
from tests.segments.shop import build_shop

LINE_INDEXES = ("ix_receipt_lines_category_purchased", "ix_receipt_lines_customer_purchased")
RECEIPT_INDEX = "ix_receipts_customer_purchased"


class Explain(Executable, ClauseElement):
    """EXPLAIN of a statement, with its parameters bound the usual way."""

    inherit_cache = False

    def __init__(self, statement: Any) -> None:
        self.statement = statement


@compiles(Explain)
def _explain(element: Explain, compiler: Any, **kw: Any) -> str:
    prefix = "EXPLAIN QUERY PLAN " if compiler.dialect.name == "sqlite" else "EXPLAIN "
    return prefix + compiler.process(element.statement, **kw)


def plan_lines(session: Session, statement: Any) -> list[str]:
    rows = session.execute(Explain(statement)).all()
    # SQLite answers (id, parent, notused, detail); PostgreSQL one text line per row.
    return [str(row[-1]) for row in rows]


def test_bought_in_a_category_twice_in_90_days_uses_a_receipt_line_index(session: Session) -> None:
    shop = build_shop(session)
    statement = compile_rules(shop.segment_rules(), segment_service.context(session))
    if session.get_bind().dialect.name == "postgresql":
        # A handful of rows makes a sequential scan the cheapest plan; turning it off (for this transaction
        # only) asks PostgreSQL which index it would use once receipt lines are many.
        session.execute(text("SET LOCAL enable_seqscan = off"))

    lines = plan_lines(session, statement)

    about_lines = [line for line in lines if "receipt_lines" in line]
    assert about_lines, lines
    assert any(index in line for line in about_lines for index in LINE_INDEXES), lines
    assert not [line for line in lines if _full_scan_of_lines(line)], lines
    # The plan answers the same question: Anna and Dina.
    assert set(session.scalars(statement)) == {shop.customers["C-1"], shop.customers["C-5"]}


def test_three_receipts_in_90_days_read_the_receipts_of_each_candidate(session: Session) -> None:
    shop = build_shop(session)
    rules = SegmentRules.model_validate(
        {
            "version": 1,
            "root": {
                "op": "and",
                "children": [
                    {
                        "metric": "purchases.count",
                        "operator": "gte",
                        "value": 3,
                        "params": {"period": {"kind": "last", "n": 90, "unit": "days"}},
                    },
                    {"metric": "profile.city", "operator": "eq", "value": "Moscow"},
                ],
            },
        }
    )
    statement = compile_rules(rules, segment_service.context(session))
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL enable_seqscan = off"))

    lines = plan_lines(session, statement)
    sql = str(statement.compile(session.get_bind()))

    about_receipts = [line for line in lines if "receipts" in line]
    assert any("ix_receipts_" in line for line in about_receipts), lines
    assert not [line for line in lines if _full_scan_of("receipts", line)], lines
    if session.get_bind().dialect.name == "sqlite":
        # (PostgreSQL picks between the receipt indexes by its statistics, which a handful of rows skews.)
        assert any(RECEIPT_INDEX in line for line in about_receipts), lines
    # The city (the customer's own row) is tested before the receipts are read, and so is the stored
    # number of all the customer's receipts: fewer than 3 in all cannot make 3 in the window.
    assert sql.index("customers.city") < sql.index("FROM receipts"), sql
    assert sql.index("customers.receipt_count >=") < sql.index("FROM receipts"), sql
    # Everyone bought bread 4 days ago; Vera and Gleb bought dairy only once within the 90 days (Gleb's
    # other dairy receipt is 200 days old), so they have two receipts there, the others three or four.
    expected = {shop.customers[code] for code in ("C-1", "C-2", "C-5", "C-6")}
    assert set(session.scalars(statement)) == expected


def _full_scan_of_lines(line: str) -> bool:
    return _full_scan_of("receipt_lines", line)


def _full_scan_of(table: str, line: str) -> bool:
    sqlite_scan = line.strip() == f"SCAN {table}"
    postgres_scan = f"Seq Scan on {table}" in line
    return sqlite_scan or postgres_scan
