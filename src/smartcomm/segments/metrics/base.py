"""The metric registry: what a condition may test, and how each metric compiles to SQL.

Every metric declares its key, group, value type, operators and parameters, and a `build` function that
turns one condition into a boolean SQL expression over the `customers` table. The compiler only walks
the rule tree and combines these expressions, so adding a metric never changes the compiler.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError
from sqlalchemy import (
    BigInteger,
    BindParameter,
    ColumnElement,
    Select,
    String,
    and_,
    bindparam,
    false,
    func,
    not_,
    or_,
    true,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from smartcomm.kit.i18n import LazyString, lazy
from smartcomm.kit.types import MAX_INT64
from smartcomm.models import Customer
from smartcomm.segments.rules import Condition, Period, reference_id

# The bound parameter holding the customers of a per-customer refresh (see CompileContext).
REFRESHED = "refreshed_customers"


class ValueType(StrEnum):
    STRING = "string"
    INTEGER = "integer"
    NUMBER = "number"
    MONEY = "money"
    DATE = "date"
    DATETIME = "datetime"
    BOOLEAN = "boolean"
    ENUM = "enum"


NUMERIC_TYPES = {ValueType.INTEGER, ValueType.NUMBER, ValueType.MONEY}
# Money is stored in minor units in a 64-bit column: 16 digits with the kopecks.
MAX_MONEY = Decimal(10) ** 14
# "In the last N days/months" and the days-ago metrics read dates that far back at most (about 270 years).
MAX_DAYS = 100_000
MAX_MONTHS = 3_000
TEMPORAL_TYPES = {ValueType.DATE, ValueType.DATETIME}

OPERATORS: dict[ValueType, tuple[str, ...]] = {
    ValueType.STRING: (
        "eq",
        "ne",
        "contains",
        "not_contains",
        "starts_with",
        "in",
        "not_in",
        "empty",
        "not_empty",
    ),
    ValueType.INTEGER: ("eq", "ne", "gt", "gte", "lt", "lte", "between", "empty", "not_empty"),
    ValueType.NUMBER: ("eq", "ne", "gt", "gte", "lt", "lte", "between", "empty", "not_empty"),
    ValueType.MONEY: ("eq", "ne", "gt", "gte", "lt", "lte", "between", "empty", "not_empty"),
    ValueType.DATE: ("on", "before", "after", "between", "in_last", "not_in_last", "empty", "not_empty"),
    ValueType.DATETIME: ("on", "before", "after", "between", "in_last", "not_in_last", "empty", "not_empty"),
    ValueType.BOOLEAN: ("is_true", "is_false"),
    ValueType.ENUM: ("in", "not_in", "empty", "not_empty"),
}
VALUELESS = {"empty", "not_empty", "is_true", "is_false"}


class MetricError(ValueError):
    """A condition that does not fit its metric (unknown metric, wrong operator, value or parameter)."""


@dataclass(frozen=True)
class ParamSpec:
    name: str
    label: LazyString
    kind: str  # period | product | category | store | source | container | event | mailing_category | channel
    #            | audience | segment | text | context
    required: bool = False


@dataclass
class CompileContext:
    """What compiling needs besides the rules: the moment "now", the project time zone, custom fields."""

    now: datetime
    zone: str = "UTC"
    custom_types: dict[str, str] = field(default_factory=dict)
    # When set, the statement is only ever asked about these customers (a per-customer refresh): the
    # per-customer aggregates then read only their rows instead of grouping the whole table.
    customer_ids: Sequence[int] | None = None

    def refreshed_customers(self) -> BindParameter[Any]:
        """The customers of a per-customer refresh as one named parameter, so a statement compiled
        once can be asked about other customers later (execute it with {REFRESHED: [ids]})."""
        assert self.customer_ids is not None
        return bindparam(REFRESHED, list(self.customer_ids), expanding=True, type_=BigInteger())

    @property
    def today(self) -> date:
        return self.now.astimezone(ZoneInfo(self.zone)).date()

    def day_start(self, day: date) -> datetime:
        return datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(self.zone)).astimezone(UTC)

    def period_bounds(self, period: Period | None) -> tuple[datetime | None, datetime | None]:
        """[start, end) in UTC; "last N days" counts today as one of the N days and ends with today."""
        if period is None or period.kind == "all":
            return None, None
        if period.kind == "between":
            assert period.start and period.end
            return self.day_start(period.start), self.day_start(period.end + timedelta(days=1))
        assert period.n is not None
        start = self.day_start(self.days_back(period.n, period.unit))
        # Rows dated after today (clock skew, planned events) are not "in the last N days".
        return start, self.day_start(self.today + timedelta(days=1))

    def days_back(self, n: int, unit: str) -> date:
        if unit == "months":
            return add_months(self.today, -n) + timedelta(days=1)
        return self.today - timedelta(days=n - 1)


def add_months(day: date, months: int) -> date:
    month_index = day.year * 12 + day.month - 1 + months
    year, month = divmod(month_index, 12)
    month += 1
    for candidate in (day.day, 30, 29, 28):
        try:
            return date(year, month, candidate)
        except ValueError:
            continue
    raise ValueError(day)


Builder = Callable[[Condition, CompileContext], ColumnElement[bool]]


@dataclass(frozen=True)
class Metric:
    key: str
    label: LazyString
    group: LazyString
    value_type: ValueType
    build: Builder
    params: tuple[ParamSpec, ...] = ()
    operators: tuple[str, ...] = ()
    choices: tuple[tuple[str, LazyString], ...] = ()
    unit: LazyString | None = None
    # Dates kept as ISO text (custom fields in JSON) compare with ISO text bounds on every backend.
    text_bounds: bool = False
    # The largest magnitude an integer value may have (days and years turn into dates, which end at 9999).
    limit: int = MAX_INT64

    @property
    def allowed_operators(self) -> tuple[str, ...]:
        return self.operators or OPERATORS[self.value_type]


class Registry:
    def __init__(self) -> None:
        self._metrics: dict[str, Metric] = {}
        self._dynamic: list[Callable[[str, CompileContext], Metric | None]] = []

    def register(self, metric: Metric) -> Metric:
        if metric.key in self._metrics:
            raise ValueError(f"metric {metric.key} registered twice")
        self._metrics[metric.key] = metric
        return metric

    def register_dynamic(self, resolver: Callable[[str, CompileContext], Metric | None]) -> None:
        """Metrics whose set depends on data (custom fields): resolved by key at compile time."""
        self._dynamic.append(resolver)

    def get(self, key: str, context: CompileContext) -> Metric:
        metric = self._metrics.get(key)
        for resolver in self._dynamic:
            metric = metric or resolver(key, context)
        if metric is None:
            raise MetricError(f"unknown metric {key!r}")
        return metric

    def static_metrics(self) -> list[Metric]:
        return list(self._metrics.values())


registry = Registry()


# ---------------------------------------------------------------- values and comparisons


def coerce(value_type: ValueType, value: Any, limit: int = MAX_INT64) -> Any:
    """A condition value as the Python type the comparison needs (raises MetricError when it cannot).

    Numbers must also be storable where they are compared: integers within `limit`, money within its
    16 digits, every number finite.
    """
    try:
        if value_type is ValueType.INTEGER:
            if isinstance(value, bool):
                raise ValueError
            return _within(int(value), limit)
        if value_type is ValueType.MONEY:
            return _within(Decimal(str(value)), MAX_MONEY - Decimal("0.01"))
        if value_type is ValueType.NUMBER:
            return _within(float(Decimal(str(value).replace(",", "."))), float(MAX_INT64))
        if value_type is ValueType.DATE:
            return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
        if value_type is ValueType.DATETIME:
            return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
        return str(value)
    except (ValueError, TypeError, InvalidOperation, OverflowError) as error:
        raise MetricError(f"{value!r} is not a valid {value_type.value}") from error
    except _OutOfRange as error:
        raise MetricError(f"{value!r} is out of range: at most {error.limit} either way") from error


class _OutOfRange(Exception):
    def __init__(self, limit: Any) -> None:
        super().__init__(limit)
        self.limit = limit


def _within(number: Any, limit: Any) -> Any:
    if number != number:  # NaN is not equal to itself
        raise ValueError(number)
    if abs(number) > limit:
        raise _OutOfRange(limit)
    return number


def needs_list(operator: str) -> bool:
    return operator in ("in", "not_in", "between")


def condition_values(metric: Metric, condition: Condition) -> Any:
    """Validate and convert the condition's value for its operator."""
    operator = condition.operator
    if operator not in metric.allowed_operators:
        raise MetricError(f"operator {operator!r} does not apply to {metric.key}")
    if operator in VALUELESS:
        return None
    if operator in ("in_last", "not_in_last"):
        return _last_value(condition.value)
    value = condition.value
    if needs_list(operator):
        items = value if isinstance(value, list) else [value]
        if not items or (operator == "between" and len(items) != 2):
            raise MetricError(
                f"operator {operator!r} needs {'two values' if operator == 'between' else 'a list'}"
            )
        return [coerce(metric.value_type, item, metric.limit) for item in items]
    if value is None or value == "":
        raise MetricError(f"{metric.key} needs a value")
    return coerce(metric.value_type, value, metric.limit)


