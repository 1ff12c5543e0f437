"""Order metrics (the optional orders module): how many orders and for how much in a period, the first and
last order, days since the last one, an order in given statuses, and ordered a product or from a category.

Counts, amounts, dates and products read only orders that count in analytics (`orders.in_analytics`: none
of their statuses is excluded in Settings → Order statuses); "has an order in status" reads every order,
so that cancelled or refunded orders can be selected too. No per-customer aggregate is kept on write: each
metric is a correlated subquery answered by the index on (customer, order time, in analytics, total), a
short range per candidate customer, or for products and categories a grouped read of the lines through
their product or category index.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, exists, func, select, type_coerce
from sqlalchemy.orm import Session

from smartcomm.kit.i18n import LazyString, lazy
from smartcomm.kit.models import Money
from smartcomm.models import Customer, Order, OrderLine, OrderStatus
from smartcomm.segments.metrics.base import (
    MAX_DAYS,
    PERIOD,
    CompileContext,
    Metric,
    MetricError,
    ParamSpec,
    ValueType,
    compare,
    param,
    param_id,
    per_customer,
    per_customer_value,
    registry,
)
from smartcomm.segments.metrics.checked import CheckedMetric
from smartcomm.segments.metrics.profile import days_since
from smartcomm.segments.metrics.promocodes import period_filter
from smartcomm.segments.metrics.purchases import CATEGORY, PRODUCT, category_subtree
from smartcomm.segments.rules import Condition

ORDERS = lazy("Orders")
STATUS = ParamSpec("status", lazy("Status codes (any of)"), "text", True)
MAX_CODES = 50
STATUS_COLUMNS = {
    "general": Order.general_status_id,
    "delivery": Order.delivery_status_id,
    "payment": Order.payment_status_id,
}


def _counted(condition: Condition, context: CompileContext) -> list[Any]:
    """Orders that count in analytics, placed in the condition's period (when it has one)."""
    return [Order.in_analytics.is_(True), *period_filter(Order.created_at, condition, context)]


def _orders_metric(
    key: str, label: LazyString, value_type: ValueType, aggregate: Any, default: Any
) -> Metric:
    def build(condition: Condition, context: CompileContext) -> ColumnElement[bool]:
        filters = _counted(condition, context)
        return per_customer_value(Order.customer_id, aggregate, default, filters, metric, condition, context)

    params = (PERIOD,) if value_type is not ValueType.DATETIME else ()
    metric = Metric(key, label, ORDERS, value_type, build, params=params)
    return registry.register(metric)


_orders_metric("orders.count", lazy("Number of orders"), ValueType.INTEGER, func.count(), 0)
_orders_metric(
    "orders.amount", lazy("Orders amount"), ValueType.MONEY, type_coerce(func.sum(Order.total), Money), 0
)
_orders_metric(
    "orders.first_date", lazy("First order date"), ValueType.DATETIME, func.min(Order.created_at), None
)
_orders_metric(
    "orders.last_date", lazy("Last order date"), ValueType.DATETIME, func.max(Order.created_at), None
)


def _build_days_since_last(condition: Condition, context: CompileContext) -> ColumnElement[bool]:
    last = (
        select(func.max(Order.created_at))
        .where(Order.customer_id == Customer.id, Order.in_analytics.is_(True))
        .correlate(Customer)
        .scalar_subquery()
    )
    return days_since(last, DAYS_SINCE_LAST, condition, context)


DAYS_SINCE_LAST = registry.register(
    Metric(
        "orders.days_since_last",
        lazy("Days since last order"),
        ORDERS,
        ValueType.INTEGER,
        _build_days_since_last,
        unit=lazy("days"),
        limit=MAX_DAYS,
    )
)


# ---------------------------------------------------------------- statuses


def status_codes(condition: Condition) -> list[str]:
    """The codes the condition names: a list, or text with codes separated by commas."""
    raw = param(condition, "status", True)
    items = raw if isinstance(raw, list) else str(raw).split(",")
    codes = list(dict.fromkeys(str(item).strip() for item in items if str(item).strip()))
    if not codes or len(codes) > MAX_CODES or any(len(code) > 64 for code in codes):
        raise MetricError(f"the parameter 'status' names 1 to {MAX_CODES} status codes")
    return codes


def _status_metric(dimension: str, label: LazyString) -> Metric:
    def build(condition: Condition, context: CompileContext) -> ColumnElement[bool]:
        wanted = select(OrderStatus.id).where(
            OrderStatus.dimension == dimension, OrderStatus.code.in_(status_codes(condition))
        )
        in_status = exists(
            select(Order.id).where(
                Order.customer_id == Customer.id,
                STATUS_COLUMNS[dimension].in_(wanted),
                *period_filter(Order.created_at, condition, context),
            )
        )
        return compare(in_status, metric, condition, context)

    def check(session: Session, condition: Condition) -> list[tuple[str, str]]:
        try:
            codes = status_codes(condition)
        except MetricError as error:
            return [("status", str(error))]
        known = set(
            session.scalars(
                select(OrderStatus.code).where(
                    OrderStatus.dimension == dimension, OrderStatus.code.in_(codes)
                )
            )
        )
        return [
            ("status", f"no {dimension} status with the code {code!r}") for code in codes if code not in known
        ]

    metric = CheckedMetric(
        f"orders.{dimension}_status",
        label,
        ORDERS,
        ValueType.BOOLEAN,
        build,
        params=(STATUS, PERIOD),
        check_rows=check,
    )
    return registry.register(metric)


_status_metric("general", lazy("Has an order in general status"))
_status_metric("delivery", lazy("Has an order in delivery status"))
_status_metric("payment", lazy("Has an order in payment status"))


# ---------------------------------------------------------------- products and categories (order lines)


def _product_target(condition: Condition) -> Any:
    product = param(condition, "product", True)
    product_id = param_id(condition, "product")
    if product_id is not None:
        return OrderLine.product_id == product_id
    return OrderLine.sku == str(product)


def _category_target(condition: Condition) -> Any:
    param(condition, "category", True)
    return OrderLine.category_id.in_(category_subtree(condition))


def _lines_metric(key: str, label: LazyString, target: Any, spec: ParamSpec) -> Metric:
    """Orders (counting in analytics, in the period) with at least one line of the target, per customer."""

    def build(condition: Condition, context: CompileContext) -> ColumnElement[bool]:
        filters = [OrderLine.order_id == Order.id, target(condition), *_counted(condition, context)]
        orders = func.count(func.distinct(Order.id))
        return per_customer(Order.customer_id, orders, 0, filters, metric, condition, context)

    metric = Metric(key, label, ORDERS, ValueType.INTEGER, build, params=(spec, PERIOD))
    return registry.register(metric)


_lines_metric("orders.product_count", lazy("Ordered the product (times)"), _product_target, PRODUCT)
_lines_metric("orders.category_count", lazy("Ordered from the category (times)"), _category_target, CATEGORY)
