"""Promo code metrics: codes issued to a customer (of a group, in a period) and codes the customer redeemed.

A group is named by its id (also as {"code": …} resolved on saving) or by its code as plain text. Each
metric is a correlated subquery on the customer's own codes, answered by the index on (customer, group,
issue time): a short range per candidate customer.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, exists, func, select

from smartcomm.kit.i18n import lazy
from smartcomm.models import Customer, PromoCode, PromoCodeGroup
from smartcomm.segments.metrics.base import (
    PERIOD,
    CompileContext,
    MetricError,
    ParamSpec,
    ValueType,
    compare,
    param,
    param_id,
    per_customer_value,
    period_of,
    registry,
)
from smartcomm.segments.metrics.checked import CheckedMetric
from smartcomm.segments.promo_poll_rows import check_group
from smartcomm.segments.rules import Condition

PROMO_CODES = lazy("Promo codes")
REDEEMED = "redeemed"
MAX_CODE_LENGTH = 64

GROUP = ParamSpec("group", lazy("Promo code group"), "promocode_group")
REQUIRED_GROUP = ParamSpec("group", lazy("Promo code group"), "promocode_group", True)


def group_filter(condition: Condition) -> list[Any]:
    """The codes of the group the condition names (by id, or by its code as text); none: every group."""
    raw = param(condition, "group")
    if raw in (None, ""):
        return []
    found = param_id(condition, "group")
    if found is not None:
        return [PromoCode.group_id == found]
    if not isinstance(raw, str) or len(raw.strip()) > MAX_CODE_LENGTH:
        raise MetricError("the parameter 'group' is an id or the code of a promo code group")
    by_code = select(PromoCodeGroup.id).where(PromoCodeGroup.code == raw.strip()).scalar_subquery()
    return [PromoCode.group_id == by_code]


def period_filter(column: Any, condition: Condition, context: CompileContext) -> list[Any]:
    start, end = context.period_bounds(period_of(condition))
    return [f for f in (column >= start if start else None, column < end if end else None) if f is not None]


def issued_filters(condition: Condition, context: CompileContext) -> list[Any]:
    # A code blocked after it was issued was still issued: the customer saw it.
    return [
        PromoCode.issued_at.is_not(None),
        *group_filter(condition),
        *period_filter(PromoCode.issued_at, condition, context),
    ]


def _build_issued_count(condition: Condition, context: CompileContext) -> ColumnElement[bool]:
    filters = issued_filters(condition, context)
    return per_customer_value(
        PromoCode.customer_id, func.count(), 0, filters, ISSUED_COUNT, condition, context
    )


def _owned(*filters: Any) -> ColumnElement[bool]:
    return exists(select(PromoCode.id).where(PromoCode.customer_id == Customer.id, *filters))


def _build_issued_from(condition: Condition, context: CompileContext) -> ColumnElement[bool]:
    param(condition, "group", True)
    return compare(_owned(*issued_filters(condition, context)), ISSUED_FROM, condition, context)


def _build_redeemed(condition: Condition, context: CompileContext) -> ColumnElement[bool]:
    filters = [
        PromoCode.status == REDEEMED,
        *group_filter(condition),
        *period_filter(PromoCode.redeemed_at, condition, context),
    ]
    return compare(_owned(*filters), REDEEMED_CODE, condition, context)


ISSUED_COUNT = registry.register(
    CheckedMetric(
        "promocodes.issued_count",
        lazy("Promo codes issued"),
        PROMO_CODES,
        ValueType.INTEGER,
        _build_issued_count,
        params=(GROUP, PERIOD),
        check_rows=check_group,
    )
)
ISSUED_FROM = registry.register(
    CheckedMetric(
        "promocodes.issued_from_group",
        lazy("Issued a code from group"),
        PROMO_CODES,
        ValueType.BOOLEAN,
        _build_issued_from,
        params=(REQUIRED_GROUP, PERIOD),
        check_rows=check_group,
    )
)
REDEEMED_CODE = registry.register(
    CheckedMetric(
        "promocodes.redeemed",
        lazy("Redeemed a promo code"),
        PROMO_CODES,
        ValueType.BOOLEAN,
        _build_redeemed,
        params=(GROUP, PERIOD),
        check_rows=check_group,
    )
)
