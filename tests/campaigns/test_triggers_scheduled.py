"""Date triggers: the right customers enter at the launch hour of the project's time zone, once per
occurrence; anniversaries keep to the calendar (29 February, month ends, offsets, recurrences)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from smartcomm.campaigns import engine, nodes
from smartcomm.campaigns.service import campaign_service
from smartcomm.campaigns.triggers.base import Trigger, Window
from smartcomm.models import (
    BonusExpiration,
    Campaign,
    Customer,
    FieldDefinition,
    Journey,
    Order,
    Receipt,
    Segment,
    SegmentMembership,
    Store,
    WebEvent,
)
from tests.campaigns.helpers import edge, graph, journeys, node
from tests.campaigns.scheduled import (
    MOSCOW,
    campaign_at,
    contexts,
    entered,
    look,
    selected,
    switch_orders,
    use_zone,
    utc,
)
from tests.delivery.helpers import make_customer

ACTIVATED = utc(2026, 12, 5, 12)  # a Saturday; the next local day is Sunday 6 December 2026


def launch_window(day: date, zone: str = MOSCOW, hour: int = 0) -> tuple[datetime, datetime]:
    """A look's window that holds the day's launch (just after it)."""
    moment = datetime(day.year, day.month, day.day, hour, tzinfo=ZoneInfo(zone))
    return moment - timedelta(hours=12), moment + timedelta(minutes=1)


def on(session: Session, kind: str, day: date, zone: str = MOSCOW, **settings: Any) -> set[tuple[int, str]]:
    return selected(session, kind, *launch_window(day, zone, settings.get("hour", 0)), zone, **settings)


def ids(found: set[tuple[int, str]]) -> set[int]:
    return {customer_id for customer_id, _ in found}


def finish_journeys(moment: datetime) -> None:
    """Let the journeys' one-day wait end, so that they no longer keep their customers out."""
    with time_machine.travel(moment, tick=False):
        engine.advance()


# --- the launch hour and the time zone -----------------------------------------------------------------


@pytest.mark.parametrize(("zone", "midnight"), [(MOSCOW, utc(2026, 12, 5, 21)), ("UTC", utc(2026, 12, 6))])
def test_a_birthday_enters_at_midnight_of_the_project_zone_once(
    session: Session, zone: str, midnight: datetime
) -> None:
    use_zone(session, zone)
    birthday = make_customer(session, birth_date=date(1990, 12, 6))
    make_customer(session, birth_date=date(1990, 12, 5))
    make_customer(session, birth_date=date(1990, 12, 7))
    make_customer(session, birth_date=None)
    campaign = campaign_at(session, ACTIVATED, "trigger.anniversary", base="birthday")

    assert look(midnight - timedelta(minutes=1)) == 0
    assert entered(session, campaign) == []
    assert look(midnight + timedelta(minutes=1)) == 1
    assert entered(session, campaign) == [(birthday.id, "anniversary:2026-12-06")]

    finish_journeys(midnight + timedelta(days=2))
    assert look_again(session, campaign, ACTIVATED, midnight + timedelta(minutes=1)) == 0
    assert len(journeys(session, campaign)) == 1


def look_again(
    session: Session, campaign: Campaign, start: datetime, end: datetime, kind: str = "trigger.anniversary"
) -> int:
    """The same window looked at once more (a worker that repeats a look)."""
    version = campaign_service.editable_version(session, campaign)
    trigger = nodes.kind(kind)
    assert isinstance(trigger, Trigger)
    settings = engine.graph_of(version).settings["t"]
    entered_now = engine.enter_window(
        session, campaign, trigger, settings, Window(start, end, engine.project_zone(session))
    )
    session.commit()
    return entered_now


def test_the_launch_hour_moves_the_look(session: Session) -> None:
    use_zone(session, MOSCOW)
    birthday = make_customer(session, birth_date=date(1990, 12, 6))
    campaign = campaign_at(session, ACTIVATED, "trigger.anniversary", hour=10)

    assert look(utc(2026, 12, 6, 6, 59)) == 0  # 09:59 in Moscow
    assert look(utc(2026, 12, 6, 7, 0)) == 1
    assert entered(session, campaign) == [(birthday.id, "anniversary:2026-12-06")]
    assert campaign_next_check(session, campaign) == utc(2026, 12, 7, 7)


