"""The global control group against the rest of the base, checked against a hand computation."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy.orm import Session

from smartcomm.analytics.global_control import default_period, report
from smartcomm.control_groups.service import global_control_service
from smartcomm.models import Customer
from tests.attribution.helpers import make_receipt
from tests.control_groups.helpers import ACTOR, NOW, enable, make_base

ZONE = "UTC"
FIRST, LAST = date(2026, 9, 1), date(2026, 11, 30)
INSIDE = datetime(2026, 10, 15, 12, 0, tzinfo=NOW.tzinfo)


def test_the_group_against_the_rest_over_a_period(session: Session) -> None:
    ids = make_base(session, 10)
    people = [session.get(Customer, i) for i in ids]
    enable(session, source="file", now=NOW - timedelta(days=200))
    upload = b"G-1\nG-2\nG-3\nG-4\n"
    global_control_service.upload(session, ACTOR, "g.csv", upload, now=NOW - timedelta(days=200))
    for person, total in ((0, "100.00"), (0, "50.00"), (1, "30.00")):  # the group: 2 buyers, 180
        make_receipt(session, people[person], INSIDE, total)
    for person, total in ((4, "200.00"), (5, "100.00"), (5, "100.00"), (6, "60.00")):  # the rest: 460
        make_receipt(session, people[person], INSIDE, total)
    make_receipt(session, people[7], INSIDE, "500.00", status="cancelled")
    make_receipt(session, people[8], datetime(2026, 12, 1, 0, 0, tzinfo=NOW.tzinfo), "1000.00")

    found = report(session, FIRST, LAST, ZONE)

    group, rest = found.group, found.rest
    assert (group.recipients, group.buyers, group.receipts, group.amount) == (4, 2, 3, Decimal("180.00"))
    assert (group.conversion, group.revenue_per_customer) == (0.5, Decimal("45.00"))
    assert (rest.recipients, rest.buyers, rest.receipts, rest.amount) == (6, 3, 4, Decimal("460.00"))
    assert rest.revenue_per_customer == Decimal("76.67")
    assert rest.expected_amount == Decimal("270.00")  # 6 customers at the group's 45.00
    assert found.incremental_amount == Decimal("190.00")
    assert rest.comparison is not None and rest.comparison.p_value is not None


def test_a_member_whose_stay_ended_before_the_period_counts_in_the_rest(session: Session) -> None:
    make_base(session, 4)
    enable(session, source="file", now=NOW - timedelta(days=400))
    global_control_service.upload(session, ACTOR, "a.csv", b"G-1\n", now=NOW - timedelta(days=400))
    global_control_service.upload(
        session, ACTOR, "b.csv", b"G-2\n", now=datetime(2026, 8, 1, tzinfo=NOW.tzinfo)
    )

    found = report(session, FIRST, LAST, ZONE)

    assert (found.group.recipients, found.rest.recipients) == (1, 3)


def test_the_default_period_is_the_last_ninety_days() -> None:
    assert default_period(date(2026, 12, 7)) == (date(2026, 9, 9), date(2026, 12, 7))
