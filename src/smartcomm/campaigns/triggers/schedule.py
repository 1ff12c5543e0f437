"""What the scheduled triggers share: the daily launch at an hour of the project's time zone, the days a
window holds, whom a trigger looks at, and the SQL of calendar days (the same on SQLite and PostgreSQL).

A daily trigger runs at its launch hour (default 00:00) in the project's time zone. The every-minute tick
hands it the window since its last look; the trigger selects the customers of each launch day in that
window — normally one, a few after a worker was down — in one statement, one entry per customer. A window
that spans a long suspension is not replayed day by day: only the last `MAX_CATCH_UP_DAYS` launches count,
so a campaign switched on again does not greet last month's birthdays.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from pydantic import Field
from sqlalchemy import (
    JSON,
    ColumnElement,
    Date,
    Integer,
    Select,
    String,
    and_,
    cast,
    extract,
    func,
    literal,
    literal_column,
    or_,
    select,
    true,
    union_all,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from smartcomm.campaigns.nodes import Settings
from smartcomm.campaigns.triggers.base import Trigger, Window
from smartcomm.kit.i18n import lazy
from smartcomm.kit.types import RowId
from smartcomm.models import Customer, Segment, SegmentMembership

MAX_CATCH_UP_DAYS = 3
EPOCH = date(1970, 1, 1)
DayRule = Callable[[date], bool]


class Audience(Settings):
    segment_id: RowId | None = None  # None: every customer


class Daily(Audience):
    hour: Annotated[int, Field(ge=0, le=23)] = 0


def customers_of(segment_id: int | None) -> Select[Any]:
    """The customers a date trigger looks at: a segment's members, or everyone."""
    if segment_id is None:
        return select(Customer.id.label("customer_id"))
    return select(SegmentMembership.customer_id.label("customer_id")).where(
        SegmentMembership.segment_id == segment_id, SegmentMembership.exited_at.is_(None)
    )


def in_audience(customer_id: Any, segment_id: int | None) -> ColumnElement[bool]:
    """A condition keeping a selection's customers to the segment's members (none: everyone)."""
    if segment_id is None:
        return true()
    condition: ColumnElement[bool] = customer_id.in_(customers_of(segment_id))
    return condition


def segment_problem(session: Session, segment_id: int | None) -> list[tuple[str, str]]:
    if segment_id is not None and session.get(Segment, segment_id) is None:
        return [("segment_id", str(lazy("The segment does not exist")))]
    return []


# --- launches ------------------------------------------------------------------------------------------


def launch(day: date, hour: int, zone: ZoneInfo) -> datetime:
    """The UTC moment of a day's launch hour in the zone."""
    return datetime.combine(day, time(hour), tzinfo=zone).astimezone(UTC)


def next_launch(
    after: datetime, hour: int, zone: ZoneInfo, runs_on: DayRule | None = None
) -> datetime | None:
    """The first launch strictly after `after` on a day the rule allows (None: none within 13 months)."""
    day = after.astimezone(zone).date() - timedelta(days=1)
    for _ in range(400):
        moment = launch(day, hour, zone)
        if moment > after and (runs_on is None or runs_on(day)):
            return moment
        day += timedelta(days=1)
    return None


def launch_days(window: Window, hour: int, runs_on: DayRule | None = None) -> list[date]:
    """The local days whose launch falls in the window (start, end] and in the last few days before its
    end, oldest first."""
    last = window.end.astimezone(window.zone).date() + timedelta(days=1)
    days = [last - timedelta(days=back) for back in range(MAX_CATCH_UP_DAYS + 1, -1, -1)]
    return [
        day
        for day in days
        if window.start < launch(day, hour, window.zone) <= window.end
        and window.end - launch(day, hour, window.zone) < timedelta(days=MAX_CATCH_UP_DAYS)
        and (runs_on is None or runs_on(day))
    ]


