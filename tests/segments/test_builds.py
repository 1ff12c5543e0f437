"""Segment builds: membership diff with entered/exited stays, the event stream, refreshes and metrics."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from smartcomm.audit.actor import Actor
from smartcomm.customers.schemas import CustomerIn
from smartcomm.customers.service import customer_service
from smartcomm.kit.errors import InvalidInput
from smartcomm.kit.time import utcnow
from smartcomm.models import Customer, SegmentEvent, SegmentMembership
from smartcomm.receipts.schemas import ReceiptIn
from smartcomm.receipts.service import receipt_service
from smartcomm.segments.rules import SegmentRules
from smartcomm.segments.schemas import SegmentIn, SegmentUpdate
from smartcomm.segments.service import segment_service

ACTOR = Actor("user", None, "tests")


def rules(*conditions: dict, op: str = "and") -> SegmentRules:
    return SegmentRules.model_validate({"root": {"op": op, "children": list(conditions)}})


def people(session: Session, *cities: str) -> list[Customer]:
    return [
        customer_service.upsert(
            session, ACTOR, CustomerIn(external_id=f"C{i}", city=city, last_name=f"L{i}")
        )[0]
        for i, city in enumerate(cities)
    ]


def buy(
    session: Session, customer: Customer, number: str, total: str, when: str = "2026-11-20T10:00:00+00:00"
) -> None:
    receipt = {
        "number": number,
        "store": "S1",
        "customer_id": customer.id,
        "purchased_at": when,
        "lines": [{"sku": "A", "price": total}],
    }
    receipt_service.write(session, ACTOR, [ReceiptIn.model_validate(receipt)])


def current_members(session: Session, segment_id: int) -> set[str]:
    statement = (
        select(Customer.external_id)
        .join(SegmentMembership, SegmentMembership.customer_id == Customer.id)
        .where(SegmentMembership.segment_id == segment_id, SegmentMembership.exited_at.is_(None))
    )
    return set(session.scalars(statement))


MOSCOW = {"metric": "profile.city", "operator": "eq", "value": "Moscow"}


def test_build_records_members_entries_and_exits(session: Session) -> None:
    ivan, olga, petr = people(session, "Moscow", "Moscow", "Kazan")
    segment = segment_service.create(session, ACTOR, SegmentIn(name="Moscow", rules=rules(MOSCOW)))
    first = segment_service.build(session, segment.id, "manual")
    assert (first.members, first.entered, first.exited) == (2, 2, 0)
    assert current_members(session, segment.id) == {"C0", "C1"}

    olga.city, petr.city = "Kazan", "Moscow"
    session.flush()
    second = segment_service.build(session, segment.id, "manual")
    assert (second.members, second.entered, second.exited) == (2, 1, 1)
    assert current_members(session, segment.id) == {"C0", "C2"}
    kinds = [(e.customer_id, e.kind) for e in session.scalars(select(SegmentEvent).order_by(SegmentEvent.id))]
    assert kinds == [(ivan.id, "entered"), (olga.id, "entered"), (petr.id, "entered"), (olga.id, "exited")]
    # Olga's first stay is closed, not deleted: the history stays.
    stays = session.scalars(select(SegmentMembership).where(SegmentMembership.customer_id == olga.id)).all()
    assert len(stays) == 1 and stays[0].exited_at is not None


def test_rebuilding_without_changes_changes_nothing(session: Session) -> None:
    people(session, "Moscow", "Kazan")
    segment = segment_service.create(session, ACTOR, SegmentIn(name="Moscow", rules=rules(MOSCOW)))
    segment_service.build(session, segment.id, "manual")
    again = segment_service.build(session, segment.id, "schedule")
    assert (again.members, again.entered, again.exited) == (1, 0, 0)
    assert session.scalar(select(func.count()).select_from(SegmentEvent)) == 1


def test_a_new_receipt_moves_the_customer_into_the_segment(session: Session) -> None:
    _ivan, olga = people(session, "Moscow", "Kazan")
    spenders = rules({"metric": "purchases.amount", "operator": "gte", "value": "1000"})
    segment = segment_service.create(session, ACTOR, SegmentIn(name="Spenders", rules=spenders))
    segment_service.build(session, segment.id, "manual")
    assert current_members(session, segment.id) == set()

    buy(session, olga, "R1", "1500.00")
    changes = segment_service.refresh_customers(session, [olga.id])
    assert changes[segment.id].entered == 1
    assert current_members(session, segment.id) == {"C1"}
    assert segment_service.get(session, segment.id).member_count == 1


def test_refreshing_some_customers_agrees_with_a_full_build_on_windowed_counts(session: Session) -> None:
    # A refresh compiles the aggregates for just the refreshed customers: "fewer than 2" is built as a
    # complement (customers without receipts match), "at least 2" directly; both must stay exact.
    ivan, olga, petr, _anna = people(session, "Moscow", "Moscow", "Kazan", "Kazan")
    recently = (utcnow() - timedelta(days=2)).isoformat()
    buy(session, ivan, "R1", "100.00", recently)
    buy(session, ivan, "R2", "100.00", recently)
    buy(session, olga, "R3", "100.00", recently)
    buy(session, petr, "R4", "100.00", (utcnow() - timedelta(days=200)).isoformat())
    window = {"period": {"kind": "last", "n": 30, "unit": "days"}}
    twice = {"metric": "purchases.count", "operator": "gte", "value": 2, "params": window}
    rarely = {"metric": "purchases.count", "operator": "lt", "value": 2, "params": window}
    often = segment_service.create(session, ACTOR, SegmentIn(name="Twice", rules=rules(twice)))
    seldom = segment_service.create(session, ACTOR, SegmentIn(name="Rarely", rules=rules(rarely)))
    for segment in (often, seldom):
        segment_service.build(session, segment.id, "manual")
    assert current_members(session, often.id) == {"C0"}
    assert current_members(session, seldom.id) == {"C1", "C2", "C3"}

    buy(session, olga, "R5", "100.00", recently)
    buy(session, petr, "R6", "100.00", recently)
    changes = segment_service.refresh_customers(session, [olga.id, petr.id])

    assert current_members(session, often.id) == {"C0", "C1"}
    assert current_members(session, seldom.id) == {"C2", "C3"}
    assert (changes[often.id].entered, changes[seldom.id].exited) == (1, 1)
    for segment in (often, seldom):
        rebuilt = segment_service.build(session, segment.id, "manual")
        assert (rebuilt.entered, rebuilt.exited) == (0, 0)


def test_metrics_of_the_members(session: Session) -> None:
    ivan, _olga, petr = people(session, "Moscow", "Moscow", "Kazan")
    buy(session, ivan, "R1", "100.00")
    buy(session, ivan, "R2", "200.00")
    buy(session, petr, "R3", "700.00")
    segment = segment_service.create(session, ACTOR, SegmentIn(name="Moscow", rules=rules(MOSCOW)))
    segment_service.build(session, segment.id, "manual")
    figures = segment_service.metrics(session, segment.id)
    assert figures.members == 2
    assert figures.base_share == round(2 / 3, 4)
    assert figures.revenue_share == 0.3
    assert figures.average_receipt == Decimal("150.00")
    assert figures.ltv == Decimal("150.00")
    stored = segment_service.get(session, segment.id)  # the build's own figures, summed as it built
    assert (stored.member_count, stored.last_build_status) == (2, "done")
    assert (stored.base_share, stored.revenue_share) == (figures.base_share, figures.revenue_share)
    assert (stored.average_receipt, stored.ltv) == (figures.average_receipt, figures.ltv)


def test_preview_counts_without_saving(session: Session) -> None:
    people(session, "Moscow", "moscow", "Kazan", "")
    preview = segment_service.preview(session, rules(MOSCOW))
    assert (preview.count, preview.base) == (2, 4)


def test_hostile_values_are_inert(session: Session) -> None:
    people(session, "Moscow'; DROP TABLE customers; --", "Kazan")
    hostile = "Moscow'; DROP TABLE customers; --"
    preview = segment_service.preview(
        session, rules({"metric": "profile.city", "operator": "eq", "value": hostile})
    )
    assert preview.count == 1
    contains = {"metric": "profile.city", "operator": "contains", "value": "%"}
    assert segment_service.preview(session, rules(contains)).count == 0
    assert session.scalar(select(func.count()).select_from(Customer)) == 2


def test_invalid_conditions_are_named(session: Session) -> None:
    bad = rules(
        {"metric": "profile.city", "operator": "gt", "value": "x"},
        {"metric": "no.such", "operator": "eq", "value": 1},
        {"metric": "purchases.product_count", "operator": "gte", "value": 1},
    )
    with pytest.raises(InvalidInput) as raised:
        segment_service.create(session, ACTOR, SegmentIn(name="Bad", rules=bad))
    assert [e.field for e in raised.value.errors] == [
        "root.children[0]",
        "root.children[1]",
        "root.children[2]",
    ]


def test_segments_may_not_depend_on_themselves(session: Session) -> None:
    people(session, "Moscow")
    first = segment_service.create(session, ACTOR, SegmentIn(name="A", rules=rules(MOSCOW)))
    member_of_first = {"metric": "segments.member", "operator": "is_true", "params": {"segment": first.id}}
    second = segment_service.create(session, ACTOR, SegmentIn(name="B", rules=rules(member_of_first)))
    member_of_second = {"metric": "segments.member", "operator": "is_true", "params": {"segment": second.id}}
    with pytest.raises(InvalidInput):
        segment_service.update(session, ACTOR, first.id, SegmentUpdate(rules=rules(member_of_second)))
    assert [s.name for s in segment_service.in_dependency_order(session)] == ["A", "B"]


def test_committed_receipt_refreshes_segments_through_the_job(session: Session) -> None:
    [olga] = people(session, "Kazan")
    spenders = rules({"metric": "purchases.count", "operator": "gte", "value": 1})
    segment = segment_service.create(session, ACTOR, SegmentIn(name="Buyers", rules=spenders))
    segment_service.build(session, segment.id, "manual")
    session.commit()
    assert current_members(session, segment.id) == set()

    buy(session, olga, "R1", "10.00")
    session.commit()  # the refresh job runs once the transaction commits
    assert current_members(session, segment.id) == {"C0"}
    kinds = [
        e.kind for e in session.scalars(select(SegmentEvent).where(SegmentEvent.segment_id == segment.id))
    ]
    assert kinds == ["entered"]


def test_committed_receipt_moves_the_rfm_cell_through_the_job(session: Session) -> None:
    from smartcomm.models import CustomerRfm
    from smartcomm.rfm.service import rfm_service

    ivan, olga = people(session, "Moscow", "Kazan")
    buy(session, ivan, "R1", "50.00", when="2026-11-01T10:00:00+00:00")
    session.commit()
    rfm_service.run(session, "manual")
    session.commit()
    assert session.get(CustomerRfm, olga.id) is None  # no purchase yet: not scored

    buy(session, olga, "R2", "900.00")
    session.commit()  # the job re-places Olga against the latest calculation's ranges
    scores = session.get(CustomerRfm, olga.id)
    assert scores is not None and scores.m == 5 and scores.frequency == 1
