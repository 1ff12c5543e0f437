"""Profile metrics: every system field of the customer, custom fields, age, birthdays, registration."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Float, and_, cast, extract, not_

from smartcomm.kit.i18n import lazy
from smartcomm.models import Customer
from smartcomm.segments.metrics.base import (
    MAX_DAYS,
    CompileContext,
    Metric,
    MetricError,
    ValueType,
    add_months,
    compare,
    condition_values,
    registry,
)
from smartcomm.segments.rules import Condition

PROFILE = lazy("Profile")
# Ages turn into birth dates, which must stay within the calendar.
MAX_AGE = 1000
CUSTOM = lazy("Custom fields")

TEXT_FIELDS = {
    "external_id": lazy("External id"),
    "last_name": lazy("Last name"),
    "first_name": lazy("First name"),
    "middle_name": lazy("Middle name"),
    "country": lazy("Country"),
    "region": lazy("Region"),
    "city": lazy("City"),
    "time_zone": lazy("Time zone"),
    "card_number": lazy("Loyalty card number"),
    "card_status": lazy("Loyalty card status"),
}


def _column_metric(key: str, label: Any, value_type: ValueType, column: Any, **extra: Any) -> Metric:
    def build(condition: Condition, context: CompileContext) -> ColumnElement[bool]:
        return compare(column, metric, condition, context)

    metric = Metric(key=key, label=label, group=PROFILE, value_type=value_type, build=build, **extra)
    return registry.register(metric)


for _code, _label in TEXT_FIELDS.items():
    _column_metric(f"profile.{_code}", _label, ValueType.STRING, getattr(Customer, _code))

_column_metric(
    "profile.gender",
    lazy("Gender"),
    ValueType.ENUM,
    Customer.gender,
    choices=(("m", lazy("Male")), ("f", lazy("Female"))),
)
_column_metric("profile.birth_date", lazy("Birth date"), ValueType.DATE, Customer.birth_date)
_column_metric("profile.registered_at", lazy("Registration date"), ValueType.DATETIME, Customer.registered_at)


# ---------------------------------------------------------------- age, birthday, days since registration


def _age_bounds(operator: str, value: Any, today: date) -> ColumnElement[bool]:
    """Age in whole years turned into birth-date bounds (index-friendly)."""

    def born_by(age: int) -> date:  # the latest birth date of someone who is at least `age` years old
        day = add_months(today, -12 * age)
        # 29 February birthdays fall on 28 February in other years: that day they are a year older.
        if (today.month, today.day) == (2, 28) and not _is_leap(today.year) and _is_leap(day.year):
            return day.replace(day=29)
        return day

    column = Customer.birth_date
    if operator == "between":
        low, high = sorted(value)
        return and_(column <= born_by(low), column > born_by(high + 1))
    if operator == "gte":
        return column <= born_by(value)
    if operator == "gt":
        return column <= born_by(value + 1)
    if operator == "lte":
        return column > born_by(value + 1)
    if operator == "lt":
        return column > born_by(value)
    exact = and_(column <= born_by(value), column > born_by(value + 1))
    return exact if operator == "eq" else and_(column.is_not(None), not_(exact))


def _build_age(condition: Condition, context: CompileContext) -> ColumnElement[bool]:
    if condition.operator in ("empty", "not_empty"):
        return compare(Customer.birth_date, AGE, condition, context)
    return _age_bounds(condition.operator, condition_values(AGE, condition), context.today)


AGE = registry.register(
    Metric(
        "profile.age", lazy("Age"), PROFILE, ValueType.INTEGER, _build_age, unit=lazy("years"), limit=MAX_AGE
    )
)


def month_day(day: date) -> int:
    return day.month * 100 + day.day


def birthday_month_days(today: date, first: int, last: int) -> set[int]:
    """Month-day codes (MMDD) of birthdays `first`…`last` days from today (29 Feb counts on 28 Feb).

    A code counts at the first day it comes round only: a year later the same month-day is the birthday
    after the next one (today's birthday is 0 days away, not 365).
    """
    next_in: dict[int, int] = {}
    for offset in range(0, min(last, 366) + 1):
        day = today + timedelta(days=offset)
        next_in.setdefault(month_day(day), offset)
        if day.month == 2 and day.day == 28 and not _is_leap(day.year):
            next_in.setdefault(229, offset)
    return {code for code, offset in next_in.items() if first <= offset <= last}


def _is_leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def _build_birthday(condition: Condition, context: CompileContext) -> ColumnElement[bool]:
    """Days until the next birthday (0 = today), compared through the set of matching month-days."""
    column = Customer.birth_date
    if condition.operator in ("empty", "not_empty"):
        return compare(column, BIRTHDAY, condition, context)
    value = condition_values(BIRTHDAY, condition)
    if condition.operator == "ne":
        codes = birthday_month_days(context.today, value, value)
        return and_(column.is_not(None), not_(_month_day(column).in_(codes)))
    first, last = _days_range(condition.operator, value)
    if first > last or first > 365:
        return and_(column.is_not(None), column.is_(None))
    return _month_day(column).in_(birthday_month_days(context.today, max(first, 0), min(last, 365)))


def _days_range(operator: str, value: Any) -> tuple[int, int]:
    """The inclusive range of "days until the birthday" an operator selects (a list only for between)."""
    if operator == "between":
        return min(value), max(value)
    return {
        "eq": (value, value),
        "lte": (0, value),
        "lt": (0, value - 1),
        "gte": (value, 365),
        "gt": (value + 1, 365),
    }[operator]


def _month_day(column: Any) -> Any:
    return extract("month", column) * 100 + extract("day", column)


BIRTHDAY = registry.register(
    Metric(
        "profile.days_to_birthday",
        lazy("Days until birthday"),
        PROFILE,
        ValueType.INTEGER,
        _build_birthday,
        operators=("eq", "ne", "lt", "lte", "gt", "gte", "between", "empty", "not_empty"),
        unit=lazy("days"),
        limit=MAX_DAYS,
    )
)


def _build_days_since_registration(condition: Condition, context: CompileContext) -> ColumnElement[bool]:
    return days_since(Customer.registered_at, DAYS_SINCE_REGISTRATION, condition, context)


def days_since(
    column: Any, metric: Metric, condition: Condition, context: CompileContext
) -> ColumnElement[bool]:
    """Whole days since a timestamp (0 = today in the project time zone), as bounds on the column."""
    if condition.operator in ("empty", "not_empty"):
        return compare(column, metric, condition, context)
    value = condition_values(metric, condition)

    def since(days: int) -> Any:  # the first instant of the day `days` ago
        return context.day_start(context.today - timedelta(days=days))

    operator = condition.operator
    if operator == "between":
        low, high = sorted(value)
        return and_(column >= since(high), column < since(low - 1))
    if operator == "gte":
        return column < since(value - 1)
    if operator == "gt":
        return column < since(value)
    if operator == "lte":
        return column >= since(value)
    if operator == "lt":
        return column >= since(value - 1)
    on_that_day = and_(column >= since(value), column < since(value - 1))
    if operator == "eq":
        return on_that_day
    if operator == "ne":
        return and_(column.is_not(None), not_(on_that_day))
    raise MetricError(f"operator {operator!r} does not apply to {metric.key}")


DAYS_SINCE_REGISTRATION = registry.register(
    Metric(
        "profile.days_since_registration",
        lazy("Days since registration"),
        PROFILE,
        ValueType.INTEGER,
        _build_days_since_registration,
        unit=lazy("days"),
        limit=MAX_DAYS,
    )
)


# ---------------------------------------------------------------- custom fields (resolved from definitions)

CUSTOM_TYPES = {
    "string": ValueType.STRING,
    "integer": ValueType.NUMBER,
    "decimal": ValueType.NUMBER,
    "boolean": ValueType.BOOLEAN,
    "date": ValueType.DATE,
    "datetime": ValueType.DATETIME,
}


TEXT_TEMPORAL = {ValueType.DATE, ValueType.DATETIME}


def custom_field_metric(key: str, context: CompileContext) -> Metric | None:
    if not key.startswith("custom."):
        return None
    code = key.removeprefix("custom.")
    field_type = context.custom_types.get(code)
    if field_type is None:
        return None
    value_type = CUSTOM_TYPES[field_type]
    element = Customer.custom[code]
    expression: Any = {
        ValueType.NUMBER: cast(element.as_string(), Float),
        ValueType.BOOLEAN: element.as_boolean(),
    }.get(value_type, element.as_string())

    def build(condition: Condition, ctx: CompileContext) -> ColumnElement[bool]:
        return compare(expression, metric, condition, ctx)

    metric = Metric(key, lazy(code), CUSTOM, value_type, build, text_bounds=value_type in TEXT_TEMPORAL)
    return metric


registry.register_dynamic(custom_field_metric)
