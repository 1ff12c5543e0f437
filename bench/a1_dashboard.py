"""A1: a full recomputation of the Summary dashboard, in seconds.

Each repetition runs the scheduled job with `force` (`analytics.dashboard_schedule`: every preset period —
the last 3, 6, 12 and 24 months — each computed and stored in a transaction of its own) on the S figures'
working copy, timed from the call to the last commit. One untimed recomputation comes first, so every
timed one replaces stored snapshots, as the schedule does.

The reference is DuckDB computing the same figures for the same periods from the same rows (receipts,
the credited attributed receipts, the RFM calculations), with the periods' boundaries as the product
computes them (calendar months in the project time zone, as UTC instants). After each repetition every
period's stored figures are compared with DuckDB's; any difference fails the figure.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from bench.results import Figure, Target
from bench.run import BenchError, Run
from bench.workcopy import WorkCopy, timed_duckdb

RATIO_TARGET = Target(4, False, "≤ 4× DuckDB")
# The figure's own reference rows, beside the receipts and customers every S figure loads.
TABLES: dict[str, tuple[str, dict[str, str], str]] = {
    "attributed": (
        "SELECT receipt_id, channel FROM attributed_receipts WHERE credited",
        {"receipt_id": "BIGINT", "channel": "VARCHAR"},
        "SELECT receipt_id, channel FROM attributed_receipts WHERE credited",
    ),
    "rfm_calculations": (
        "SELECT id, started_at, status, best, lost FROM rfm_calculations",
        {"id": "BIGINT", "started_at": "TIMESTAMP", "status": "VARCHAR", "best": "BIGINT", "lost": "BIGINT"},
        "SELECT id, started_at AT TIME ZONE 'UTC', status, best, lost FROM rfm_calculations",
    ),
}
PAID = "status = 'paid'"
BASE = """
SELECT bucket, count(*) FROM (
    SELECT {bucket} AS bucket
    FROM (
        SELECT max(purchased_at) AS last FROM receipts WHERE {paid} AND purchased_at < ? GROUP BY customer_id
    )
) GROUP BY bucket
"""
RETURNING = """
SELECT receipts >= 2, count(*), sum(amount) FROM (
    SELECT count(*) AS receipts, sum(total) AS amount FROM receipts
    WHERE {paid} AND purchased_at >= ? AND purchased_at < ? GROUP BY customer_id
) GROUP BY ALL
"""
REPEAT = """
WITH monthly AS (
    SELECT customer_id, {month} AS month, count(*) AS receipts FROM receipts
    WHERE {paid} AND purchased_at >= ? AND purchased_at < ? GROUP BY ALL
)
SELECT month, count(*), count(*) FILTER (WHERE so_far >= 2) FROM (
    SELECT month, sum(receipts) OVER (PARTITION BY customer_id ORDER BY month) AS so_far FROM monthly
) GROUP BY month
"""
SALES = """
SELECT {month} AS month, attributed.channel, count(*), sum(receipts.total)
FROM receipts LEFT JOIN attributed ON attributed.receipt_id = receipts.id
WHERE {paid} AND purchased_at >= ? AND purchased_at < ? GROUP BY ALL
"""
RFM = """
SELECT {month} AS month, arg_max(best, id), arg_max(lost, id) FROM rfm_calculations
WHERE status = 'done' AND started_at >= ? AND started_at < ? GROUP BY ALL
"""


def measure(run: Run, copy: WorkCopy) -> list[Figure]:
    backend = copy.backend
    figure = Figure(
        "A1",
        "full dashboard recomputation",
        backend,
        "s",
        None,
        reference_title="DuckDB",
        details={"periods": [], "duckdb_rows": None},
    )
    ratio = Figure("A1", "dashboard recomputation over DuckDB's time", backend, "×", RATIO_TARGET)
    try:
        duck = copy.duckdb()
        for name, (statement, columns, postgres) in TABLES.items():
            copy.duckdb_table(name, statement, columns, postgres)
        figure.details["duckdb_rows"] = dict(copy.loaded)
        _recompute(copy)  # warm-up: leaves the snapshots a timed run replaces
        for _ in range(run.repeat):
            started = time.perf_counter()
            keys = _recompute(copy)
            seconds = time.perf_counter() - started
            reference = sum(_reference(duck, copy, key) for key in keys)
            figure.values.append(seconds)
            figure.reference.append(reference)
            ratio.values.append(seconds / reference)
            figure.details["periods"] = keys
            run.console.print(
                f"A1 {backend}: {seconds:.2f} s (DuckDB {reference:.2f} s, {seconds / reference:.1f}×), "
                f"{len(keys)} periods, the same figures as DuckDB"
            )
    except BenchError as error:
        figure.error = ratio.error = str(error)
    return [figure, ratio]


def _recompute(copy: WorkCopy) -> list[str]:
    """The scheduled job's whole work, forced; the periods it stored."""
    from smartcomm.analytics.tasks import recompute_on_schedule

    with copy.bound():
        keys: list[str] = recompute_on_schedule.call_local(True)
    if not keys:
        raise BenchError("the dashboard job recomputed no period")
    return keys


