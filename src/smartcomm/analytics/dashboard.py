"""The Summary dashboard: the figures of the product's landing page, computed for a period and stored.

Blocks, each over the period (calendar months in the project time zone, the last one up to today):
- base quality: customers by whole months since their last purchase (as of the period's last day), those
  whose last purchase is older than the period, and those who never bought;
- returning (two receipts or more in the period) against one-time buyers, by count and by revenue;
- base quality dynamics: each month's Best (R5 F5 M5) and Lost (R1) from its last RFM calculation;
- repeat purchases: per month, the share of its buyers with two receipts or more in the period so far;
- assisted against regular sales per month and per channel: assisted = a receipt attributed to a
  communication (the credited last touch), nothing else;
- the effect of all communications: the global control group against the rest of the base, when the
  group had members in the period.

The page never computes: the worker does, on a schedule and on demand, and stores one snapshot per period.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlalchemy.orm import Session

from smartcomm.analytics.dashboard_repository import ChannelSales, DashboardRepository
from smartcomm.analytics.global_control import GlobalControlReport, report_between
from smartcomm.kit.errors import FieldError, InvalidInput
from smartcomm.kit.time import ensure_utc, start_of_day, to_zone, utcnow
from smartcomm.models import DashboardSnapshot
from smartcomm.segments.metrics.base import add_months
from smartcomm.settings.schemas import DashboardSettings, GeneralSettings
from smartcomm.settings.service import settings_service

ROLLING = "last-"
PRESET_MONTHS = (3, 6, 12, 24)
MAX_MONTHS = 36
ZERO = Decimal("0.00")


@dataclass(frozen=True)
class Period:
    """Whole calendar months from `first_month` to the month of `last_day`, which is counted in full."""

    key: str
    first_month: date
    last_day: date
    zone: str

    @property
    def months(self) -> list[date]:
        count = (
            (self.last_day.year - self.first_month.year) * 12 + self.last_day.month - self.first_month.month
        )
        return [add_months(self.first_month, n) for n in range(count + 1)]

    @property
    def month_bounds(self) -> list[datetime]:
        return [start_of_day(month, self.zone) for month in self.months]

    @property
    def start(self) -> datetime:
        return start_of_day(self.first_month, self.zone)

    @property
    def end(self) -> datetime:
        return start_of_day(self.last_day + timedelta(days=1), self.zone)

    @property
    def rolling(self) -> bool:
        return self.key.startswith(ROLLING)


def rolling_period(months: int, zone: str, today: date) -> Period:
    """The last `months` calendar months, this one up to today."""
    first = add_months(today.replace(day=1), 1 - months)
    return Period(f"{ROLLING}{months}", first, today, zone)


def custom_period(first: date, last: date, zone: str, today: date) -> Period:
    """The months from `first`'s to `last`'s, both whole (up to today when `last` is this month)."""
    first, last = first.replace(day=1), last.replace(day=1)
    if first > last:
        raise InvalidInput("The period starts after it ends", [FieldError("from", "after the end")])
    if (last.year - first.year) * 12 + last.month - first.month >= MAX_MONTHS:
        raise InvalidInput("A period is at most 36 months", [FieldError("to", "too long")])
    last_day = min(add_months(last, 1) - timedelta(days=1), today)
    if last_day < first:
        raise InvalidInput("The period has not begun yet", [FieldError("from", "in the future")])
    return Period(f"{first:%Y-%m}:{last:%Y-%m}", first, last_day, zone)


def parse_period(key: str, zone: str, today: date) -> Period:
    """A period from its key: "last-12", or "2026-01:2026-06"."""
    try:
        if key.startswith(ROLLING):
            months = int(key.removeprefix(ROLLING))
            if not 1 <= months <= MAX_MONTHS:
                raise ValueError(key)
            return rolling_period(months, zone, today)
        first, last = (datetime.strptime(part, "%Y-%m").date() for part in key.split(":"))
    except ValueError as error:
        raise InvalidInput("Unknown period", [FieldError("period", "unknown period")]) from error
    return custom_period(first, last, zone, today)


# --- the figures --------------------------------------------------------------------------------------


class Bucket(BaseModel):
    """Customers whose last purchase falls in a bucket: `months` whole months ago (first_day…last_day),
    "older" than the period, or "never"."""

    kind: str  # months | older | never
    months: int | None = None
    first_day: date | None = None
    last_day: date | None = None
    customers: int


class Split(BaseModel):
    customers: int
    revenue: Decimal


class RfmMonth(BaseModel):
    month: date
    at: datetime | None = None  # the calculation the figures come from; None: no calculation that month
    best: int | None = None
    lost: int | None = None


class RepeatMonth(BaseModel):
    month: date
    buyers: int
    repeat: int

    @property
    def share(self) -> float | None:
        return self.repeat / self.buyers if self.buyers else None


class Sales(BaseModel):
    receipts: int = 0
    amount: Decimal = ZERO

    def add(self, receipts: int, amount: Decimal) -> None:
        self.receipts += receipts
        self.amount += amount


class SalesMonth(BaseModel):
    month: date
    assisted: Sales
    regular: Sales
    channels: dict[str, Sales]


class DashboardData(BaseModel):
    period_key: str
    first_month: date
    last_day: date
    customers: int
    base_quality: list[Bucket]
    returning: Split
    one_time: Split
    rfm: list[RfmMonth]
    repeat: list[RepeatMonth]
    sales: list[SalesMonth]
    channels: dict[str, Sales]  # assisted sales of the whole period by channel of the credited touch
    control: GlobalControlReport | None  # the global control group against the rest; None: no group


# --- computing ----------------------------------------------------------------------------------------


def base_quality(repository: DashboardRepository, period: Period, customers: int) -> list[Bucket]:
    """Bucket k holds last purchases from (last day − k − 1 months) exclusive to (last day − k months)
    inclusive — the days "in the last k + 1 months" of the segment builder, less the first k."""
    months = len(period.months)
    edges = [add_months(period.last_day, -k) for k in range(months + 1)]
    lowers = [start_of_day(edge + timedelta(days=1), period.zone) for edge in edges[1:]]
    counts = repository.last_purchase_buckets(period.end, lowers)
    buckets = [
        Bucket(kind="months", months=k, first_day=edges[k + 1] + timedelta(days=1), last_day=edges[k],
               customers=counts.get(k, 0))
        for k in range(months)
    ]  # fmt: skip
    buckets.append(Bucket(kind="older", last_day=edges[-1], customers=counts.get(months, 0)))
    buyers = sum(counts.values())
    buckets.append(Bucket(kind="never", customers=max(customers - buyers, 0)))
    return buckets


def rfm_months(repository: DashboardRepository, period: Period) -> list[RfmMonth]:
    points = {point.month: point for point in repository.rfm_points(period.month_bounds, period.end)}
    return [
        RfmMonth(month=month, at=p.at, best=p.best, lost=p.lost)
        if (p := points.get(index))
        else RfmMonth(month=month)
        for index, month in enumerate(period.months)
    ]


def repeat_months(repository: DashboardRepository, period: Period) -> list[RepeatMonth]:
    found = {row.month: row for row in repository.repeat_buyers(period.month_bounds, period.end)}
    return [
        RepeatMonth(
            month=month, buyers=row.buyers if (row := found.get(i)) else 0, repeat=row.repeat if row else 0
        )
        for i, month in enumerate(period.months)
    ]


def sales_months(rows: list[ChannelSales], period: Period) -> tuple[list[SalesMonth], dict[str, Sales]]:
    """Per month assisted and regular sales with the assisted ones by channel; and the period's channels."""
    months = [SalesMonth(month=m, assisted=Sales(), regular=Sales(), channels={}) for m in period.months]
    channels: dict[str, Sales] = {}
    for row in rows:
        month = months[row.month]
        if row.channel is None:
            month.regular.add(row.receipts, row.amount)
            continue
        month.assisted.add(row.receipts, row.amount)
        month.channels.setdefault(row.channel, Sales()).add(row.receipts, row.amount)
        channels.setdefault(row.channel, Sales()).add(row.receipts, row.amount)
    return months, channels


