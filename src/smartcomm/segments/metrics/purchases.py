"""Purchase metrics. Without refinements they read the per-customer aggregates kept on every receipt
write; with a period or a store they aggregate receipts (or receipt lines) through their indexes."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Numeric,
    and_,
    func,
    literal_column,
    or_,
    select,
    type_coerce,
)

from smartcomm.kit.i18n import lazy
from smartcomm.kit.models import Money
from smartcomm.models import Category, Customer, Receipt, ReceiptLine, Store
from smartcomm.models.receipts import PURCHASE_STATUSES
from smartcomm.segments.metrics.base import (
    MAX_DAYS,
    PERIOD,
    CompileContext,
    Metric,
    MetricError,
    ParamSpec,
    ValueType,
    compare,
    condition_values,
    param,
    param_id,
    per_customer,
    per_customer_value,
    period_of,
    registry,
)
from smartcomm.segments.metrics.profile import days_since
from smartcomm.segments.rules import Condition

PURCHASES = lazy("Purchases")
STORE = ParamSpec("store", lazy("Store"), "store")
PRODUCT = ParamSpec("product", lazy("Product"), "product", True)
CATEGORY = ParamSpec("category", lazy("Category (with subcategories)"), "category", True)


def _refined(condition: Condition) -> bool:
    period = period_of(condition)
    return (period is not None and period.kind != "all") or param(condition, "store") not in (None, "")


def _receipt_filters(condition: Condition, context: CompileContext) -> list[Any]:
    start, end = context.period_bounds(period_of(condition))
    filters: list[Any] = [Receipt.status.in_(PURCHASE_STATUSES)]
    if start is not None:
        filters.append(Receipt.purchased_at >= start)
    if end is not None:
        filters.append(Receipt.purchased_at < end)
    if param(condition, "store") not in (None, ""):
        filters.append(_store_filter(Receipt.store_id, condition))
    return filters


def _bought_in_window(condition: Condition, context: CompileContext) -> list[ColumnElement[bool]]:
    """What the stored aggregates say of every customer with a purchase in the condition's window."""
    start, end = context.period_bounds(period_of(condition))
    implied = [Customer.receipt_count > 0]
    if start is not None:
        implied.append(Customer.last_purchase_at >= start)
    if end is not None:
        implied.append(Customer.first_purchase_at < end)
    return implied


def _receipts_value(
    aggregate: Any,
    default: Any,
    metric: Metric,
    condition: Condition,
    context: CompileContext,
    lifetime: Any = None,
) -> ColumnElement[bool]:
    """A refined purchase metric: the customer's receipts in the window, through the index on
    (customer, purchase time, status, total), which holds every column these aggregates read.

    `lifetime` is the stored aggregate of all purchases when the window's value can never exceed it (a
    count, an amount: totals are never negative); a condition asking for at least some value then also
    needs the lifetime value to reach it, which rules most customers out before their receipts are read.
    """
    filters = _receipt_filters(condition, context)
    implied = _bought_in_window(condition, context)
    if lifetime is not None:
        implied.extend(_lifetime_floor(lifetime, metric, condition))
    return per_customer_value(
        Receipt.customer_id, aggregate, default, filters, metric, condition, context, implied
    )


def _lifetime_floor(lifetime: Any, metric: Metric, condition: Condition) -> list[ColumnElement[bool]]:
    operator, value = condition.operator, condition_values(metric, condition)
    if operator == "gt":
        return [lifetime > value]
    if operator in ("gte", "eq"):
        return [lifetime >= value]
    if operator in ("between", "in"):
        return [lifetime >= min(value)]
    return []


def _store_filter(column: Any, condition: Condition) -> Any:
    store_id = param_id(condition, "store")
    if store_id is not None:
        return column == store_id
    return column.in_(select(Store.id).where(Store.code == str(param(condition, "store"))))


def rounded_average(total: Any, count: Any) -> Any:
    """Average receipt rounded to minor units, the same rule the stored aggregate uses."""
    # The sum is read in stored minor units (a bound `* 1.0` would take the money type and become 100),
    # and the 1.0 is written out so PostgreSQL divides and rounds exact numerics, half away from zero.
    minor_units = type_coerce(total, BigInteger)
    return type_coerce(func.round(minor_units * literal_column("1.0", Numeric()) / count), Money)


def _receipts_metric(
    key: str,
    label: Any,
    value_type: ValueType,
    stored: Any,
    aggregate: Any,
    default: Any,
    cumulative: bool = False,
) -> Metric:
    """`cumulative`: the value over a window never exceeds the stored one over all purchases."""

    def build(condition: Condition, context: CompileContext) -> ColumnElement[bool]:
        if not _refined(condition):
            return compare(stored, metric, condition, context)
        lifetime = stored if cumulative else None
        return _receipts_value(aggregate, default, metric, condition, context, lifetime)

    metric = Metric(key, label, PURCHASES, value_type, build, params=(PERIOD, STORE))
    return registry.register(metric)