def campaign_next_check(session: Session, campaign: Campaign) -> datetime | None:
    return session.scalar(
        select(Campaign.next_check_at)
        .where(Campaign.id == campaign.id)
        .execution_options(populate_existing=True)
    )


def test_a_segment_narrows_a_date_trigger_to_its_members(session: Session) -> None:
    member, other = (make_customer(session, birth_date=date(1990, 12, 6)) for _ in range(2))
    segment = Segment(name="VIP", rules={})
    session.add(segment)
    session.flush()
    session.add(SegmentMembership(segment_id=segment.id, customer_id=member.id))
    session.add(SegmentMembership(segment_id=segment.id, customer_id=other.id, exited_at=ACTIVATED))
    session.flush()

    found = on(session, "trigger.anniversary", date(2026, 12, 6), segment_id=segment.id)

    assert found == {(member.id, "anniversary:2026-12-06")}


# --- anniversaries -------------------------------------------------------------------------------------


def test_29_february_birthdays_come_on_28_february_in_other_years(session: Session) -> None:
    leap = make_customer(session, birth_date=date(2000, 2, 29))
    late_february = make_customer(session, birth_date=date(1999, 2, 28))
    march = make_customer(session, birth_date=date(1999, 3, 1))

    assert ids(on(session, "trigger.anniversary", date(2027, 2, 28))) == {leap.id, late_february.id}
    assert ids(on(session, "trigger.anniversary", date(2027, 3, 1))) == {march.id}
    assert ids(on(session, "trigger.anniversary", date(2028, 2, 28))) == {late_february.id}
    assert ids(on(session, "trigger.anniversary", date(2028, 2, 29))) == {leap.id}


def test_an_offset_moves_the_day_and_the_occurrence_names_the_anniversary(session: Session) -> None:
    even = make_customer(session, birth_date=date(1990, 12, 21))
    make_customer(session, birth_date=date(1991, 12, 21))  # 35 years on 21 December 2026: not every 2nd

    found = on(session, "trigger.anniversary", date(2026, 12, 6), every=2, offset_days=-15)

    assert found == {(even.id, "anniversary:2026-12-21")}


def test_monthly_anniversaries_of_the_31st_come_on_the_last_day_of_shorter_months(session: Session) -> None:
    the_31st = make_customer(session, registered_at=utc(2026, 1, 31, 10)).id
    the_30th = make_customer(session, registered_at=utc(2026, 1, 30, 10)).id
    monthly = {"base": "registration", "unit": "months"}
    expected = {
        date(2026, 1, 31): set(),  # the day itself is no anniversary
        date(2026, 2, 28): {the_31st, the_30th},
        date(2026, 3, 30): {the_30th},
        date(2026, 3, 31): {the_31st},
        date(2026, 4, 30): {the_31st, the_30th},
        date(2026, 5, 31): {the_31st},
    }

    found = {day: ids(on(session, "trigger.anniversary", day, **monthly)) for day in expected}

    assert found == expected


def test_recurrence_in_days_counts_from_the_base_day(session: Session) -> None:
    customer = make_customer(session, registered_at=utc(2026, 1, 31, 10))
    every_ten = {"base": "registration", "unit": "days", "every": 10}

    assert ids(on(session, "trigger.anniversary", date(2026, 2, 10), **every_ten)) == {customer.id}
    assert ids(on(session, "trigger.anniversary", date(2026, 3, 2), **every_ten)) == {customer.id}
    assert on(session, "trigger.anniversary", date(2026, 2, 11), **every_ten) == set()


def test_a_registration_counts_on_the_day_of_the_project_zone(session: Session) -> None:
    late = make_customer(session, registered_at=utc(2025, 12, 5, 22, 30))  # 01:30 on 6 December in Moscow
    registration = {"base": "registration"}

    assert ids(on(session, "trigger.anniversary", date(2026, 12, 6), MOSCOW, **registration)) == {late.id}
    assert on(session, "trigger.anniversary", date(2026, 12, 5), MOSCOW, **registration) == set()
    assert ids(on(session, "trigger.anniversary", date(2026, 12, 5), "UTC", **registration)) == {late.id}