def _last_value(value: Any) -> tuple[int, str]:
    n, unit = (value.get("n"), value.get("unit", "days")) if isinstance(value, dict) else (value, "days")
    try:
        count = int(str(n))
    except (TypeError, ValueError) as error:
        raise MetricError("'in the last' needs a number of days or months") from error
    if count < 1 or unit not in ("days", "months"):
        raise MetricError("'in the last' needs a positive number of days or months")
    if count > (MAX_MONTHS if unit == "months" else MAX_DAYS):
        raise MetricError(f"'in the last' goes back at most {MAX_DAYS} days or {MAX_MONTHS} months")
    return count, unit


def compare(expr: Any, metric: Metric, condition: Condition, context: CompileContext) -> ColumnElement[bool]:
    """`expr <operator> value` for plain (nullable) values: NULL never matches except with `empty`."""
    operator, value = condition.operator, condition_values(metric, condition)
    if operator == "empty":
        return (
            expr.is_(None) if metric.value_type is not ValueType.STRING else or_(expr.is_(None), expr == "")
        )
    if operator == "not_empty":
        return (
            expr.is_not(None)
            if metric.value_type is not ValueType.STRING
            else and_(expr.is_not(None), expr != "")
        )
    if operator in ("is_true", "is_false"):
        return expr.is_(True) if operator == "is_true" else or_(expr.is_(False), expr.is_(None))
    if metric.value_type in TEMPORAL_TYPES:
        return _compare_temporal(expr, metric, operator, value, context)
    if metric.value_type is ValueType.STRING:
        return _compare_string(expr, operator, value)
    return _compare_ordered(expr, operator, value)