_receipts_metric(
    "purchases.count",
    lazy("Number of receipts"),
    ValueType.INTEGER,
    Customer.receipt_count,
    func.count(),
    0,
    cumulative=True,
)
_receipts_metric(
    "purchases.amount",
    lazy("Purchase amount"),
    ValueType.MONEY,
    Customer.total_amount,
    type_coerce(func.sum(Receipt.total), Money),
    0,
    cumulative=True,
)
_receipts_metric(
    "purchases.first_date",
    lazy("First purchase date"),
    ValueType.DATETIME,
    Customer.first_purchase_at,
    func.min(Receipt.purchased_at),
    None,
)
_receipts_metric(
    "purchases.last_date",
    lazy("Last purchase date"),
    ValueType.DATETIME,
    Customer.last_purchase_at,
    func.max(Receipt.purchased_at),
    None,
)


def _build_average(condition: Condition, context: CompileContext) -> ColumnElement[bool]:
    if _refined(condition):
        average = rounded_average(func.sum(Receipt.total), func.count())
        return _receipts_value(average, None, AVERAGE, condition, context)
    # Customers without purchases have no average receipt (the stored 0 means "none").
    if condition.operator == "empty":
        return Customer.receipt_count == 0
    if condition.operator == "not_empty":
        return Customer.receipt_count > 0
    return and_(Customer.receipt_count > 0, compare(Customer.average_receipt, AVERAGE, condition, context))


AVERAGE = registry.register(
    Metric(
        "purchases.average",
        lazy("Average receipt"),
        PURCHASES,
        ValueType.MONEY,
        _build_average,
        params=(PERIOD, STORE),
    )
)


def _build_days_since_last(condition: Condition, context: CompileContext) -> ColumnElement[bool]:
    return days_since(Customer.last_purchase_at, DAYS_SINCE_LAST, condition, context)


DAYS_SINCE_LAST = registry.register(
    Metric(
        "purchases.days_since_last",
        lazy("Days since last purchase"),
        PURCHASES,
        ValueType.INTEGER,
        _build_days_since_last,
        unit=lazy("days"),
        limit=MAX_DAYS,
    )
)


# ---------------------------------------------------------------- products and categories (receipt lines)


def _line_filters(condition: Condition, context: CompileContext, target: Any) -> list[Any]:
    start, end = context.period_bounds(period_of(condition))
    filters: list[Any] = [ReceiptLine.is_purchase.is_(True), target]
    if start is not None:
        filters.append(ReceiptLine.purchased_at >= start)
    if end is not None:
        filters.append(ReceiptLine.purchased_at < end)
    return filters


def _product_target(condition: Condition) -> Any:
    product = param(condition, "product", True)
    product_id = param_id(condition, "product")
    if product_id is not None:
        return ReceiptLine.product_id == product_id
    return ReceiptLine.sku == str(product)


def category_subtree(condition: Condition) -> Any:
    """Ids of the condition's category and all its descendants (by the materialised path)."""
    category_id = param_id(condition, "category")
    if category_id is None:
        raise MetricError('a category is given by its id or by its code, as {"code": …}')
    return select(Category.id).where(
        or_(Category.id == category_id, Category.path.contains(f"/{category_id}/"))
    )


def _category_target(condition: Condition) -> Any:
    param(condition, "category", True)
    return ReceiptLine.category_id.in_(category_subtree(condition))


def _lines_metric(
    key: str, label: Any, value_type: ValueType, aggregate: Any, target: Any, spec: ParamSpec
) -> Metric:
    def build(condition: Condition, context: CompileContext) -> ColumnElement[bool]:
        filters = _line_filters(condition, context, target(condition))
        return per_customer(ReceiptLine.customer_id, aggregate, 0, filters, metric, condition, context)

    metric = Metric(key, label, PURCHASES, value_type, build, params=(spec, PERIOD))
    return registry.register(metric)


RECEIPTS_WITH = func.count(func.distinct(ReceiptLine.receipt_id))
LINE_AMOUNT = type_coerce(func.sum(ReceiptLine.amount), Money)

_lines_metric(
    "purchases.product_count",
    lazy("Bought the product (times)"),
    ValueType.INTEGER,
    RECEIPTS_WITH,
    _product_target,
    PRODUCT,
)
_lines_metric(
    "purchases.product_amount",
    lazy("Bought the product (amount)"),
    ValueType.MONEY,
    LINE_AMOUNT,
    _product_target,
    PRODUCT,
)
_lines_metric(
    "purchases.category_count",
    lazy("Bought from the category (times)"),
    ValueType.INTEGER,
    RECEIPTS_WITH,
    _category_target,
    CATEGORY,
)
_lines_metric(
    "purchases.category_amount",
    lazy("Bought from the category (amount)"),
    ValueType.MONEY,
    LINE_AMOUNT,
    _category_target,
    CATEGORY,
)