def day_bounds(day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The UTC instants a local day starts and ends at: [start, end)."""
    return launch(day, 0, zone), launch(day + timedelta(days=1), 0, zone)


def on_day(column: Any, day: date, zone: ZoneInfo) -> ColumnElement[bool]:
    """A stored UTC time falls on the local day (bounds on the column: its index serves)."""
    start, end = day_bounds(day, zone)
    return and_(column >= start, column < end)


def occurrence(prefix: str, day: date) -> Any:
    return literal(f"{prefix}:{day.isoformat()}", String).label("occurrence")


def one_per_customer(selections: Sequence[Select[Any]], *, several_rows: bool = False) -> Select[Any] | None:
    """The selections of several days as one, each customer once (the row of the greatest occurrence: the
    latest day's); also when one selection may hold a customer on several rows (two orders delivered on one
    day: one of them enters)."""
    if not selections:
        return None
    if len(selections) == 1 and not several_rows:
        return selections[0]
    rows = union_all(*selections).subquery("rows") if len(selections) > 1 else selections[0].subquery("rows")
    rank = func.row_number().over(partition_by=rows.c.customer_id, order_by=rows.c.occurrence.desc())
    ranked = select(rows, rank.label("rank")).subquery("ranked")
    return select(*[column for column in ranked.c if column.name != "rank"]).where(ranked.c.rank == 1)


class DailyTrigger(Trigger):
    """A trigger looked at once a day at its launch hour; a subclass says whom a launch day selects."""

    scheduled = True
    family = "dates"
    # Whether one day's selection may name a customer on several rows (then only one is kept).
    several_rows = False

    def runs_on(self, settings: Any, day: date) -> bool:
        return True

    def next_check(self, settings: Any, after: datetime, zone: ZoneInfo) -> datetime | None:
        return next_launch(after, settings.hour, zone, lambda day: self.runs_on(settings, day))

    def selection(self, session: Session, settings: Any, window: Window) -> Select[Any] | None:
        days = launch_days(window, settings.hour, lambda day: self.runs_on(settings, day))
        found = [self.on(session, settings, day, window.zone) for day in days]
        return one_per_customer([each for each in found if each is not None], several_rows=self.several_rows)

    def on(self, session: Session, settings: Any, day: date, zone: ZoneInfo) -> Select[Any] | None:
        """The customers (`customer_id`, `occurrence`[, `context`]) a launch on this local day enters."""
        raise NotImplementedError

    def check(self, settings: Any, context: Any) -> list[tuple[str, str]]:
        return segment_problem(context.session, settings.segment_id)


# --- calendar days in SQL ------------------------------------------------------------------------------


class local_day(FunctionElement[date]):  # noqa: N801 (an SQL function, named like one)
    """The local calendar day of a stored UTC time in a zone."""

    type = Date()
    inherit_cache = True
    name = "local_day"

    def __init__(self, moment: Any, zone: ZoneInfo) -> None:
        # The zone is one of the known names (a setting checked on save), written into the SQL quoted.
        super().__init__(moment, literal_column(_quoted(str(zone))))


class local_text_day(local_day):  # noqa: N801
    """The same for a time kept as ISO 8601 text (a custom date-and-time field)."""

    inherit_cache = True
    name = "local_text_day"


@compiles(local_day, "postgresql")
def _local_day_postgres(element: local_day, compiler: SQLCompiler, **kw: Any) -> str:
    moment, zone = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"CAST(timezone({zone}, {moment}) AS DATE)"


@compiles(local_text_day, "postgresql")
def _local_text_day_postgres(element: local_text_day, compiler: SQLCompiler, **kw: Any) -> str:
    moment, zone = (compiler.process(clause, **kw) for clause in element.clauses)
    pattern = "'^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}'"
    day = f"CAST(timezone({zone}, CAST({moment} AS TIMESTAMP WITH TIME ZONE)) AS DATE)"
    return f"(CASE WHEN {moment} ~ {pattern} THEN {day} END)"


@compiles(local_day, "sqlite")
@compiles(local_text_day, "sqlite")
def _local_day_sqlite(element: local_day, compiler: SQLCompiler, **kw: Any) -> str:
    moment, zone = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"local_date({moment}, {zone})"  # registered on every SQLite connection (kit.db)


class text_day(FunctionElement[date]):  # noqa: N801
    """A day kept as YYYY-MM-DD text (a custom date field) as a date; anything else as NULL."""

    type = Date()
    inherit_cache = True
    name = "text_day"


@compiles(text_day, "postgresql")
def _text_day_postgres(element: text_day, compiler: SQLCompiler, **kw: Any) -> str:
    value = compiler.process(element.clauses, **kw)
    pattern = "'^[0-9]{4}-[0-9]{2}-[0-9]{2}$'"
    return f"(CASE WHEN {value} ~ {pattern} THEN CAST({value} AS DATE) END)"


@compiles(text_day, "sqlite")
def _text_day_sqlite(element: text_day, compiler: SQLCompiler, **kw: Any) -> str:
    value = compiler.process(element.clauses, **kw)
    return f"(CASE WHEN date({value}) = {value} THEN {value} END)"


class day_number(FunctionElement[int]):  # noqa: N801
    """Days since 1970-01-01 of a date expression."""

    type = Integer()
    inherit_cache = True
    name = "day_number"


@compiles(day_number, "postgresql")
def _day_number_postgres(element: day_number, compiler: SQLCompiler, **kw: Any) -> str:
    return f"(CAST({compiler.process(element.clauses, **kw)} AS DATE) - DATE '1970-01-01')"


@compiles(day_number, "sqlite")
def _day_number_sqlite(element: day_number, compiler: SQLCompiler, **kw: Any) -> str:
    return f"CAST(julianday({compiler.process(element.clauses, **kw)}) - 2440587.5 AS INTEGER)"


def part(name: str, day: Any) -> Any:
    """The year, month or day of a date expression, as an integer."""
    return cast(extract(name, day), Integer)


def month_day_codes(day: date) -> set[int]:
    """The MMDD codes of dates whose yearly anniversary is `day`: 29 February's falls on 28 February in
    years without one."""
    codes = {day.month * 100 + day.day}
    if (day.month, day.day) == (2, 28) and not _is_leap(day.year):
        codes.add(229)
    return codes


def yearly(day: Any, target: date, every: int = 1, first: int = 1) -> ColumnElement[bool]:
    """The date expression's anniversary is `target`, a whole number of `every` years after it (at least
    `first` years)."""
    years = literal(target.year) - part("year", day)
    return and_(
        (part("month", day) * 100 + part("day", day)).in_(month_day_codes(target)),
        years >= first,
        years % every == 0,
    )


def monthly(day: Any, target: date, every: int = 1, first: int = 1) -> ColumnElement[bool]:
    """`target` is a whole number of `every` months after the date expression: the same day of the month,
    or the month's last day for a day the month does not have (31 → 30 April, 29 → 28 February)."""
    months = literal(target.year * 12 + target.month) - (part("year", day) * 12 + part("month", day))
    same_day = part("day", day) == target.day
    if _last_day_of_month(target):
        same_day = or_(same_day, part("day", day) > target.day)
    return and_(same_day, months >= first, months % every == 0)