def _compare_ordered(expr: Any, operator: str, value: Any) -> ColumnElement[bool]:
    simple = (
        {
            "eq": expr == value,
            "gt": expr > value,
            "gte": expr >= value,
            "lt": expr < value,
            "lte": expr <= value,
        }
        if not isinstance(value, list)
        else {}
    )
    if operator in simple:
        return simple[operator]
    if operator == "ne":
        return and_(expr.is_not(None), expr != value)
    if operator == "between":
        low, high = sorted(value)
        return and_(expr >= low, expr <= high)
    if operator == "in":
        return expr.in_(value)
    if operator == "not_in":
        return and_(expr.is_not(None), expr.not_in(value))
    raise MetricError(f"operator {operator!r} is not supported here")


class TextLower(FunctionElement[str]):
    """Lower case in every script: SQLite's own lower() folds ASCII only, so there the database's
    `unicode_lower` (registered on every SQLite connection) is used; elsewhere plain lower()."""

    type = String()
    name = "lower"
    inherit_cache = True


@compiles(TextLower)
def _text_lower(element: TextLower, compiler: Any, **kw: Any) -> str:
    return f"lower({compiler.process(element.clauses, **kw)})"


@compiles(TextLower, "sqlite")
def _text_lower_sqlite(element: TextLower, compiler: Any, **kw: Any) -> str:
    return f"unicode_lower({compiler.process(element.clauses, **kw)})"


def text_lower(expr: Any) -> TextLower:
    return TextLower(expr)


def _compare_string(expr: Any, operator: str, value: Any) -> ColumnElement[bool]:
    lowered = text_lower(expr)
    if operator == "eq":
        return lowered == value.lower()
    if operator == "ne":
        return and_(expr.is_not(None), lowered != value.lower())
    if operator == "contains":
        return lowered.contains(value.lower(), autoescape=True)
    if operator == "not_contains":
        return or_(expr.is_(None), not_(lowered.contains(value.lower(), autoescape=True)))
    if operator == "starts_with":
        return lowered.startswith(value.lower(), autoescape=True)
    if operator == "in":
        return lowered.in_([v.lower() for v in value])
    if operator == "not_in":
        return and_(expr.is_not(None), lowered.not_in([v.lower() for v in value]))
    raise MetricError(f"operator {operator!r} is not supported for text")


def _compare_temporal(
    expr: Any, metric: Metric, operator: str, value: Any, context: CompileContext
) -> ColumnElement[bool]:
    """Dates compare by day in the project time zone; date-time columns by the UTC bounds of those days."""
    is_date = metric.value_type is ValueType.DATE

    def bound(day: date) -> Any:
        value = day if is_date else context.day_start(day)
        return value.isoformat() if metric.text_bounds else value

    if operator in ("in_last", "not_in_last"):
        n, unit = value
        start = bound(context.days_back(n, unit))
        inside = and_(expr >= start, expr < bound(context.today + timedelta(days=1)))
        return inside if operator == "in_last" else and_(expr.is_not(None), not_(inside))
    if operator == "on":
        return and_(expr >= bound(value), expr < bound(value + timedelta(days=1)))
    if operator == "before":
        return expr < bound(value)
    if operator == "after":
        return expr >= bound(value + timedelta(days=1))
    if operator == "between":
        low, high = sorted(value)
        return and_(expr >= bound(low), expr < bound(high + timedelta(days=1)))
    raise MetricError(f"operator {operator!r} is not supported for dates")


