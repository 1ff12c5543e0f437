"""Date triggers, looked at on schedule at the launch hour of the project's time zone.

- Date has come: a fixed day and hour.
- Anniversary: every N years, months or days after a customer's birthday, registration, first or last order
  (the receipts' first or last purchase while the orders module is off), moved by an offset of ±N days.
- Days since registration / receipt / order: the registration, the last purchase, the last order was exactly
  N days ago.
- Date come for client / order / cheque: a date field of the customer, the order or the receipt (plus an
  offset) is today; for a customer's field optionally every year.
- Repeat date: every day, on chosen weekdays, or on a day of each month.
- Bonus expected expiration: the customer's bonuses expiring within N days compare with an amount.

Whom a date trigger enters: every customer, or the members of a segment when one is chosen. The occurrence
names the day (the anniversary's own date for an anniversary, the order or receipt for theirs), so looking
at the same moment twice enters nobody twice, and each year's anniversary is a new entry.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from pydantic import Field, StringConstraints, model_validator
from sqlalchemy import ColumnElement, Select, exists, func, literal, select
from sqlalchemy.orm import Session, aliased

from smartcomm.campaigns.nodes import register
from smartcomm.campaigns.triggers.base import Trigger, Window
from smartcomm.campaigns.triggers.schedule import (
    RECURRENCES,
    Audience,
    Daily,
    DailyTrigger,
    customers_of,
    day_bounds,
    in_audience,
    json_object,
    local_day,
    local_text_day,
    money_text,
    occurrence,
    on_day,
    segment_problem,
    text_day,
    text_of,
    yearly,
)
from smartcomm.fields.repository import FieldRepository
from smartcomm.kit.i18n import lazy
from smartcomm.loyalty.repository import expiring_bonuses
from smartcomm.models import Customer, Order, Receipt
from smartcomm.models.receipts import PURCHASE_STATUSES
from smartcomm.settings.schemas import GeneralSettings
from smartcomm.settings.service import settings_service

Offset = Annotated[int, Field(ge=-366, le=366)]
FieldName = Annotated[str, StringConstraints(pattern=r"^[a-z_]+(\.[A-Za-z0-9_-]{1,64})?$", max_length=80)]
DATE_TYPES = ("date", "datetime")
FIELD_HINT = lazy("birth_date, registered_at or custom.<code> of a date field")


class DateSettings(Audience):
    date: date
    hour: Annotated[int, Field(ge=0, le=23)] = 0


@register
class DateHasCome(Trigger):
    name = "trigger.date_has_come"
    family = "dates"
    label = lazy("Date has come")
    description = lazy("On a chosen day, at a chosen hour: every customer or a segment's members")
    icon = "ti-calendar-event"
    settings_model = DateSettings
    scheduled = True

    def check(self, settings: Any, context: Any) -> list[tuple[str, str]]:
        return segment_problem(context.session, settings.segment_id)

    def _moment(self, settings: Any, zone: ZoneInfo) -> datetime:
        return datetime.combine(settings.date, time(settings.hour), tzinfo=zone)

    def next_check(self, settings: Any, after: datetime, zone: ZoneInfo) -> datetime | None:
        moment = self._moment(settings, zone)
        return moment if moment > after else None

    def selection(self, session: Session, settings: Any, window: Window) -> Select[Any] | None:
        moment = self._moment(settings, window.zone)
        if not window.start < moment <= window.end:
            return None
        chosen = customers_of(settings.segment_id).subquery()
        return select(chosen.c.customer_id, literal(f"date:{settings.date.isoformat()}").label("occurrence"))


# --- date fields as SQL --------------------------------------------------------------------------------


@dataclass(frozen=True)
class DayField:
    """A date field as SQL: the local day it holds, and a test for one given day (on the column's own
    bounds where it is a stored time, so its index serves)."""

    day: Any
    on: Callable[[date], ColumnElement[bool]]


BIRTH_DATE = DayField(Customer.birth_date, lambda day: Customer.birth_date == day)


def stored_time(column: Any, zone: ZoneInfo) -> DayField:
    return DayField(local_day(column, zone), lambda day: on_day(column, day, zone))


def custom_day(values: Any, code: str, field_type: str | None, zone: ZoneInfo) -> DayField | None:
    """A custom field kept in a row's JSON: a date as YYYY-MM-DD, a date and time as ISO 8601 UTC."""
    text = values[code].as_string()
    if field_type == "date":
        return DayField(text_day(text), lambda day: text == day.isoformat())
    if field_type == "datetime":
        moment = local_text_day(text, zone)
        return DayField(moment, lambda day: moment == day)
    return None


