"""S2: the segment builder's live count for three conditions, one of them a 90-day purchase window.

The rules: at least 2 paid receipts in the last 90 days (calendar days in the project time zone,
today included), gender female, e-mail channel allowed. Each repetition times
`segment_service.preview` from the rules' JSON (validation, compiling, the count of matching customers
and of the whole base) in a read-only unit of work on the S figures' working copy.

The reference is DuckDB counting the same customers from the same rows (receipts and customers
exported from the copy), with the window's bounds worked out here from the project time zone. Both
counts, and both base sizes, must be equal.
"""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bench.results import Figure, Target
from bench.run import BenchError, Run
from bench.workcopy import WorkCopy, timed_duckdb

TARGETS = {"sqlite": Target(0.5, False, "≤ 0.5 s"), "postgres": Target(1, False, "≤ 1 s")}
RATIO_TARGET = Target(4, False, "≤ 4× DuckDB")
WINDOW_DAYS = 90
RULES: dict[str, Any] = {
    "version": 1,
    "root": {
        "type": "group",
        "op": "and",
        "children": [
            {
                "type": "condition",
                "metric": "purchases.count",
                "operator": "gte",
                "value": 2,
                "params": {"period": {"kind": "last", "n": WINDOW_DAYS, "unit": "days"}},
            },
            {"type": "condition", "metric": "profile.gender", "operator": "in", "value": ["f"]},
            {"type": "condition", "metric": "consent.email", "operator": "is_true"},
        ],
    },
}
# Parameters: the window's start and end (UTC, end excluded).
DUCKDB_COUNT = """
SELECT count(*) FILTER (
           WHERE gender = 'f' AND allow_email = 1 AND id IN (
               SELECT customer_id FROM receipts
               WHERE status = 'paid' AND purchased_at >= ? AND purchased_at < ?
               GROUP BY customer_id HAVING count(*) >= 2)),
       count(*)
FROM customers
"""


def measure(run: Run, copy: WorkCopy) -> list[Figure]:
    backend = copy.backend
    figure = Figure(
        "S2",
        "segment count preview (3 conditions, 90-day window)",
        backend,
        "s",
        TARGETS[backend],
        reference_title="DuckDB",
        details={"count": None, "base": None},
    )
    ratio = Figure("S2", "count preview over DuckDB's time", backend, "×", RATIO_TARGET)
    try:
        duck = copy.duckdb()
        zone = _time_zone(copy)
        _preview(copy)  # warm-up of both, untimed
        timed_duckdb(duck, DUCKDB_COUNT, _window(zone, datetime.now(UTC)))
        for _ in range(run.repeat):
            moment = datetime.now(UTC)
            seconds, count, base = _preview(copy)
            reference, rows = timed_duckdb(duck, DUCKDB_COUNT, _window(zone, moment))
            if (count, base) != tuple(rows[0]):
                raise BenchError(
                    f"the preview counted {count} of {base}, DuckDB {rows[0][0]} of {rows[0][1]}"
                )
            figure.details["count"], figure.details["base"] = count, base
            figure.values.append(seconds)
            figure.reference.append(reference)
            ratio.values.append(seconds / reference)
            run.console.print(
                f"S2 {backend}: {seconds * 1000:.0f} ms (DuckDB {reference * 1000:.0f} ms, "
                f"{seconds / reference:.1f}×), {count:,} of {base:,} customers, as DuckDB counts"
            )
    except BenchError as error:
        figure.error = ratio.error = str(error)
    return [figure, ratio]


def _preview(copy: WorkCopy) -> tuple[float, int, int]:
    from smartcomm.segments.rules import SegmentRules
    from smartcomm.segments.service import segment_service

    with copy.session(read_only=True) as session:
        started = time.perf_counter()
        preview = segment_service.preview(session, SegmentRules.model_validate(RULES))
        seconds = time.perf_counter() - started
    return seconds, preview.count, preview.base


def _time_zone(copy: WorkCopy) -> ZoneInfo:
    from smartcomm.settings.schemas import GeneralSettings
    from smartcomm.settings.service import settings_service

    with copy.session(read_only=True) as session:
        return ZoneInfo(settings_service.read(session, GeneralSettings).time_zone)


def _window(zone: ZoneInfo, moment: datetime) -> list[datetime]:
    """The last 90 calendar days in the project time zone, today included, as naive UTC bounds."""
    today = moment.astimezone(zone).date()

    def midnight(day: date) -> datetime:
        local = datetime(day.year, day.month, day.day, tzinfo=zone)
        return local.astimezone(UTC).replace(tzinfo=None)

    return [midnight(today - timedelta(days=WINDOW_DAYS - 1)), midnight(today + timedelta(days=1))]