def test_first_and_last_order_come_from_receipts_while_orders_are_off(session: Session) -> None:
    switch_orders(session, False)
    customer = make_customer(
        session, first_purchase_at=utc(2025, 12, 6, 9), last_purchase_at=utc(2026, 6, 6, 9)
    )

    assert ids(on(session, "trigger.anniversary", date(2026, 12, 6), base="first_order")) == {customer.id}
    half_year = {"base": "last_order", "unit": "months", "every": 6}
    assert ids(on(session, "trigger.anniversary", date(2026, 12, 6), **half_year)) == {customer.id}


def test_first_and_last_order_come_from_orders_while_the_module_is_on(session: Session) -> None:
    switch_orders(session, True)
    customer = make_customer(session, first_purchase_at=utc(2020, 1, 1, 9))
    add_order(session, customer, utc(2025, 12, 6, 9))
    add_order(session, customer, utc(2026, 3, 6, 9))
    add_order(session, customer, utc(2026, 6, 6, 9), in_analytics=False)  # a cancelled one does not count

    assert ids(on(session, "trigger.anniversary", date(2026, 12, 6), base="first_order")) == {customer.id}
    quarter = {"base": "last_order", "unit": "months", "every": 3}
    assert ids(on(session, "trigger.anniversary", date(2026, 12, 6), **quarter)) == {customer.id}
    assert on(session, "trigger.anniversary", date(2026, 12, 6), base="last_order") == set()


# --- days since ----------------------------------------------------------------------------------------


def test_days_since_registration_takes_those_registered_exactly_n_local_days_ago(session: Session) -> None:
    last_minute = make_customer(session, registered_at=utc(2027, 2, 28, 20, 59))  # 23:59 in Moscow
    make_customer(session, registered_at=utc(2027, 2, 28, 21, 0))  # already 1 March in Moscow
    make_customer(session, registered_at=utc(2027, 2, 27, 20, 59))

    found = on(session, "trigger.days_since_registration", date(2027, 3, 1), days=1)

    assert found == {(last_minute.id, "days_since:2027-03-01")}


def test_days_since_receipt_reads_the_last_purchase(session: Session) -> None:
    month_ago = make_customer(session, last_purchase_at=utc(2026, 11, 6, 12))
    make_customer(session, last_purchase_at=utc(2026, 11, 7, 12))

    assert ids(on(session, "trigger.days_since_receipt", date(2026, 12, 6), days=30)) == {month_ago.id}


def test_days_since_order_ignores_customers_who_ordered_again(session: Session) -> None:
    switch_orders(session, True)
    quiet, back = make_customer(session), make_customer(session)
    for customer in (quiet, back):
        add_order(session, customer, utc(2026, 11, 26, 8))
        add_order(session, customer, utc(2026, 11, 26, 9))  # two orders that day: one entry
    add_order(session, back, utc(2026, 12, 1, 9))

    found = on(session, "trigger.days_since_order", date(2026, 12, 6), days=10)

    assert found == {(quiet.id, "days_since:2026-12-06")}


def test_days_since_order_needs_the_orders_module(session: Session) -> None:
    switch_orders(session, False)
    body = graph([node("t", "trigger.days_since_order", days=10), node("w", "action.wait")], [edge("t", "w")])

    problems = campaign_service.check(session, body)

    assert [error.field for error in problems.errors] == ["nodes.t"]


# --- dates of fields -----------------------------------------------------------------------------------


def test_date_come_for_client_reads_custom_date_fields_with_an_offset(session: Session) -> None:
    add_field(session, "customer", "contract_end", "date")
    add_field(session, "customer", "last_call", "datetime")
    ending = make_customer(session, custom={"contract_end": "2026-12-10"})
    make_customer(session, custom={"contract_end": "2026-12-11"})
    called = make_customer(session, custom={"last_call": "2026-12-05T22:00:00+00:00"})  # 6 Dec in Moscow

    before_end = on(session, "trigger.date_come_for_client", date(2026, 12, 6), field="custom.contract_end",
                    offset_days=-4)  # fmt: skip
    call_day = on(session, "trigger.date_come_for_client", date(2026, 12, 6), field="custom.last_call")

    assert before_end == {(ending.id, "client_date:2026-12-10")}
    assert call_day == {(called.id, "client_date:2026-12-06")}


