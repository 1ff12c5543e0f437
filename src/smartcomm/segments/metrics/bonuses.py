"""Bonus and points metrics: the bonus balance the loyalty system sent, the bonuses expiring within N days,
and smartcomm's own points balance.

Each reads the customer's own rows (the loyalty account, the expiring portions by customer and day)
through a correlated subquery: a seek per candidate customer. "Within N days" counts from today in the
project time zone: 0 is today only, 7 is today and the next seven days. The expiring amount and the
points are 0 for a customer with none, so "is empty" selects nobody there; the bonus balance is empty for
a customer the loyalty system never sent one for.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, func, select, type_coerce

from smartcomm.kit.i18n import lazy
from smartcomm.kit.models import Money
from smartcomm.models import BonusExpiration, Customer, LoyaltyAccount
from smartcomm.segments.metrics.base import (
    CompileContext,
    Metric,
    MetricError,
    ParamSpec,
    ValueType,
    compare,
    param,
    per_customer_value,
    registry,
)
from smartcomm.segments.rules import Condition

BONUSES = lazy("Bonuses and points")
MAX_WITHIN_DAYS = 3660
DAYS = ParamSpec("days", lazy("Within days (0: today)"), "text", True)


def _account_value(column: Any) -> Any:
    return (
        select(column).where(LoyaltyAccount.customer_id == Customer.id).correlate(Customer).scalar_subquery()
    )


def _build_balance(condition: Condition, context: CompileContext) -> ColumnElement[bool]:
    # No row: the loyalty system never sent a balance ("is empty"), not a balance of 0.
    return compare(_account_value(LoyaltyAccount.bonus_balance), BONUS_BALANCE, condition, context)


def within_days(condition: Condition) -> int:
    """The `days` parameter: a whole number of days from 0 (today) to MAX_WITHIN_DAYS."""
    raw = param(condition, "days", True)
    try:
        days = int(str(raw).strip())
    except ValueError as error:
        raise MetricError(f"the parameter 'days' is a whole number from 0 to {MAX_WITHIN_DAYS}") from error
    if not 0 <= days <= MAX_WITHIN_DAYS:
        raise MetricError(f"the parameter 'days' is a whole number from 0 to {MAX_WITHIN_DAYS}")
    return days


def _build_expiring(condition: Condition, context: CompileContext) -> ColumnElement[bool]:
    last_day = context.today + timedelta(days=within_days(condition))
    filters = [BonusExpiration.expires_on >= context.today, BonusExpiration.expires_on <= last_day]
    total = type_coerce(func.sum(BonusExpiration.amount), Money)
    return per_customer_value(
        BonusExpiration.customer_id, total, Decimal("0"), filters, EXPIRING, condition, context
    )


def _build_points(condition: Condition, context: CompileContext) -> ColumnElement[bool]:
    balance = func.coalesce(_account_value(LoyaltyAccount.points_balance), 0)
    return compare(balance, POINTS_BALANCE, condition, context)


BONUS_BALANCE = registry.register(
    Metric("bonuses.balance", lazy("Bonus balance"), BONUSES, ValueType.MONEY, _build_balance)
)
EXPIRING = registry.register(
    Metric(
        "bonuses.expiring",
        lazy("Bonuses expiring"),
        BONUSES,
        ValueType.MONEY,
        _build_expiring,
        params=(DAYS,),
    )
)
POINTS_BALANCE = registry.register(
    Metric(
        "bonuses.points_balance",
        lazy("Points balance"),
        BONUSES,
        ValueType.INTEGER,
        _build_points,
        unit=lazy("points"),
    )
)