def global_control_effect(session: Session, start: datetime, end: datetime) -> GlobalControlReport | None:
    """The global control group against the rest of the base over the period; None when the group had no
    member in it (not enabled, or not drawn yet: the block then says how to turn it on)."""
    found = report_between(session, start, end)
    return found if found.group.recipients > 0 else None


def compute(session: Session, period: Period) -> DashboardData:
    """Every block's figures for the period (reads only)."""
    repository = DashboardRepository(session)
    customers = repository.customers()
    split = repository.returning_and_one_time(period.start, period.end)
    sales, channels = sales_months(repository.sales_by_channel(period.month_bounds, period.end), period)
    return DashboardData(
        period_key=period.key,
        first_month=period.first_month,
        last_day=period.last_day,
        customers=customers,
        base_quality=base_quality(repository, period, customers),
        returning=_split(split.get(True)),
        one_time=_split(split.get(False)),
        rfm=rfm_months(repository, period),
        repeat=repeat_months(repository, period),
        sales=sales,
        channels=channels,
        control=global_control_effect(session, period.start, period.end),
    )


def _split(spend: Any) -> Split:
    return Split(customers=spend.count, revenue=spend.amount) if spend else Split(customers=0, revenue=ZERO)


# --- the service --------------------------------------------------------------------------------------