def customer_field(session: Session, name: str, zone: ZoneInfo) -> DayField | None:
    if name == "birth_date":
        return BIRTH_DATE
    if name == "registered_at":
        return stored_time(Customer.registered_at, zone)
    return _custom(session, "customer", Customer.custom, name, zone)


def receipt_field(session: Session, name: str, zone: ZoneInfo) -> DayField | None:
    if name == "purchased_at":
        return stored_time(Receipt.purchased_at, zone)
    return _custom(session, "receipt", Receipt.custom, name, zone)


def _custom(session: Session, obj: str, values: Any, name: str, zone: ZoneInfo) -> DayField | None:
    if not name.startswith("custom."):
        return None
    code = name.removeprefix("custom.")
    return custom_day(values, code, FieldRepository(session).custom_types(obj).get(code), zone)


def field_problem(session: Session, obj: str, name: str, builtin: tuple[str, ...]) -> list[tuple[str, str]]:
    if name in builtin:
        return []
    field_type = FieldRepository(session).custom_types(obj).get(name.removeprefix("custom."))
    if name.startswith("custom.") and field_type in DATE_TYPES:
        return []
    return [("field", str(lazy("Choose a date field")))]


def orders_on(session: Session) -> bool:
    return settings_service.read(session, GeneralSettings).orders_enabled


# --- anniversary ---------------------------------------------------------------------------------------


class AnniversarySettings(Daily):
    base: Annotated[
        Literal["birthday", "registration", "first_order", "last_order"], Field(title=lazy("Base date"))
    ] = "birthday"
    every: Annotated[int, Field(ge=1, le=1000, title=lazy("Every"))] = 1
    unit: Literal["years", "months", "days"] = "years"
    offset_days: Offset = 0


@register
class Anniversary(DailyTrigger):
    name = "trigger.anniversary"
    label = lazy("Anniversary")
    description = lazy(
        "Every N years, months or days after the birthday, registration, first or last order (± days)"
    )
    icon = "ti-cake"
    settings_model = AnniversarySettings

    def on(self, session: Session, settings: Any, day: date, zone: ZoneInfo) -> Select[Any] | None:
        anniversary = day - timedelta(days=settings.offset_days)  # −15: fifteen days before it
        customer_id, base = self._base(session, settings.base, zone)
        matches = RECURRENCES[settings.unit](base.day, anniversary, settings.every)
        return select(customer_id.label("customer_id"), occurrence("anniversary", anniversary)).where(
            matches, in_audience(customer_id, settings.segment_id)
        )

    def _base(self, session: Session, base: str, zone: ZoneInfo) -> tuple[Any, DayField]:
        if base == "birthday":
            return Customer.id, BIRTH_DATE
        if base == "registration":
            return Customer.id, stored_time(Customer.registered_at, zone)
        first = base == "first_order"
        if orders_on(session):
            edge = (func.min if first else func.max)(Order.created_at)
            orders = (
                select(Order.customer_id, edge.label("at"))
                .where(Order.in_analytics)
                .group_by(Order.customer_id)
            )
            found = orders.subquery("orders")
            return found.c.customer_id, stored_time(found.c.at, zone)
        purchase = Customer.first_purchase_at if first else Customer.last_purchase_at
        return Customer.id, stored_time(purchase, zone)


# --- days since ----------------------------------------------------------------------------------------


class DaysSinceSettings(Daily):
    days: Annotated[int, Field(ge=0, le=3650)] = 30


class DaysSince(DailyTrigger):
    settings_model = DaysSinceSettings
    icon = "ti-calendar-time"

    def on(self, session: Session, settings: Any, day: date, zone: ZoneInfo) -> Select[Any] | None:
        customer_id, condition = self.happened(day - timedelta(days=settings.days), zone)
        return (
            select(customer_id.label("customer_id"), occurrence("days_since", day))
            .where(condition, in_audience(customer_id, settings.segment_id))
            .group_by(customer_id)
        )

    def happened(self, day: date, zone: ZoneInfo) -> tuple[Any, ColumnElement[bool]]:
        """The customer column, and the condition that the last such thing happened on the local day."""
        raise NotImplementedError


