"""The meaning of operators and metrics at their edges (docs/segments.md), on hand-made data.

Every check runs the compiled SQL and the oracle and expects both to select exactly the customers named.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from smartcomm.audit.actor import Actor
from smartcomm.customers.schemas import CustomerIn
from smartcomm.customers.service import customer_service
from smartcomm.datasettings.fields import FieldCreate, field_settings
from smartcomm.events.schemas import EventIn
from smartcomm.events.service import event_service
from smartcomm.models import Customer
from smartcomm.receipts.schemas import ReceiptIn
from smartcomm.receipts.service import receipt_service
from smartcomm.segments.compiler import compile_rules
from smartcomm.segments.rules import SegmentRules
from smartcomm.segments.service import segment_service
from smartcomm.settings.schemas import GeneralSettings
from smartcomm.settings.service import settings_service
from tests.segments.oracle import Oracle

ACTOR = Actor.system("tests")
# 31 March 2027, 12:00 in Moscow; 2027 is not a leap year.
NOW = datetime(2027, 3, 31, 9, 0, tzinfo=UTC)


def people(session: Session, **profiles: dict[str, Any]) -> None:
    items = [CustomerIn(external_id=name, **fields) for name, fields in profiles.items()]
    customer_service.upsert_batch(session, ACTOR, items)


def buy(
    session: Session, who: str, at: str, total: str, status: str = "paid", number: str | None = None
) -> None:
    receipt = {
        "number": number or f"{who}-{at}-{total}",
        "store": "S1",
        "customer_external_id": who,
        "purchased_at": at,
        "status": status,
        "lines": [{"sku": "A", "price": total}],
    }
    receipt_service.write(session, ACTOR, [ReceiptIn.model_validate(receipt)])


def selected(session: Session, *conditions: dict[str, Any], now: datetime = NOW, **group: Any) -> set[str]:
    """External ids selected by a root group of `conditions`; the SQL and the oracle must agree."""
    rules = SegmentRules.model_validate({"root": {**group, "children": list(conditions)}})
    context = segment_service.context(session, now)
    names = {row.id: row.external_id for row in session.execute(select(Customer.id, Customer.external_id))}
    by_sql = {names[i] for i in session.scalars(compile_rules(rules, context))}
    by_oracle = {names[i] for i in Oracle.load(session, now, context.zone).matching(rules)}
    assert by_sql == by_oracle, f"SQL {sorted(by_sql)} but the document says {sorted(by_oracle)}"
    return by_sql


def where(metric: str, operator: str, value: Any = None, **params: Any) -> dict[str, Any]:
    condition = {"metric": metric, "operator": operator, "params": params}
    return condition if value is None else {**condition, "value": value}


def use_zone(session: Session, zone: str) -> None:
    settings_service.update(session, ACTOR, GeneralSettings, {"time_zone": zone})


def custom_fields(session: Session, **types: str) -> None:
    for code, kind in types.items():
        field_settings.create(session, ACTOR, FieldCreate(object="customer", code=code, name=code, type=kind))


# ---------------------------------------------------------------- text


@pytest.fixture
def cities(session: Session) -> None:
    people(
        session,
        upper={"city": "МОСКВА"},
        lower={"city": "москва"},
        latin={"city": "Moscow"},
        wild={"city": "100% Moscow_City"},
        none={},
    )


def test_text_comparisons_ignore_case_in_any_script(session: Session, cities: None) -> None:
    assert selected(session, where("profile.city", "eq", "Москва")) == {"upper", "lower"}
    assert selected(session, where("profile.city", "in", ["москва", "MOSCOW"])) == {"upper", "lower", "latin"}
    assert selected(session, where("profile.city", "starts_with", "мос")) == {"upper", "lower"}
    assert selected(session, where("profile.city", "contains", "OSC")) == {"latin", "wild"}


def test_like_wildcards_in_values_are_plain_characters(session: Session, cities: None) -> None:
    assert selected(session, where("profile.city", "contains", "%")) == {"wild"}
    assert selected(session, where("profile.city", "contains", "w_c")) == {"wild"}
    assert selected(session, where("profile.city", "starts_with", "_")) == set()


def test_unknown_text_matches_only_empty_and_not_contains(session: Session, cities: None) -> None:
    assert selected(session, where("profile.city", "ne", "Moscow")) == {"upper", "lower", "wild"}
    assert selected(session, where("profile.city", "not_in", ["москва"])) == {"latin", "wild"}
    assert selected(session, where("profile.city", "not_contains", "moscow")) == {"upper", "lower", "none"}
    assert selected(session, where("profile.city", "empty")) == {"none"}
    assert selected(session, where("profile.city", "not_empty")) == {"upper", "lower", "latin", "wild"}


def test_negation_selects_the_customers_without_a_value_too(session: Session, cities: None) -> None:
    moscow = {**where("profile.city", "eq", "Moscow"), "negate": True}
    assert selected(session, moscow) == {"upper", "lower", "wild", "none"}
    in_russian = where("profile.city", "in", ["москва"])
    assert selected(session, in_russian, negate=True) == {"latin", "wild", "none"}
    assert selected(session, negate=True) == set()  # an empty group is everyone; negated, no one


# ---------------------------------------------------------------- numbers and money


@pytest.fixture
def spenders(session: Session) -> None:
    people(session, exact={}, above={}, below={}, returned={}, never={})
    buy(session, "exact", "2027-03-01T10:00:00+03:00", "100.00")
    buy(session, "above", "2027-03-01T10:00:00+03:00", "100.01")
    buy(session, "below", "2027-03-01T10:00:00+03:00", "99.99")
    buy(session, "returned", "2027-03-01T10:00:00+03:00", "100.00", status="returned")


def test_money_compares_to_the_kopeck(session: Session, spenders: None) -> None:
    amount = "purchases.amount"
    assert selected(session, where(amount, "eq", "100.00")) == {"exact"}
    assert selected(session, where(amount, "gt", "100.00")) == {"above"}
    assert selected(session, where(amount, "gte", "100")) == {"exact", "above"}
    assert selected(session, where(amount, "lte", "99.99")) == {"below", "returned", "never"}
    assert selected(session, where(amount, "between", ["100.01", "99.99"])) == {"exact", "above", "below"}


def test_counts_and_sums_are_zero_without_rows(session: Session, spenders: None) -> None:
    # A returned receipt is not a purchase: that customer has bought nothing.
    recent = {"period": {"kind": "last", "n": 90, "unit": "days"}}
    assert selected(session, where("purchases.count", "lt", 1, **recent)) == {"returned", "never"}
    assert selected(session, where("purchases.count", "lt", 1)) == {"returned", "never"}
    assert selected(session, where("purchases.amount", "ne", "100.00")) == {
        "above",
        "below",
        "returned",
        "never",
    }
    assert selected(session, where("purchases.count", "empty")) == set()
    assert selected(session, where("events.count", "eq", 0, event="called")) == {
        "exact",
        "above",
        "below",
        "returned",
        "never",
    }


def test_averages_and_dates_have_no_value_without_rows(session: Session, spenders: None) -> None:
    assert selected(session, where("purchases.average", "lt", "500")) == {"exact", "above", "below"}
    recent = {"period": {"kind": "last", "n": 90, "unit": "days"}}
    assert selected(session, where("purchases.average", "lt", "500", **recent)) == {"exact", "above", "below"}
    assert selected(session, where("purchases.average", "empty")) == {"returned", "never"}
    assert selected(session, where("purchases.first_date", "empty", **recent)) == {"returned", "never"}
    assert selected(session, where("purchases.days_since_last", "gte", 0)) == {"exact", "above", "below"}


def test_the_average_receipt_rounds_half_away_from_zero(session: Session) -> None:
    people(session, half={}, third={})
    buy(session, "half", "2027-03-10T10:00:00+03:00", "100.00")
    buy(session, "half", "2027-03-11T10:00:00+03:00", "100.01")  # 100.005 → 100.01
    for number in range(3):
        buy(session, "third", f"2027-03-1{number}T10:00:00+03:00", "0.01" if number else "0.02")  # 0.0133…
    for refinement in ({}, {"period": {"kind": "last", "n": 30, "unit": "days"}}, {"store": "S1"}):
        assert selected(session, where("purchases.average", "eq", "100.01", **refinement)) == {"half"}
        assert selected(session, where("purchases.average", "eq", "0.01", **refinement)) == {"third"}


# ---------------------------------------------------------------- dates and time zones


def test_date_operators_at_their_edges(session: Session) -> None:
    custom_fields(session, visit="date")
    people(
        session,
        yesterday={"custom": {"visit": "2027-03-30"}},
        today={"custom": {"visit": "2027-03-31"}},
        tomorrow={"custom": {"visit": "2027-04-01"}},
        none={},
    )
    visit = "custom.visit"
    assert selected(session, where(visit, "on", "2027-03-31")) == {"today"}
    assert selected(session, where(visit, "before", "2027-03-31")) == {"yesterday"}
    assert selected(session, where(visit, "after", "2027-03-31")) == {"tomorrow"}
    assert selected(session, where(visit, "between", ["2027-04-01", "2027-03-31"])) == {"today", "tomorrow"}
    assert selected(session, where(visit, "in_last", {"n": 1, "unit": "days"})) == {"today"}
    assert selected(session, where(visit, "in_last", {"n": 2, "unit": "days"})) == {"yesterday", "today"}
    assert selected(session, where(visit, "not_in_last", {"n": 1, "unit": "days"})) == {
        "yesterday",
        "tomorrow",
    }
    assert selected(session, where(visit, "empty")) == {"none"}


def test_a_late_utc_evening_is_the_next_day_in_moscow(session: Session) -> None:
    people(session, late={}, early={})
    buy(session, "late", "2027-03-30T22:30:00+00:00", "10.00")  # 01:30 on 31 March in Moscow
    buy(session, "early", "2027-03-30T20:59:59+00:00", "10.00")  # 23:59:59 on 30 March in Moscow
    today = {"period": {"kind": "last", "n": 1, "unit": "days"}}
    assert selected(session, where("purchases.count", "eq", 1, **today)) == {"late"}
    assert selected(session, where("purchases.last_date", "on", "2027-03-31")) == {"late"}
    assert selected(session, where("purchases.days_since_last", "eq", 1)) == {"early"}
    use_zone(session, "Asia/Vladivostok")  # UTC+10: both are on 31 March there
    assert selected(session, where("purchases.count", "eq", 1, **today)) == {"late", "early"}
    use_zone(session, "UTC")
    assert selected(session, where("purchases.last_date", "on", "2027-03-30")) == {"late", "early"}


def test_future_rows_are_not_in_the_last_days(session: Session) -> None:
    people(session, planned={}, today={})
    buy(session, "planned", "2027-04-01T09:00:00+03:00", "10.00")
    buy(session, "today", "2027-03-31T23:30:00+03:00", "10.00")  # later today: still today
    last_week = {"period": {"kind": "last", "n": 7, "unit": "days"}}
    assert selected(session, where("purchases.count", "gte", 1, **last_week)) == {"today"}
    assert selected(session, where("purchases.last_date", "in_last", {"n": 7})) == {"today"}
    assert selected(session, where("purchases.last_date", "not_in_last", {"n": 7})) == {"planned"}
    assert selected(session, where("purchases.count", "gte", 1)) == {"planned", "today"}


def test_the_last_month_on_31_march_starts_on_1_march(session: Session) -> None:
    custom_fields(session, visit="date")
    people(session, feb={"custom": {"visit": "2027-02-28"}}, mar={"custom": {"visit": "2027-03-01"}})
    buy(session, "feb", "2027-02-28T23:59:00+03:00", "10.00")
    buy(session, "mar", "2027-03-01T00:00:00+03:00", "10.00")
    last_month = {"period": {"kind": "last", "n": 1, "unit": "months"}}
    assert selected(session, where("purchases.count", "eq", 1, **last_month)) == {"mar"}
    assert selected(session, where("custom.visit", "in_last", {"n": 1, "unit": "months"})) == {"mar"}


def test_the_last_three_months_on_23_november_start_on_24_august(session: Session) -> None:
    people(session, aug23={}, aug24={})
    buy(session, "aug23", "2026-08-23T12:00:00+03:00", "10.00")
    buy(session, "aug24", "2026-08-24T00:00:00+03:00", "10.00")
    now = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    quarter = {"period": {"kind": "last", "n": 3, "unit": "months"}}
    assert selected(session, where("purchases.count", "eq", 1, **quarter), now=now) == {"aug24"}
    between = {"period": {"kind": "between", "start": "2026-08-23", "end": "2026-08-23"}}
    assert selected(session, where("purchases.count", "eq", 1, **between), now=now) == {"aug23"}


# ---------------------------------------------------------------- birthdays and age


@pytest.fixture
def birthdays(session: Session) -> None:
    people(
        session,
        leap={"birth_date": "2000-02-29"},
        feb28={"birth_date": "2000-02-28"},
        mar1={"birth_date": "2000-03-01"},
        unknown={},
    )


def test_29_february_birthdays_fall_on_28_february_in_other_years(session: Session, birthdays: None) -> None:
    feb28 = datetime(2027, 2, 28, 9, 0, tzinfo=UTC)
    assert selected(session, where("profile.days_to_birthday", "eq", 0), now=feb28) == {"leap", "feb28"}
    assert selected(session, where("profile.age", "eq", 27), now=feb28) == {"leap", "feb28"}
    assert selected(session, where("profile.age", "eq", 26), now=feb28) == {"mar1"}
    leap_feb28 = datetime(2028, 2, 28, 9, 0, tzinfo=UTC)
    assert selected(session, where("profile.days_to_birthday", "eq", 1), now=leap_feb28) == {"leap"}
    assert selected(session, where("profile.age", "eq", 27), now=leap_feb28) == {"leap", "mar1"}


def test_todays_birthday_is_0_days_away_not_a_year(session: Session, birthdays: None) -> None:
    mar1 = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
    assert selected(session, where("profile.days_to_birthday", "eq", 0), now=mar1) == {"mar1"}
    assert selected(session, where("profile.days_to_birthday", "gt", 364), now=mar1) == {
        "leap"
    }  # 29 Feb 2028
    assert selected(session, where("profile.days_to_birthday", "between", [363, 364]), now=mar1) == {"feb28"}
    assert selected(session, where("profile.days_to_birthday", "ne", 0), now=mar1) == {"leap", "feb28"}


# ---------------------------------------------------------------- custom fields and events


def test_custom_fields_of_every_type(session: Session) -> None:
    custom_fields(session, size="integer", score="decimal", vip="boolean", pet="string", seen="datetime")
    people(
        session,
        a={
            "custom": {
                "size": 9,
                "score": "12.50",
                "vip": True,
                "pet": "Барсик",
                "seen": "2027-03-30T22:30:00Z",
            }
        },
        b={
            "custom": {
                "size": 10,
                "score": "12.49",
                "vip": False,
                "pet": "rex",
                "seen": "2027-03-30T20:59:59Z",
            }
        },
        c={},
    )
    assert selected(session, where("custom.size", "lt", 10)) == {"a"}  # as numbers, not as text
    assert selected(session, where("custom.score", "eq", 12.5)) == {"a"}
    assert selected(session, where("custom.score", "between", ["12.49", "12.5"])) == {"a", "b"}
    assert selected(session, where("custom.vip", "is_true")) == {"a"}
    assert selected(session, where("custom.vip", "is_false")) == {"b", "c"}  # unknown counts as no
    assert selected(session, where("custom.pet", "eq", "БАРСИК")) == {"a"}
    assert selected(session, where("custom.seen", "on", "2027-03-31")) == {"a"}  # a Moscow day
    assert selected(session, {**where("custom.size", "gt", 9), "negate": True}) == {"a", "c"}


def test_event_context_matches_text_numbers_and_yes_no(session: Session) -> None:
    people(session, a={}, b={})
    events = [
        EventIn(
            name="called",
            customer_external_id="a",
            occurred_at=NOW,
            context={"topic": "Доставка", "first": True},
        ),
        EventIn(
            name="called",
            customer_external_id="b",
            occurred_at=NOW,
            context={"topic": "delivery", "score": 5},
        ),
    ]
    event_service.record(session, ACTOR, events)
    called = {"event": "called"}
    assert selected(
        session, where("events.count", "eq", 1, **called, context={"key": "topic", "value": "ДОСТАВКА"})
    ) == {"a"}
    assert selected(
        session, where("events.count", "eq", 1, **called, context={"key": "first", "value": "TRUE"})
    ) == {"a"}
    score = [{"key": "score", "value": "5"}, {"key": "topic", "value": "Delivery"}]
    assert selected(session, where("events.count", "gte", 1, **called, context=score)) == {"b"}
    assert selected(session, where("events.days_since_last", "eq", 0, **called)) == {"a", "b"}