def test_date_come_for_client_every_year_takes_the_day_and_month(session: Session) -> None:
    born = make_customer(session, birth_date=date(1990, 12, 6))
    registered = make_customer(session, registered_at=utc(2026, 12, 6, 9))  # the date itself counts too

    assert ids(on(session, "trigger.date_come_for_client", date(2026, 12, 6), every_year=True)) == {born.id}
    by_registration = on(session, "trigger.date_come_for_client", date(2026, 12, 6), field="registered_at")
    assert ids(by_registration) == {registered.id}
    assert on(session, "trigger.date_come_for_client", date(2026, 12, 6)) == set()  # 1990, not every year


def test_date_come_for_client_refuses_a_field_that_is_not_a_date(session: Session) -> None:
    add_field(session, "customer", "pet", "string")
    body = graph(
        [node("t", "trigger.date_come_for_client", field="custom.pet"), node("w", "action.wait")],
        [edge("t", "w")],
    )

    problems = campaign_service.check(session, body)

    assert [error.field for error in problems.errors] == ["nodes.t.settings.field"]


def test_date_come_for_order_enters_once_per_customer_with_the_order(session: Session) -> None:
    switch_orders(session, True)
    customer, other = make_customer(session), make_customer(session)
    first = add_order(session, customer, utc(2026, 12, 1, 9), delivery_at=utc(2026, 12, 7, 9))
    second = add_order(session, customer, utc(2026, 12, 2, 9), delivery_at=utc(2026, 12, 7, 15))
    add_order(session, other, utc(2026, 12, 1, 9), delivery_at=utc(2026, 12, 7, 9), in_analytics=False)
    campaign = campaign_at(session, ACTIVATED, "trigger.date_come_for_order", field="delivery_at",
                           offset_days=-1)  # fmt: skip

    assert look(utc(2026, 12, 5, 21, 1)) == 1  # midnight of 6 December in Moscow: the day before delivery

    [(customer_id, occurrence)] = entered(session, campaign)
    context = contexts(session, campaign)[customer.id]
    order = first if context["order_id"] == first.id else second
    assert (customer_id, occurrence) == (customer.id, f"order:{order.id}")
    assert context == {"order_id": order.id, "order_number": order.number}


def test_date_come_for_cheque_counts_days_after_the_purchase(session: Session) -> None:
    customer, returned = make_customer(session), make_customer(session)
    receipt = add_receipt(session, customer, utc(2026, 11, 29, 12))
    add_receipt(session, returned, utc(2026, 11, 29, 12), status="returned")
    add_receipt(session, customer, utc(2026, 11, 30, 12))

    found = on(session, "trigger.date_come_for_cheque", date(2026, 12, 6), offset_days=7)

    assert found == {(customer.id, f"receipt:{receipt.id}")}


# --- repeat date ---------------------------------------------------------------------------------------


def test_a_weekly_repeat_date_runs_on_its_weekdays_and_enters_again_each_run(session: Session) -> None:
    use_zone(session, "UTC")
    customer = make_customer(session)
    campaign = campaign_at(session, ACTIVATED, "trigger.repeat_date", frequency="weekly", weekdays=[1, 4],
                           hour=9)  # fmt: skip

    assert campaign_next_check(session, campaign) == utc(2026, 12, 7, 9)  # Monday
    look(utc(2026, 12, 7, 9, 1))
    assert campaign_next_check(session, campaign) == utc(2026, 12, 10, 9)  # Thursday
    finish_journeys(utc(2026, 12, 9))
    look(utc(2026, 12, 10, 9, 1))

    mine = [
        occurrence for customer_id, occurrence in entered(session, campaign) if customer_id == customer.id
    ]
    assert mine == ["repeat:2026-12-07", "repeat:2026-12-10"]