def _reference(duck: Any, copy: WorkCopy, key: str) -> float:
    """DuckDB's seconds for one period's figures; raises when they differ from the product's snapshot."""
    from smartcomm.analytics.dashboard import dashboard_service

    with copy.session(read_only=True) as session:
        snapshot = dashboard_service.snapshot(session, key)
        if snapshot is None:
            raise BenchError(f"no snapshot of {key}")
        data = dashboard_service.data(snapshot)
        period = dashboard_service.period(session, key, snapshot.computed_at)
    start, end, bounds = _naive(period.start), _naive(period.end), [_naive(b) for b in period.month_bounds]
    months = len(bounds)
    lowers = [_naive(_lower(period, k)) for k in range(1, months + 1)]
    seconds, found = 0.0, {}
    for name, statement, parameters in (
        ("base", BASE.format(bucket=_at_or_after("last", lowers), paid=PAID), [end]),
        ("returning", RETURNING.format(paid=PAID), [start, end]),
        ("repeat", REPEAT.format(month=_before("purchased_at", bounds[1:]), paid=PAID), [start, end]),
        ("sales", SALES.format(month=_before("purchased_at", bounds[1:]), paid=PAID), [start, end]),
        ("rfm", RFM.format(month=_before("started_at", bounds[1:])), [start, end]),
    ):
        took, rows = timed_duckdb(duck, statement, parameters)
        seconds, found[name] = seconds + took, rows
    _compare(key, data, found, months)
    return seconds


def _compare(key: str, data: Any, found: dict[str, list[Any]], months: int) -> None:
    """The product's stored figures of a period against DuckDB's, block by block."""
    base = {int(bucket): int(count) for bucket, count in found["base"]}
    expected: dict[str, Any] = {
        "base": [base.get(k, 0) for k in range(months + 1)],
        "returning": {bool(flag): (int(n), int(amount)) for flag, n, amount in found["returning"]},
        "repeat": {int(m): (int(buyers), int(repeat)) for m, buyers, repeat in found["repeat"]},
        "sales": {(int(m), channel): (int(n), int(amount)) for m, channel, n, amount in found["sales"]},
        "rfm": {int(m): (int(best), int(lost)) for m, best, lost in found["rfm"]},
    }
    product: dict[str, Any] = {
        "base": [bucket.customers for bucket in data.base_quality[:-1]],
        "returning": {
            flag: (split.customers, _cents(split.revenue))
            for flag, split in ((True, data.returning), (False, data.one_time))
            if split.customers
        },
        "repeat": {m: (row.buyers, row.repeat) for m, row in enumerate(data.repeat) if row.buyers},
        "sales": _product_sales(data),
        "rfm": {m: (row.best, row.lost) for m, row in enumerate(data.rfm) if row.best is not None},
    }
    for block, value in expected.items():
        if product[block] != value:
            raise BenchError(f"{key}: {block} differs from DuckDB (product {product[block]}, DuckDB {value})")


def _product_sales(data: Any) -> dict[tuple[int, str | None], tuple[int, int]]:
    sales: dict[tuple[int, str | None], tuple[int, int]] = {}
    for m, month in enumerate(data.sales):
        if month.regular.receipts:
            sales[(m, None)] = (month.regular.receipts, _cents(month.regular.amount))
        for channel, figures in month.channels.items():
            sales[(m, channel)] = (figures.receipts, _cents(figures.amount))
    return sales


def _lower(period: Any, k: int) -> datetime:
    """The start of bucket k − 1 of the histogram, as the product places it (see analytics.dashboard)."""
    from datetime import timedelta

    from smartcomm.kit.time import start_of_day
    from smartcomm.segments.metrics.base import add_months

    return start_of_day(add_months(period.last_day, -k) + timedelta(days=1), period.zone)


def _at_or_after(column: str, lowers: Sequence[datetime]) -> str:
    whens = " ".join(f"WHEN {column} >= TIMESTAMP '{lower}' THEN {k}" for k, lower in enumerate(lowers))
    return f"CASE {whens} ELSE {len(lowers)} END"


def _before(column: str, bounds: Sequence[datetime]) -> str:
    if not bounds:
        return "0"
    whens = " ".join(f"WHEN {column} < TIMESTAMP '{bound}' THEN {m}" for m, bound in enumerate(bounds))
    return f"CASE {whens} ELSE {len(bounds)} END"


def _naive(moment: datetime) -> datetime:
    return moment.replace(tzinfo=None)  # DuckDB holds the UTC instants as plain timestamps


def _cents(amount: Any) -> int:
    return int(amount * 100)