def daily(day: Any, target: date, every: int = 1, first: int = 1) -> ColumnElement[bool]:
    """`target` is a whole number of `every` days after the date expression."""
    days = literal((target - EPOCH).days) - day_number(day)
    return and_(days >= first, days % every == 0)


RECURRENCES = {"years": yearly, "months": monthly, "days": daily}


# --- a journey's context, built in SQL -----------------------------------------------------------------


class json_object(FunctionElement[Any]):  # noqa: N801
    """A JSON object of constant keys and SQL values (a journey's `context`)."""

    type = JSON()
    inherit_cache = True
    name = "json_object"

    def __init__(self, **values: Any) -> None:
        pairs: list[Any] = []
        for key, value in values.items():
            pairs.extend((literal_column(_quoted(key)), value))
        super().__init__(*pairs)


@compiles(json_object, "postgresql")
def _json_object_postgres(element: json_object, compiler: SQLCompiler, **kw: Any) -> str:
    return f"json_build_object({compiler.process(element.clauses, **kw)})"


@compiles(json_object, "sqlite")
def _json_object_sqlite(element: json_object, compiler: SQLCompiler, **kw: Any) -> str:
    return f"json_object({compiler.process(element.clauses, **kw)})"


class money_text(FunctionElement[str]):  # noqa: N801
    """An amount kept in minor units (`Money`) as decimal text with two places, as payloads carry money."""

    type = String()
    inherit_cache = True
    name = "money_text"


@compiles(money_text, "postgresql")
def _money_text_postgres(element: money_text, compiler: SQLCompiler, **kw: Any) -> str:
    return f"CAST(CAST({compiler.process(element.clauses, **kw)} AS NUMERIC) / 100 AS NUMERIC(20, 2))::text"


@compiles(money_text, "sqlite")
def _money_text_sqlite(element: money_text, compiler: SQLCompiler, **kw: Any) -> str:
    return f"printf('%.2f', {compiler.process(element.clauses, **kw)} / 100.0)"


class iso_text(FunctionElement[str]):  # noqa: N801
    """A stored UTC time as ISO 8601 text to the second (an occurrence's name)."""

    type = String()
    inherit_cache = True
    name = "iso_text"


@compiles(iso_text, "postgresql")
def _iso_text_postgres(element: iso_text, compiler: SQLCompiler, **kw: Any) -> str:
    moment = compiler.process(element.clauses, **kw)
    return f"to_char(timezone('UTC', {moment}), 'YYYY-MM-DD\"T\"HH24:MI:SS')"


@compiles(iso_text, "sqlite")
def _iso_text_sqlite(element: iso_text, compiler: SQLCompiler, **kw: Any) -> str:
    return f"strftime('%Y-%m-%dT%H:%M:%S', {compiler.process(element.clauses, **kw)})"


def text_of(value: Any) -> Any:
    """Any SQL value as text (ids and days in occurrences)."""
    return cast(value, String)


def _is_leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def _last_day_of_month(day: date) -> bool:
    return (day + timedelta(days=1)).month != day.month


def _quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