def test_a_monthly_repeat_on_the_31st_runs_on_the_last_day_of_shorter_months() -> None:
    trigger = nodes.kind("trigger.repeat_date")
    assert isinstance(trigger, Trigger)
    settings = trigger.parse({"frequency": "monthly", "day_of_month": 31})
    zone = ZoneInfo("UTC")

    assert trigger.next_check(settings, utc(2027, 2, 1), zone) == utc(2027, 2, 28)
    assert trigger.next_check(settings, utc(2027, 2, 28), zone) == utc(2027, 3, 31)
    assert trigger.next_check(settings, utc(2027, 3, 31), zone) == utc(2027, 4, 30)


def test_a_weekly_repeat_without_weekdays_is_refused(session: Session) -> None:
    body = graph(
        [node("t", "trigger.repeat_date", frequency="weekly"), node("w", "action.wait")], [edge("t", "w")]
    )

    problems = campaign_service.check(session, body)

    assert [error.field for error in problems.errors] == ["nodes.t.settings"]


# --- bonuses -------------------------------------------------------------------------------------------


def test_expiring_bonuses_enter_once_per_expiry_day(session: Session) -> None:
    use_zone(session, MOSCOW)
    rich, poor, later = make_customer(session), make_customer(session), make_customer(session)
    add_bonuses(session, rich, "600.00", date(2026, 12, 10))
    add_bonuses(session, poor, "300.00", date(2026, 12, 8))
    add_bonuses(session, later, "900.00", date(2026, 12, 20))
    campaign = campaign_at(session, ACTIVATED, "trigger.bonus_expiration", comparator=">=", amount="500",
                           within_days=7)  # fmt: skip

    assert look(utc(2026, 12, 5, 21, 1)) == 1
    finish_journeys(utc(2026, 12, 6, 22))
    assert look(utc(2026, 12, 6, 21, 1)) == 0  # the next day: the same bonuses, told already

    assert entered(session, campaign) == [(rich.id, "bonuses:2026-12-10")]
    assert contexts(session, campaign)[rich.id] == {"bonus_amount": "600.00", "expires_on": "2026-12-10"}


# --- looks that come late ------------------------------------------------------------------------------


def test_a_late_look_catches_up_the_last_days_each_customer_once(session: Session) -> None:
    first = make_customer(session, registered_at=utc(2026, 11, 3, 12))
    second = make_customer(session, registered_at=utc(2026, 11, 4, 12))
    long_ago = make_customer(session, registered_at=utc(2026, 10, 20, 12))
    thirty = {"days": 30}

    kind = "trigger.days_since_registration"
    two_days = selected(session, kind, utc(2026, 12, 2, 12), utc(2026, 12, 4, 12), **thirty)
    suspended = selected(session, kind, utc(2026, 11, 1), utc(2026, 12, 4, 12), **thirty)

    assert two_days == {(first.id, "days_since:2026-12-03"), (second.id, "days_since:2026-12-04")}
    assert long_ago.id not in ids(suspended)  # its day was weeks before the look: not replayed


def test_the_launches_follow_the_zone_across_daylight_saving(session: Session) -> None:
    trigger = nodes.kind("trigger.days_since_registration")
    assert isinstance(trigger, Trigger)
    settings = trigger.parse({"days": 1, "hour": 9})
    berlin = ZoneInfo("Europe/Berlin")

    assert trigger.next_check(settings, utc(2027, 3, 27, 8, 0), berlin) == utc(2027, 3, 28, 7, 0)
    assert trigger.next_check(settings, utc(2027, 3, 26, 7, 59), berlin) == utc(2027, 3, 26, 8, 0)


# --- data --------------------------------------------------------------------------------------------


def add_order(
    session: Session,
    customer: Customer,
    created_at: datetime,
    delivery_at: datetime | None = None,
    in_analytics: bool = True,
) -> Order:
    number = f"O-{customer.id}-{created_at:%m%d%H%M}"
    order = Order(
        number=number, customer_id=customer.id, created_at=created_at, total=Decimal("100.00"),
        delivery_at=delivery_at, in_analytics=in_analytics,
    )  # fmt: skip
    session.add(order)
    session.flush()
    return order


