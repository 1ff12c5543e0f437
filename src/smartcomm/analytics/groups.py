"""Groups compared with a control group: what each group bought, and whether the differences are real.

A group is a set of customers (the recipients of a mailing, an A/B variant, the customers a campaign's
control node let through) measured against the control group that was sent nothing, over purchases in
the same kind of window. Members without a purchase count as buyers of nothing.

Significance, each group against the control group:
- conversion (buyers / members): a two-sided two-proportion z-test with the pooled proportion;
- revenue per customer: Welch's t-test (unequal variances) on the per-customer revenue of the two groups
  (members without a purchase count as 0), with the 95 % confidence interval of the difference.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np
from pydantic import BaseModel
from scipy import stats

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


def sample_of(size: int, bought: list[tuple[int, Decimal]]) -> Sample:
    """A group of `size` members from (receipts, amount) of each member who bought."""
    return Sample(
        size=size, receipts=sum(count for count, _ in bought), spent=[amount for _, amount in bought]
    )


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


# --- rows of a report ---------------------------------------------------------------------------------


def group_row(key: str, label: str, sample: Sample, delivered: int | None) -> GroupRow:
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


def compare_with_control(row: GroupRow, sample: Sample, control: Sample) -> None:
    """Expected revenue at the control group's revenue per customer, the increment, the tests."""
    expected = (sample.size * control.amount / control.size).quantize(CENTS)
    row.expected_amount = expected
    row.incremental_amount = sample.amount - expected
    row.comparison = compare(sample, control)