@register
class DaysSinceRegistration(DaysSince):
    name = "trigger.days_since_registration"
    label = lazy("Days since registration")
    description = lazy("The customer registered exactly N days ago")

    def happened(self, day: date, zone: ZoneInfo) -> tuple[Any, ColumnElement[bool]]:
        return Customer.id, on_day(Customer.registered_at, day, zone)


@register
class DaysSinceReceipt(DaysSince):
    name = "trigger.days_since_receipt"
    label = lazy("Days since receipt")
    description = lazy("The customer's last purchase was exactly N days ago")

    def happened(self, day: date, zone: ZoneInfo) -> tuple[Any, ColumnElement[bool]]:
        return Customer.id, on_day(Customer.last_purchase_at, day, zone)


@register
class DaysSinceOrder(DaysSince):
    name = "trigger.days_since_order"
    label = lazy("Days since order")
    description = lazy("The customer's last order was exactly N days ago")
    needs = "orders"

    def happened(self, day: date, zone: ZoneInfo) -> tuple[Any, ColumnElement[bool]]:
        later = aliased(Order)
        _, end = day_bounds(day, zone)
        ordered_later = exists().where(
            later.customer_id == Order.customer_id, later.in_analytics, later.created_at >= end
        )
        return Order.customer_id, on_day(Order.created_at, day, zone) & Order.in_analytics & ~ordered_later


# --- date come for client / order / cheque -------------------------------------------------------------


class ClientDateSettings(Daily):
    field: Annotated[FieldName, Field(title=lazy("Date field"), description=FIELD_HINT)] = "birth_date"
    every_year: Annotated[bool, Field(title=lazy("Every year"))] = False
    offset_days: Offset = 0


@register
class DateComeForClient(DailyTrigger):
    name = "trigger.date_come_for_client"
    label = lazy("Date come for client")
    description = lazy("A date field of the customer (± days) is today; optionally every year")
    icon = "ti-user-check"
    settings_model = ClientDateSettings

    def check(self, settings: Any, context: Any) -> list[tuple[str, str]]:
        found = field_problem(context.session, "customer", settings.field, ("birth_date", "registered_at"))
        return found + segment_problem(context.session, settings.segment_id)

    def on(self, session: Session, settings: Any, day: date, zone: ZoneInfo) -> Select[Any] | None:
        field = customer_field(session, settings.field, zone)
        if field is None:
            return None
        target = day - timedelta(days=settings.offset_days)
        matches = yearly(field.day, target, first=0) if settings.every_year else field.on(target)
        return select(Customer.id.label("customer_id"), occurrence("client_date", target)).where(
            matches, in_audience(Customer.id, settings.segment_id)
        )


class OrderDateSettings(Daily):
    field: Annotated[Literal["created_at", "delivery_at"], Field(title=lazy("Date of the order"))] = (
        "delivery_at"
    )
    offset_days: Offset = 0


@register
class DateComeForOrder(DailyTrigger):
    name = "trigger.date_come_for_order"
    label = lazy("Date come for order")
    description = lazy("A date of the customer's order (placed, delivery) ± days is today")
    icon = "ti-truck-delivery"
    settings_model = OrderDateSettings
    needs = "orders"
    several_rows = True

    def on(self, session: Session, settings: Any, day: date, zone: ZoneInfo) -> Select[Any] | None:
        target = day - timedelta(days=settings.offset_days)
        column = getattr(Order, settings.field)
        return select(
            Order.customer_id.label("customer_id"),
            (literal("order:") + text_of(Order.id)).label("occurrence"),
            json_object(order_id=Order.id, order_number=Order.number).label("context"),
        ).where(
            on_day(column, target, zone),
            Order.in_analytics,
            in_audience(Order.customer_id, settings.segment_id),
        )


class ChequeDateSettings(Daily):
    field: Annotated[FieldName, Field(title=lazy("Date field"))] = "purchased_at"
    offset_days: Offset = 7


