"""The groups report of a mailing: what each group bought — the recipients (or each A/B variant) and the
control group that was sent nothing — in one measurement window, and whether the differences are real.

The window is the same for every group: from the mailing's start for the days of its attribution rule (a
date-range rule: its dates; none or "off": the default days of the delivery settings). Purchases are every
paid receipt of a group's members in the window, not the attributed ones: control-group members have no
touches, so only plain purchases compare like with like.

Significance, each group against the control group:
- conversion (buyers / members): a two-sided two-proportion z-test with the pooled proportion;
- revenue per customer: Welch's t-test (unequal variances) on the per-customer revenue of the two groups
  (members without a purchase count as 0), with the 95 % confidence interval of the difference.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import numpy as np
from pydantic import BaseModel
from scipy import stats
from sqlalchemy import Select
from sqlalchemy.orm import Session

from smartcomm.kit.time import end_of_day, start_of_day
from smartcomm.mailings.draws import LETTERS
from smartcomm.mailings.report_queries import MailingReportQueries
from smartcomm.mailings.service import mailing_service
from smartcomm.models import Mailing
from smartcomm.settings.schemas import DeliverySettings, GeneralSettings
from smartcomm.settings.service import settings_service

CONFIDENCE = 0.95
ALPHA = 1 - CONFIDENCE
CENTS = Decimal("0.01")


class Comparison(BaseModel):
    """A group against the control group."""

    conversion_difference: float  # percentage points as a share (0.012 = 1.2 points)
    z: float | None
    p_value: float | None  # two-proportion z-test on conversion; None when it cannot be computed
    significant: bool
    revenue_difference: float  # revenue per customer, group − control
    t: float | None
    t_p_value: float | None  # Welch's t-test on revenue per customer
    ci_low: float | None  # 95 % confidence interval of the revenue-per-customer difference
    ci_high: float | None
    revenue_significant: bool


class GroupRow(BaseModel):
    key: str  # main | variant | rest | control
    label: str  # Main, A…E, Rest, Control
    variant: int | None = None
    recipients: int
    delivered: int | None  # None for the control group (sent nothing)
    buyers: int
    conversion: float | None
    receipts: int
    receipts_per_customer: float | None
    amount: Decimal
    revenue_per_customer: Decimal | None
    expected_amount: Decimal | None = None  # the group's size × the control group's revenue per customer
    incremental_amount: Decimal | None = None  # amount − expected
    comparison: Comparison | None = None


class GroupsReport(BaseModel):
    mailing_id: int
    window_start: datetime | None  # None: the mailing has not started
    window_end: datetime | None
    window_days: int | None  # None for a date-range rule
    groups: list[GroupRow]
    winner_variant: int | None
    winner_label: str | None
    winner_reason: dict[str, Any] | None
    winner_chosen_at: datetime | None


@dataclass(frozen=True)
class Sample:
    """A group's members and what each of the buyers spent (the others spent 0)."""

    size: int
    receipts: int
    spent: list[Decimal]

    @property
    def buyers(self) -> int:
        return len(self.spent)

    @property
    def amount(self) -> Decimal:
        return sum(self.spent, Decimal("0.00"))

    def revenues(self) -> np.ndarray[Any, np.dtype[np.float64]]:
        values = np.zeros(self.size, dtype=np.float64)
        values[: self.buyers] = [float(value) for value in self.spent]
        return values


# --- statistics ---------------------------------------------------------------------------------------


def two_proportion_test(buyers_a: int, size_a: int, buyers_b: int, size_b: int) -> tuple[float, float] | None:
    """(z, two-sided p-value) of conversion a against b with the pooled proportion; None when undefined
    (an empty group, or nobody or everybody bought in both)."""
    if size_a == 0 or size_b == 0:
        return None
    pooled = (buyers_a + buyers_b) / (size_a + size_b)
    error = math.sqrt(pooled * (1 - pooled) * (1 / size_a + 1 / size_b))
    if error == 0:
        return None
    z = (buyers_a / size_a - buyers_b / size_b) / error
    return z, float(2 * stats.norm.sf(abs(z)))


def welch_test(
    a: np.ndarray[Any, np.dtype[np.float64]], b: np.ndarray[Any, np.dtype[np.float64]]
) -> tuple[float, float, float, float] | None:
    """(t, p-value, CI low, CI high) of mean(a) − mean(b), Welch's t-test and its 95 % interval; None
    when undefined (fewer than two members in a group, or no spread at all in either)."""
    if len(a) < 2 or len(b) < 2 or (np.var(a) == 0 and np.var(b) == 0):
        return None
    result = stats.ttest_ind(a, b, equal_var=False)
    interval = result.confidence_interval(CONFIDENCE)
    return float(result.statistic), float(result.pvalue), float(interval.low), float(interval.high)