def add_receipt(
    session: Session, customer: Customer, purchased_at: datetime, status: str = "paid"
) -> Receipt:
    store = session.scalars(select(Store).where(Store.code == "dates")).first()
    if store is None:
        store = Store(code="dates", name="Dates")
        session.add(store)
        session.flush()
    receipt = Receipt(
        number=f"R-{customer.id}-{purchased_at:%m%d%H%M}", store_id=store.id, customer_id=customer.id,
        purchased_at=purchased_at, status=status, total=Decimal("100.00"), custom={},
    )  # fmt: skip
    session.add(receipt)
    session.flush()
    return receipt


def add_field(session: Session, obj: str, code: str, field_type: str) -> None:
    session.add(FieldDefinition(object=obj, code=code, name=code, type=field_type))
    session.flush()


def add_bonuses(session: Session, customer: Customer, amount: str, expires_on: date) -> None:
    session.add(BonusExpiration(customer_id=customer.id, amount=Decimal(amount), expires_on=expires_on))
    session.flush()


# --- every daily trigger: a window looked at twice -----------------------------------------------------

EVE = utc(2026, 12, 5, 9)  # the day before the launch at midnight of 6 December in Moscow
BORN = date(1990, 12, 6)
MATCHING: dict[str, tuple[dict[str, Any], Callable[[Session], Customer]]] = {
    "trigger.date_has_come": ({"date": "2026-12-06"}, lambda s: make_customer(s)),
    "trigger.anniversary": ({}, lambda s: make_customer(s, birth_date=BORN)),
    "trigger.days_since_registration": ({"days": 1}, lambda s: make_customer(s, registered_at=EVE)),
    "trigger.days_since_receipt": ({"days": 1}, lambda s: make_customer(s, last_purchase_at=EVE)),
    "trigger.days_since_order": ({"days": 1}, lambda s: with_order(s, EVE)),
    "trigger.date_come_for_client": ({"every_year": True}, lambda s: make_customer(s, birth_date=BORN)),
    "trigger.date_come_for_order": ({}, lambda s: with_order(s, EVE, EVE + timedelta(days=1))),
    "trigger.date_come_for_cheque": ({"offset_days": 1}, lambda s: with_receipt(s, EVE)),
    "trigger.repeat_date": ({}, lambda s: make_customer(s)),
    "trigger.bonus_expiration": ({"amount": "500"}, lambda s: with_bonuses(s, "600.00", date(2026, 12, 10))),
    "trigger.days_since_last_visit": ({"days": 1}, lambda s: with_visit(s, EVE)),
}  # fmt: skip


@pytest.mark.parametrize("kind", sorted(MATCHING))
def test_each_daily_trigger_enters_its_customer_once_per_window(session: Session, kind: str) -> None:
    use_zone(session, MOSCOW)
    switch_orders(session, True)
    settings, make = MATCHING[kind]
    customer = make(session)
    campaign = campaign_at(session, ACTIVATED, kind, **settings)

    assert look(utc(2026, 12, 5, 21, 1)) == 1
    session.execute(update(Journey).where(Journey.campaign_id == campaign.id).values(status="done"))
    session.commit()  # finished: only the occurrence can keep the customer out now

    assert look_again(session, campaign, ACTIVATED, utc(2026, 12, 5, 21, 1), kind) == 0
    assert [customer_id for customer_id, _ in entered(session, campaign)] == [customer.id]


def with_order(session: Session, created_at: datetime, delivery_at: datetime | None = None) -> Customer:
    customer = make_customer(session)
    add_order(session, customer, created_at, delivery_at)
    return customer


def with_receipt(session: Session, purchased_at: datetime) -> Customer:
    customer = make_customer(session)
    add_receipt(session, customer, purchased_at)
    return customer


def with_bonuses(session: Session, amount: str, expires_on: date) -> Customer:
    customer = make_customer(session)
    add_bonuses(session, customer, amount, expires_on)
    return customer


def with_visit(session: Session, moment: datetime) -> Customer:
    customer = make_customer(session)
    session.add(WebEvent(kind="visit", customer_id=customer.id, occurred_at=moment, snapshot={}, context={}))
    session.flush()
    return customer