@register
class DateComeForCheque(DailyTrigger):
    name = "trigger.date_come_for_cheque"
    label = lazy("Date come for cheque")
    description = lazy("A date of the customer's receipt (the purchase, a custom date field) ± days is today")
    icon = "ti-receipt-2"
    settings_model = ChequeDateSettings
    several_rows = True

    def check(self, settings: Any, context: Any) -> list[tuple[str, str]]:
        found = field_problem(context.session, "receipt", settings.field, ("purchased_at",))
        return found + segment_problem(context.session, settings.segment_id)

    def on(self, session: Session, settings: Any, day: date, zone: ZoneInfo) -> Select[Any] | None:
        field = receipt_field(session, settings.field, zone)
        if field is None:
            return None
        target = day - timedelta(days=settings.offset_days)
        return select(
            Receipt.customer_id.label("customer_id"),
            (literal("receipt:") + text_of(Receipt.id)).label("occurrence"),
            json_object(receipt_id=Receipt.id, receipt_number=Receipt.number).label("context"),
        ).where(
            field.on(target),
            Receipt.status.in_(PURCHASE_STATUSES),
            in_audience(Receipt.customer_id, settings.segment_id),
        )


# --- repeat date ---------------------------------------------------------------------------------------


class RepeatSettings(Daily):
    frequency: Annotated[Literal["daily", "weekly", "monthly"], Field(title=lazy("Repeat"))] = "daily"
    weekdays: Annotated[
        list[Annotated[int, Field(ge=1, le=7)]],
        Field(max_length=7, title=lazy("Weekdays"), description=lazy("1 Monday … 7 Sunday")),
    ] = Field(default_factory=list)
    day_of_month: Annotated[int, Field(ge=1, le=31, title=lazy("Day of the month"))] = 1

    @model_validator(mode="after")
    def _weekdays_for_weekly(self) -> RepeatSettings:
        if self.frequency == "weekly" and not self.weekdays:
            raise ValueError("choose the weekdays")
        return self


@register
class RepeatDate(DailyTrigger):
    name = "trigger.repeat_date"
    label = lazy("Repeat date")
    description = lazy("Every day, on chosen weekdays or on a day of each month, at the launch hour")
    icon = "ti-repeat"
    settings_model = RepeatSettings

    def runs_on(self, settings: Any, day: date) -> bool:
        if settings.frequency == "weekly":
            return bool(day.isoweekday() in settings.weekdays)
        if settings.frequency == "monthly":  # the 31st is the month's last day in a shorter month
            last = ((day.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)).day
            return day.day == min(int(settings.day_of_month), last)
        return True

    def on(self, session: Session, settings: Any, day: date, zone: ZoneInfo) -> Select[Any] | None:
        chosen = customers_of(settings.segment_id).subquery()
        return select(chosen.c.customer_id, occurrence("repeat", day))


# --- bonuses -------------------------------------------------------------------------------------------


class BonusSettings(Daily):
    comparator: Annotated[Literal[">", ">=", "<", "<=", "="], Field(title=lazy("Comparison"))] = ">="
    amount: Annotated[Decimal, Field(ge=0, max_digits=14, decimal_places=2, title=lazy("Bonus amount"))] = (
        Decimal("500")
    )
    within_days: Annotated[int, Field(ge=0, le=365, title=lazy("Expiring within, days"))] = 7


@register
class BonusExpiration(DailyTrigger):
    name = "trigger.bonus_expiration"
    label = lazy("Bonus expected expiration")
    description = lazy("The customer's bonuses expiring within N days compare with an amount")
    icon = "ti-coin-off"
    settings_model = BonusSettings
    needs = "loyalty"

    def on(self, session: Session, settings: Any, day: date, zone: ZoneInfo) -> Select[Any] | None:
        last = day + timedelta(days=settings.within_days)
        found = expiring_bonuses(session, last, settings.comparator, settings.amount, not_before=day)
        rows = found.subquery("expiring")
        customer_id, amount, expires_on = rows.c  # one occurrence per expiry day: told once about it
        return select(
            customer_id.label("customer_id"),
            (literal("bonuses:") + text_of(expires_on)).label("occurrence"),
            json_object(bonus_amount=money_text(amount), expires_on=text_of(expires_on)).label("context"),
        ).where(in_audience(customer_id, settings.segment_id))