def python_compare(metric: Metric, condition: Condition, actual: Any, context: CompileContext) -> bool:
    """The same comparison in plain Python (used to decide how an aggregate treats customers without rows)."""
    operator, value = condition.operator, condition_values(metric, condition)
    if operator == "empty":
        return actual is None or actual == ""
    if operator == "not_empty":
        return actual is not None and actual != ""
    if actual is None:
        return operator == "is_false"
    table: dict[str, Callable[[], bool]] = {
        "eq": lambda: actual == value,
        "ne": lambda: actual != value,
        "gt": lambda: actual > value,
        "gte": lambda: actual >= value,
        "lt": lambda: actual < value,
        "lte": lambda: actual <= value,
        "between": lambda: min(value) <= actual <= max(value),
        "in": lambda: actual in value,
        "not_in": lambda: actual not in value,
        "is_true": lambda: actual is True,
        "is_false": lambda: actual is False,
    }
    if operator not in table:
        raise MetricError(f"operator {operator!r} cannot be evaluated on an aggregate")
    return table[operator]()


def per_customer(
    customer_column: Any,
    aggregate: Any,
    default: Any,
    filters: list[Any],
    metric: Metric,
    condition: Condition,
    context: CompileContext,
) -> ColumnElement[bool]:
    """A condition on a per-customer aggregate of some table (count, sum, max …).

    Customers with no rows have the aggregate `default` (0 for counts and sums, None otherwise). When the
    default satisfies the condition (e.g. "fewer than 2 receipts"), the set is built as the complement of
    the customers whose rows fail it, so customers without rows are included. A context limited to some
    customers groups only their rows (the statement must then be asked about those customers only).
    """
    from sqlalchemy import select

    matches_default = python_compare(metric, condition, default, context)
    if context.customer_ids is not None:
        # Whether a customer is in either set below depends on that customer's rows alone.
        filters = [*filters, customer_column.in_(context.refreshed_customers())]
    grouped: Select[Any] = (
        select(customer_column).where(customer_column.is_not(None), *filters).group_by(customer_column)
    )
    predicate = compare(aggregate, metric, condition, context)
    if matches_default:
        return Customer.id.not_in(grouped.having(not_(predicate)))
    return Customer.id.in_(grouped.having(predicate))


def per_customer_value(
    customer_column: Any,
    aggregate: Any,
    default: Any,
    filters: list[Any],
    metric: Metric,
    condition: Condition,
    context: CompileContext,
    implied: Sequence[ColumnElement[bool]] = (),
) -> ColumnElement[bool]:
    """A condition on a per-customer aggregate read customer by customer: a correlated subquery that an
    index starting with the customer column answers with one short range.

    Where the other conditions leave few candidates this costs a seek per candidate, instead of grouping
    every row of the table that passes the filters (`per_customer`). Customers with no rows have the
    aggregate `default`. `implied` are cheap conditions on the customer's own row that every customer
    with matching rows meets (e.g. a last purchase inside the period); they come first, so that most
    customers never reach the subquery, and are left out when customers without rows may match.
    """
    from sqlalchemy import select

    value: Any = select(aggregate).where(customer_column == Customer.id, *filters)
    value = value.correlate(Customer).scalar_subquery()
    if default is not None:
        value = func.coalesce(value, default)
    predicate = compare(value, metric, condition, context)
    if python_compare(metric, condition, default, context):
        return predicate
    return and_(*implied, predicate)


def param(condition: Condition, name: str, required: bool = False) -> Any:
    value = condition.params.get(name)
    if required and (value is None or value == ""):
        raise MetricError(f"the condition needs the parameter {name!r}")
    return value


def param_id(condition: Condition, name: str) -> int | None:
    """The id a parameter names (an id, or a key resolved when the rules were saved); None for a value
    given as plain text (a code or SKU, which the metric matches itself)."""
    value = condition.params.get(name)
    try:
        found = reference_id(value)
    except ValueError as error:
        raise MetricError(f"the parameter {name!r}: {error}") from error
    if found is None and isinstance(value, dict):
        raise MetricError(f"the parameter {name!r} names nothing known: give an id or a key")
    return found


def period_of(condition: Condition) -> Period | None:
    raw = condition.params.get("period")
    if raw is None:
        return None
    try:
        return raw if isinstance(raw, Period) else Period.model_validate(raw)
    except ValidationError as error:
        reason = str(error.errors()[0]["msg"]).removeprefix("Value error, ")
        raise MetricError(f"invalid period: {reason}") from error


def always(value: bool) -> ColumnElement[bool]:
    return true() if value else false()


PERIOD = ParamSpec("period", lazy("Period"), "period")
