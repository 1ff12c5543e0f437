"""S3: materialising a segment of about 30 % of the base (300 k members at tier S) with its
entered/exited diff, in seconds.

Two rules select about 30 % of the customers each, overlapping only in part: A "at least q receipts"
and B "purchase amount at least a" (q and a are read from the base so that each holds about 30 %). Each
repetition creates a segment with rule A and builds it (untimed), switches it to rule B and times
`segment_service.build` (the rules' statement into a temporary table, new stays for the customers who
entered, closed stays for those who left, both appended to the segment event stream, the build record
and the segment's metrics) until the commit. The build's members, entered and exited must equal the
counts worked out directly from the customers' aggregates, and the stored current membership must
hold exactly the members. The segment and its rows are deleted afterwards.
"""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any

from bench.results import Figure, Target
from bench.run import BenchError, Run
from bench.workcopy import WorkCopy

TARGET = Target(5, False, "≤ 5 s")
SHARE = 0.3


def measure(run: Run, copy: WorkCopy) -> list[Figure]:
    backend = copy.backend
    figure = Figure(
        "S3",
        "segment build with entered/exited diff",
        backend,
        "s",
        TARGET,
        details={"members": [], "entered": [], "exited": []},
    )
    try:
        receipts, amount = _thresholds(copy)
        figure.details["rules"] = {"A": f"receipt_count >= {receipts}", "B": f"total_amount >= {amount}"}
        expected = _expected(copy, receipts, amount)
        for repetition in range(run.repeat):
            segment_id = _segment_built_with_rule_a(copy, repetition, receipts)
            try:
                with copy.session() as session:
                    _switch_to_rule_b(session, segment_id, amount)
                seconds, outcome = _timed_build(copy, segment_id)
                _check(copy, segment_id, outcome, expected)
            finally:
                _delete(copy, segment_id)
            figure.values.append(seconds)
            for key, value in zip(("members", "entered", "exited"), outcome, strict=True):
                figure.details[key].append(value)
            run.console.print(
                f"S3 {backend}: {seconds:.2f} s, {outcome[0]:,} members, {outcome[1]:,} entered, "
                f"{outcome[2]:,} exited (as expected)"
            )
    except BenchError as error:
        figure.error = str(error)
    return [figure]


def _thresholds(copy: WorkCopy) -> tuple[int, int]:
    """The receipt count and amount (minor units) that about 30 % of the customers reach."""
    customers = int(copy.scalar("SELECT count(*) FROM customers"))
    offset = max(0, int(customers * SHARE) - 1)
    found = [
        copy.scalar(f"SELECT {column} FROM customers ORDER BY {column} DESC LIMIT 1 OFFSET {offset}")
        for column in ("receipt_count", "total_amount")
    ]
    if None in found:
        raise BenchError("the base has no customers")
    return int(found[0]), int(found[1])


def _expected(copy: WorkCopy, receipts: int, amount: int) -> tuple[int, int, int]:
    a, b = f"receipt_count >= {receipts}", f"total_amount >= {amount}"
    return (
        int(copy.scalar(f"SELECT count(*) FROM customers WHERE {b}")),
        int(copy.scalar(f"SELECT count(*) FROM customers WHERE {b} AND NOT ({a})")),
        int(copy.scalar(f"SELECT count(*) FROM customers WHERE {a} AND NOT ({b})")),
    )


def _rules(metric: str, value: Any) -> dict[str, Any]:
    condition = {"type": "condition", "metric": metric, "operator": "gte", "value": value}
    return {"version": 1, "root": {"type": "group", "op": "and", "children": [condition]}}


def _segment_built_with_rule_a(copy: WorkCopy, repetition: int, receipts: int) -> int:
    from smartcomm.models import Segment
    from smartcomm.segments.service import segment_service

    with copy.session() as session:
        # Saved directly: the service would queue a build job for a worker this process does not run.
        segment = Segment(name=f"Benchmark S3 #{repetition + 1}", rules=_rules("purchases.count", receipts))
        session.add(segment)
        session.flush()
        segment_id = segment.id
    with copy.session() as session:
        segment_service.build(session, segment_id, "benchmark")
    return segment_id


def _switch_to_rule_b(session: Any, segment_id: int, amount: int) -> None:
    from smartcomm.models import Segment

    segment = session.get(Segment, segment_id)
    segment.rules = _rules("purchases.amount", str(Decimal(amount) / 100))
    segment.rules_revision += 1


def _timed_build(copy: WorkCopy, segment_id: int) -> tuple[float, tuple[int, int, int]]:
    from smartcomm.segments.service import segment_service

    started = time.perf_counter()
    with copy.session() as session:
        build = segment_service.build(session, segment_id, "benchmark")
        outcome = (int(build.members or 0), int(build.entered or 0), int(build.exited or 0))
    return time.perf_counter() - started, outcome


def _check(copy: WorkCopy, segment_id: int, outcome: tuple[int, int, int], expected: tuple[int, ...]) -> None:
    current = int(
        copy.scalar(
            "SELECT count(*) FROM segment_memberships WHERE segment_id = :id AND exited_at IS NULL",
            {"id": segment_id},
        )
    )
    exits = int(
        copy.scalar(
            "SELECT count(*) FROM segment_events WHERE segment_id = :id AND kind = 'exited'",
            {"id": segment_id},
        )
    )
    if outcome != expected or current != expected[0] or exits != expected[2]:
        raise BenchError(
            f"the build reported members/entered/exited {outcome}, expected {expected}; "
            f"{current} current memberships and {exits} exit events stored"
        )


def _delete(copy: WorkCopy, segment_id: int) -> None:
    """The segment with its stays, events and builds (foreign keys cascade on both backends)."""
    with copy.database.engine.begin() as connection:
        for table in ("segment_events", "segment_memberships", "segment_builds"):
            connection.exec_driver_sql(f"DELETE FROM {table} WHERE segment_id = {int(segment_id)}")
        connection.exec_driver_sql(f"DELETE FROM segments WHERE id = {int(segment_id)}")
