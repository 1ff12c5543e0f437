"""S1: a full RFM recalculation with every score written back, in seconds.

Each repetition runs `rfm_service.run` (the product's whole calculation: the aggregate of the period,
the cutoffs, deleting the old scores, writing the new ones, the cells and thresholds) in one unit of
work on the S figures' working copy, timed from the call to the commit. One untimed calculation comes
first, so every timed one replaces the scores of a previous one, as the scheduled runs do.

The reference is DuckDB computing the same scores from the same receipts, written as the rule reads
(`1 + 5 × (RANK() − 1) ÷ N` over each value, worst first) into a table, with the same period and the
same "now" as the product's calculation. After each repetition both answers are compared customer by
customer (scores and values); any difference fails the figure.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from bench.results import Figure, Target
from bench.run import BenchError, Run
from bench.workcopy import WorkCopy, timed_duckdb

TARGETS = {"sqlite": Target(4, False, "≤ 4 s"), "postgres": Target(6, False, "≤ 6 s")}
RATIO_TARGET = Target(4, False, "≤ 4× DuckDB")
# The rank rule of docs/rfm.md, as DuckDB computes it; parameters: now (epoch seconds), since, now.
DUCKDB_SCORES = """
CREATE OR REPLACE TABLE rfm AS
WITH totals AS (
    SELECT customer_id,
           (? - epoch_ms(max(purchased_at)) // 1000) // 86400 AS recency_days,
           count(*) AS frequency,
           sum(total) AS monetary
    FROM receipts
    WHERE status = 'paid' AND purchased_at >= ? AND purchased_at <= ?
    GROUP BY customer_id
), population AS (SELECT count(*) AS n FROM totals)
SELECT customer_id,
       1 + 5 * (rank() OVER (ORDER BY recency_days DESC) - 1) // n AS r,
       1 + 5 * (rank() OVER (ORDER BY frequency) - 1) // n AS f,
       1 + 5 * (rank() OVER (ORDER BY monetary) - 1) // n AS m,
       recency_days, frequency, monetary
FROM totals, population
"""
STORED = "SELECT customer_id, r, f, m, recency_days, frequency, monetary FROM customer_rfm"


def measure(run: Run, copy: WorkCopy) -> list[Figure]:
    backend = copy.backend
    figure = Figure(
        "S1",
        "full RFM recalculation",
        backend,
        "s",
        TARGETS[backend],
        reference_title="DuckDB",
        details={"scored": [], "calculation_ms": [], "duckdb_threads": None},
    )
    ratio = Figure("S1", "RFM recalculation over DuckDB's time", backend, "×", RATIO_TARGET)
    try:
        duck = copy.duckdb()
        figure.details["duckdb_threads"] = duck.execute("SELECT current_setting('threads')").fetchone()[0]
        figure.details["duckdb_rows"] = dict(copy.loaded)
        now, period = _calculate(copy)  # warm-up: leaves the scores a timed run replaces
        timed_duckdb(duck, DUCKDB_SCORES, _parameters(now, period))
        for _ in range(run.repeat):
            started = time.perf_counter()
            now, period = _calculate(copy, figure)
            seconds = time.perf_counter() - started
            reference, _rows = timed_duckdb(duck, DUCKDB_SCORES, _parameters(now, period))
            _compare(copy, duck)
            figure.values.append(seconds)
            figure.reference.append(reference)
            ratio.values.append(seconds / reference)
            run.console.print(
                f"S1 {backend}: {seconds:.2f} s (DuckDB {reference:.2f} s, {seconds / reference:.1f}×), "
                f"{figure.details['scored'][-1]:,} customers scored, same scores as DuckDB"
            )
    except BenchError as error:
        figure.error = ratio.error = str(error)
    return [figure, ratio]


def _calculate(copy: WorkCopy, figure: Figure | None = None) -> tuple[datetime, int]:
    """One full calculation, committed; returns the "now" it used and its period in days."""
    from smartcomm.models import CustomerRfm
    from smartcomm.rfm.service import rfm_service

    with copy.session() as session:
        calculation = rfm_service.run(session, "benchmark")
        period, scored, milliseconds = calculation.period_days, calculation.scored, calculation.duration_ms
    if figure is not None:
        figure.details["scored"].append(scored)
        figure.details["calculation_ms"].append(milliseconds)
    with copy.session(read_only=True) as session:
        now = session.scalar(select(CustomerRfm.updated_at).limit(1))
    if now is None:
        raise BenchError("the calculation scored nobody")
    return now, period


def _parameters(now: datetime, period_days: int) -> list[Any]:
    naive = now.replace(tzinfo=None)  # DuckDB holds the receipts' UTC instants as plain timestamps
    return [int(now.timestamp()), naive - timedelta(days=period_days), naive]


def _compare(copy: WorkCopy, duck: Any) -> None:
    """Both answers hold the same customers with the same scores and values."""
    with copy.database.engine.connect() as connection:
        stored = {tuple(int(v) for v in row) for row in connection.exec_driver_sql(STORED)}
    computed = {
        tuple(int(v) for v in row) for row in duck.execute(STORED.replace("customer_rfm", "rfm")).fetchall()
    }
    if stored != computed:
        only_product = sorted(stored - computed)[:3]
        only_duckdb = sorted(computed - stored)[:3]
        raise BenchError(
            f"RFM differs from DuckDB for {len(stored ^ computed)} rows "
            f"(product {only_product}, DuckDB {only_duckdb})"
        )
