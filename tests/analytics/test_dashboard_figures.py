"""Every block of the Summary dashboard against figures worked out by hand (tests/analytics/fixtures.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy.orm import Session

from smartcomm.analytics.dashboard import (
    DashboardData,
    compute,
    dashboard_service,
    parse_period,
)
from smartcomm.analytics.global_control import report_between
from smartcomm.control_groups.service import global_control_service
from smartcomm.kit.errors import InvalidInput
from smartcomm.models import Customer
from tests.analytics.fixtures import NOW, base
from tests.attribution.helpers import make_receipt
from tests.control_groups.helpers import ACTOR, enable, make_base

ZONE = "Europe/Moscow"  # the default project time zone
TODAY = date(2026, 11, 20)


def figures(session: Session, key: str) -> DashboardData:
    base(session)
    return compute(session, parse_period(key, ZONE, TODAY))


def test_a_rolling_period_is_whole_calendar_months_up_to_today() -> None:
    period = parse_period("last-3", ZONE, TODAY)
    assert period.months == [date(2026, 9, 1), date(2026, 10, 1), date(2026, 11, 1)]
    assert period.start.isoformat() == "2026-08-31T21:00:00+00:00"  # midnight in Moscow
    assert period.end.isoformat() == "2026-11-20T21:00:00+00:00"  # the end of today


def test_a_custom_period_ends_with_its_last_month_or_today() -> None:
    assert parse_period("2026-09:2026-10", ZONE, TODAY).last_day == date(2026, 10, 31)
    assert parse_period("2026-10:2026-12", ZONE, TODAY).last_day == TODAY
    for wrong in ("2026-10:2026-09", "2027-01:2027-02", "last-0", "last-99", "soon", "2020-01:2026-01"):
        with pytest.raises(InvalidInput):
            parse_period(wrong, ZONE, TODAY)


def test_base_quality_counts_customers_by_months_since_their_last_purchase(session: Session) -> None:
    data = figures(session, "last-3")
    assert [(b.kind, b.months, b.customers) for b in data.base_quality] == [
        ("months", 0, 2),  # A (Nov 10) and B (1 Nov in Moscow)
        ("months", 1, 1),  # F: Oct 20 (its returned receipt does not count)
        ("months", 2, 1),  # C: Sep 16
        ("older", None, 1),  # D: May
        ("never", None, 1),  # E
    ]
    first = data.base_quality[0]
    assert (first.first_day, first.last_day) == (date(2026, 10, 21), date(2026, 11, 20))
    assert data.customers == 6


def test_base_quality_of_a_past_period_is_as_of_its_last_day(session: Session) -> None:
    data = figures(session, "2026-09:2026-10")
    assert [b.customers for b in data.base_quality] == [2, 1, 1, 2]  # A, F | C | D | B and E
    assert data.base_quality[0].first_day == date(2026, 10, 1)


def test_returning_against_one_time_buyers_by_count_and_revenue(session: Session) -> None:
    data = figures(session, "last-3")
    assert (data.returning.customers, data.returning.revenue) == (2, Decimal("250.00"))  # A, C
    assert (data.one_time.customers, data.one_time.revenue) == (2, Decimal("260.00"))  # B, F


def test_best_and_lost_come_from_each_months_last_finished_calculation(session: Session) -> None:
    data = figures(session, "last-3")
    assert [(m.month.month, m.best, m.lost) for m in data.rfm] == [(9, 5, 2), (10, None, None), (11, 7, 1)]


def test_the_share_of_buyers_with_repeat_purchases_per_month(session: Session) -> None:
    data = figures(session, "last-3")
    assert [(m.buyers, m.repeat, m.share) for m in data.repeat] == [(1, 1, 1.0), (2, 0, 0.0), (2, 1, 0.5)]


def test_assisted_sales_are_the_credited_receipts_by_channel(session: Session) -> None:
    data = figures(session, "last-3")
    sales = [
        (m.assisted.receipts, m.assisted.amount, m.regular.receipts, m.regular.amount) for m in data.sales
    ]
    assert sales == [
        (0, Decimal("0.00"), 2, Decimal("100.00")),  # C's receipts: a touch without the credit is regular
        (0, Decimal("0.00"), 2, Decimal("110.00")),  # A's and F's
        (2, Decimal("300.00"), 0, Decimal("0.00")),  # A's by e-mail, B's by SMS
    ]
    assert {k: (v.receipts, v.amount) for k, v in data.sales[2].channels.items()} == {
        "email": (1, Decimal("100.00")),
        "sms": (1, Decimal("200.00")),
    }
    assert {k: (v.receipts, v.amount) for k, v in data.channels.items()} == {
        "email": (1, Decimal("100.00")),
        "sms": (1, Decimal("200.00")),
    }


def test_without_a_global_control_group_the_block_is_empty(session: Session) -> None:
    assert figures(session, "last-3").control is None


def test_an_empty_base_has_zeros_everywhere(session: Session) -> None:
    data = compute(session, parse_period("last-12", ZONE, TODAY))
    assert data.customers == 0 and sum(b.customers for b in data.base_quality) == 0
    assert len(data.sales) == len(data.repeat) == len(data.rfm) == 12


def test_the_snapshot_round_trips_and_replaces_the_previous_one(session: Session) -> None:
    base(session)
    first = dashboard_service.recompute(session, "last-3", now=NOW)
    again = dashboard_service.recompute(session, "last-3", now=NOW)
    assert dashboard_service.snapshot(session, "last-3") is again and first is not again
    data = dashboard_service.data(again)
    assert data.returning.revenue == Decimal("250.00") and data.sales[2].channels["sms"].receipts == 1


def global_control_group(session: Session) -> None:
    """Ten customers, four of them (G-1…G-4) in the global control group since before the period; in the
    period the group's G-1 and G-2 buy (3 receipts, 180.00), the rest's G-5, G-6 and G-7 (4 receipts,
    460.00); a cancelled receipt and one after the period count for nobody."""
    ids = make_base(session, 10)
    people = [session.get(Customer, i) for i in ids]
    drawn = NOW - timedelta(days=200)
    enable(session, source="file", now=drawn)
    global_control_service.upload(session, ACTOR, "g.csv", b"G-1\nG-2\nG-3\nG-4\n", now=drawn)
    inside = datetime(2026, 10, 15, 12, 0, tzinfo=UTC)
    for person, total in ((0, "100.00"), (0, "50.00"), (1, "30.00")):
        make_receipt(session, people[person], inside, total)
    for person, total in ((4, "200.00"), (5, "100.00"), (5, "100.00"), (6, "60.00")):
        make_receipt(session, people[person], inside, total)
    make_receipt(session, people[7], inside, "500.00", status="cancelled")
    make_receipt(session, people[8], datetime(2026, 11, 25, tzinfo=UTC), "1000.00")  # after today


def test_the_global_control_group_block_is_the_groups_report_over_the_period(session: Session) -> None:
    global_control_group(session)
    period = parse_period("last-3", ZONE, TODAY)

    control = compute(session, period).control

    assert control is not None
    assert control == report_between(session, period.start, period.end)
    group, rest = control.group, control.rest
    assert (group.recipients, group.buyers, group.receipts, group.amount) == (4, 2, 3, Decimal("180.00"))
    assert (rest.recipients, rest.buyers, rest.receipts, rest.amount) == (6, 3, 4, Decimal("460.00"))
    assert (group.conversion, rest.conversion) == (0.5, 0.5)
    assert (group.revenue_per_customer, rest.revenue_per_customer) == (Decimal("45.00"), Decimal("76.67"))
    assert control.incremental_amount == Decimal("190.00")  # 460 − 6 × 45
    assert rest.comparison is not None


def test_the_global_control_group_block_survives_the_snapshot(session: Session) -> None:
    global_control_group(session)
    snapshot = dashboard_service.recompute(session, "last-3", now=NOW)
    assert snapshot.data["control"]["group"]["recipients"] == 4  # the report's JSON
    control = dashboard_service.data(snapshot).control
    period = parse_period("last-3", ZONE, TODAY)
    assert control == report_between(session, period.start, period.end)


def test_a_group_without_members_in_the_period_leaves_the_block_empty(session: Session) -> None:
    global_control_group(session)
    assert compute(session, parse_period("2026-01:2026-02", ZONE, TODAY)).control is None