class DashboardService:
    def settings(self, session: Session) -> DashboardSettings:
        return settings_service.read(session, DashboardSettings)

    def zone(self, session: Session) -> str:
        return settings_service.read(session, GeneralSettings).time_zone

    def today(self, session: Session, now: datetime | None = None) -> date:
        return to_zone(now or utcnow(), self.zone(session)).date()

    def default_key(self, session: Session) -> str:
        return f"{ROLLING}{self.settings(session).analysis_months}"

    def period(self, session: Session, key: str | None = None, now: datetime | None = None) -> Period:
        """The period of `key` (the settings' analysis period when None), as of now."""
        return parse_period(key or self.default_key(session), self.zone(session), self.today(session, now))

    def snapshot(self, session: Session, key: str) -> DashboardSnapshot | None:
        return DashboardRepository(session).snapshot(key)

    def data(self, snapshot: DashboardSnapshot) -> DashboardData:
        return DashboardData.model_validate(snapshot.data)

    def readable(self, snapshot: DashboardSnapshot | None) -> DashboardData | None:
        """The snapshot's figures, or None when it was stored in a shape this version no longer reads (the
        next recomputation replaces it)."""
        if snapshot is None:
            return None
        try:
            return self.data(snapshot)
        except ValidationError:
            return None

    def recompute(
        self, session: Session, key: str | None = None, now: datetime | None = None
    ) -> DashboardSnapshot:
        """Compute a period's figures and store them in place of its previous snapshot (the job's work)."""
        period = self.period(session, key, now)
        started = time.perf_counter()
        data = compute(session, period)
        snapshot = DashboardSnapshot(
            period_key=period.key,
            period_start=period.start,
            period_end=period.end,
            computed_at=now or utcnow(),
            duration_ms=round((time.perf_counter() - started) * 1000),
            data=data.model_dump(mode="json"),
        )
        return DashboardRepository(session).replace_snapshot(snapshot)

    def scheduled_keys(self, session: Session) -> list[str]:
        """What the schedule recomputes: the preset periods and the settings' one (periods picked by hand
        are recomputed when someone asks)."""
        keys = [f"{ROLLING}{months}" for months in PRESET_MONTHS]
        default = self.default_key(session)
        return keys if default in keys else [*keys, default]

    def due(self, session: Session, now: datetime | None = None) -> bool:
        """Whether the schedule should recompute: the default period's snapshot is missing or old enough."""
        snapshot = self.snapshot(session, self.default_key(session))
        if snapshot is None:
            return True
        interval = timedelta(hours=self.settings(session).recompute_hours)
        # A few minutes' slack, so an hourly check does not slip a whole hour behind the interval.
        return ensure_utc(snapshot.computed_at) <= (now or utcnow()) - interval + timedelta(minutes=5)


dashboard_service = DashboardService()