def compare(group: Sample, control: Sample) -> Comparison:
    proportions = two_proportion_test(group.buyers, group.size, control.buyers, control.size)
    welch = welch_test(group.revenues(), control.revenues())
    return Comparison(
        conversion_difference=_share(group.buyers, group.size) - _share(control.buyers, control.size),
        z=proportions[0] if proportions else None,
        p_value=proportions[1] if proportions else None,
        significant=bool(proportions and proportions[1] < ALPHA),
        revenue_difference=float(_per(group.amount, group.size) - _per(control.amount, control.size)),
        t=welch[0] if welch else None,
        t_p_value=welch[1] if welch else None,
        ci_low=welch[2] if welch else None,
        ci_high=welch[3] if welch else None,
        revenue_significant=bool(welch and welch[1] < ALPHA),
    )


def _share(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


def _per(amount: Decimal, size: int) -> Decimal:
    return amount / size if size else Decimal(0)


# --- the report ---------------------------------------------------------------------------------------


class GroupsReportService:
    def report(self, session: Session, mailing_id: int) -> GroupsReport:
        """Each group's purchases in the measurement window, and each against the control group."""
        mailing = mailing_service.get(session, mailing_id)
        window = self.window(session, mailing)
        queries = MailingReportQueries(session)
        rows: list[GroupRow] = []
        if window is not None:
            rows = self._rows(queries, mailing, window)
        winner = mailing.winner_variant
        return GroupsReport(
            mailing_id=mailing.id,
            window_start=window[0] if window else None,
            window_end=window[1] if window else None,
            window_days=window[2] if window else None,
            groups=rows,
            winner_variant=winner,
            winner_label=_letter(winner) if winner is not None else None,
            winner_reason=mailing.winner_reason,
            winner_chosen_at=mailing.winner_chosen_at,
        )

    def window(self, session: Session, mailing: Mailing) -> tuple[datetime, datetime, int | None] | None:
        """(start, end, days) of the measurement window; None before the mailing started."""
        if mailing.started_at is None:
            return None
        rule = mailing.attribution_rule or {}
        if rule.get("window") == "range" and rule.get("date_from") and rule.get("date_to"):
            zone = settings_service.read(session, GeneralSettings).time_zone
            first, last = _date(rule["date_from"]), _date(rule["date_to"])
            return start_of_day(first, zone), end_of_day(last, zone), None
        days = rule.get("days") if rule.get("window") == "days" else None
        if not days:
            # "off" or no rule: the default window, at least a day (a default of 0 switches attribution
            # off, yet the groups still need a window to be compared in).
            days = max(settings_service.read(session, DeliverySettings).attribution_days, 1)
        return mailing.started_at, mailing.started_at + timedelta(days=int(days)), int(days)

    def _rows(
        self, queries: MailingReportQueries, mailing: Mailing, window: tuple[datetime, datetime, int | None]
    ) -> list[GroupRow]:
        start, end, _ = window
        control = self._sample(queries, queries.control_members(mailing.id), start, end)
        rows = []
        for key, label, variant, members in self._groups(queries, mailing):
            sample = self._sample(queries, members, start, end)
            row = _row(key, label, sample, queries.delivered(mailing.id, members))
            row.variant = variant
            if control.size:
                _compare_with_control(row, sample, control)
            rows.append(row)
        if control.size:
            rows.append(_row("control", "Control", control, None))
        return rows

    @staticmethod
    def _groups(
        queries: MailingReportQueries, mailing: Mailing
    ) -> list[tuple[str, str, int | None, Select[Any]]]:
        """(key, label, variant, members) of every group but the control one."""
        variants = queries.assigned_variants(mailing.id) if mailing.variants else []
        if not variants:
            return [("main", "Main", None, queries.recipients(mailing.id))]
        groups: list[tuple[str, str, int | None, Select[Any]]] = []
        for variant in variants:
            members = queries.variant_members(mailing.id, variant)
            if variant is None:
                groups.append(("rest", "Rest", None, members))  # waited for, then got, the winner
            else:
                groups.append(("variant", _letter(variant), variant, members))
        return groups

    @staticmethod
    def _sample(
        queries: MailingReportQueries, members: Select[Any], start: datetime, end: datetime
    ) -> Sample:
        bought = queries.purchases(members, start, end)
        return Sample(
            size=queries.size(members),
            receipts=sum(receipts for receipts, _ in bought),
            spent=[amount for _, amount in bought],
        )


def _row(key: str, label: str, sample: Sample, delivered: int | None) -> GroupRow:
    size = sample.size
    return GroupRow(
        key=key,
        label=label,
        recipients=size,
        delivered=delivered,
        buyers=sample.buyers,
        conversion=sample.buyers / size if size else None,
        receipts=sample.receipts,
        receipts_per_customer=sample.receipts / size if size else None,
        amount=sample.amount,
        revenue_per_customer=(sample.amount / size).quantize(CENTS) if size else None,
    )


def _compare_with_control(row: GroupRow, sample: Sample, control: Sample) -> None:
    """Expected revenue at the control group's revenue per customer, the increment, the tests."""
    expected = (sample.size * control.amount / control.size).quantize(CENTS)
    row.expected_amount = expected
    row.incremental_amount = sample.amount - expected
    row.comparison = compare(sample, control)


def _letter(variant: int) -> str:
    return LETTERS[variant] if 0 <= variant < len(LETTERS) else str(variant + 1)


def _date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


groups_report_service = GroupsReportService()
