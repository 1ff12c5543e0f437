"""Per-customer refreshes: all segments evaluated together by statements cached per process.

The cached statements must never outlive what they were compiled from: new rules, a new day or another
time zone are used by the very next refresh, and the result always equals a full build's.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import time_machine
from sqlalchemy import select
from sqlalchemy.orm import Session

from smartcomm.models import SegmentEvent, SegmentMembership
from smartcomm.segments.refresh import forget_plans
from smartcomm.segments.rules import dependency_order
from smartcomm.segments.schemas import SegmentIn, SegmentUpdate
from smartcomm.segments.service import segment_service
from smartcomm.settings.schemas import GeneralSettings
from smartcomm.settings.service import settings_service
from tests.segments.test_builds import ACTOR, MOSCOW, buy, current_members, people, rules

KAZAN = {"metric": "profile.city", "operator": "eq", "value": "Kazan"}
BUYERS = {"metric": "purchases.count", "operator": "gte", "value": 1}
LAST_DAY = {"period": {"kind": "last", "n": 1}}
TODAY = {"metric": "purchases.count", "operator": "gte", "value": 1, "params": LAST_DAY}
NOON = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def member_of(segment_id: int) -> dict[str, object]:
    return {"metric": "segments.member", "operator": "is_true", "params": {"segment": segment_id}}


def events(session: Session) -> list[tuple[int, int, str]]:
    found = session.execute(
        select(SegmentEvent.segment_id, SegmentEvent.customer_id, SegmentEvent.kind).order_by(SegmentEvent.id)
    )
    return [(segment_id, customer_id, kind) for segment_id, customer_id, kind in found]


def test_a_refresh_after_a_rules_change_uses_the_new_rules(session: Session) -> None:
    [olga] = people(session, "Kazan")
    segment = segment_service.create(session, ACTOR, SegmentIn(name="Here", rules=rules(MOSCOW)))
    segment_service.build(session, segment.id, "manual")
    assert segment_service.refresh_customers(session, [olga.id]) == {}  # compiles and keeps the statement

    segment_service.update(session, ACTOR, segment.id, SegmentUpdate(rules=rules(KAZAN)))
    changes = segment_service.refresh_customers(session, [olga.id])

    assert (changes[segment.id].entered, changes[segment.id].exited) == (1, 0)
    assert current_members(session, segment.id) == {"C0"}


def test_a_refresh_uses_rules_written_without_the_service(session: Session) -> None:
    # Rules stored by any path (an import, a migration) count, not only those that bump the revision.
    [olga] = people(session, "Kazan")
    segment = segment_service.create(session, ACTOR, SegmentIn(name="Here", rules=rules(KAZAN)))
    segment_service.build(session, segment.id, "manual")
    segment_service.refresh_customers(session, [olga.id])

    segment.rules = rules(MOSCOW).model_dump(mode="json")
    session.flush()
    changes = segment_service.refresh_customers(session, [olga.id])

    assert (changes[segment.id].entered, changes[segment.id].exited) == (0, 1)
    assert current_members(session, segment.id) == set()


def test_a_deleted_segment_is_no_longer_refreshed(session: Session) -> None:
    [olga] = people(session, "Kazan")
    kept = segment_service.create(session, ACTOR, SegmentIn(name="Kept", rules=rules(BUYERS)))
    gone = segment_service.create(session, ACTOR, SegmentIn(name="Gone", rules=rules(BUYERS)))
    segment_service.refresh_customers(session, [olga.id])
    segment_service.delete(session, ACTOR, gone.id)

    buy(session, olga, "R1", "10.00")
    changes = segment_service.refresh_customers(session, [olga.id])

    assert set(changes) == {kept.id}


def test_deleting_a_segment_deletes_its_stays_and_events(session: Session) -> None:
    [olga] = people(session, "Kazan")
    kept = segment_service.create(session, ACTOR, SegmentIn(name="Kept", rules=rules(KAZAN)))
    gone = segment_service.create(session, ACTOR, SegmentIn(name="Gone", rules=rules(KAZAN)))
    segment_service.refresh_customers(session, [olga.id])
    assert {segment_id for segment_id, _, _ in events(session)} == {kept.id, gone.id}

    segment_service.delete(session, ACTOR, gone.id)

    assert events(session) == [(kept.id, olga.id, "entered")]
    stays = session.scalars(select(SegmentMembership.segment_id)).all()
    assert stays == [kept.id]


def test_a_new_day_moves_customers_out_of_a_today_segment(session: Session) -> None:
    with time_machine.travel(NOON, tick=False) as frozen:
        [olga] = people(session, "Kazan")
        today = segment_service.create(session, ACTOR, SegmentIn(name="Today", rules=rules(TODAY)))
        buy(session, olga, "R1", "10.00", when=NOON.isoformat())
        assert segment_service.refresh_customers(session, [olga.id])[today.id].entered == 1

        frozen.shift(timedelta(days=1))
        changes = segment_service.refresh_customers(session, [olga.id])

    assert changes[today.id].exited == 1
    assert current_members(session, today.id) == set()


def test_another_time_zone_is_used_at_once(session: Session) -> None:
    # 22:00 UTC on the 20th is already the 21st in Moscow: the purchase at noon UTC was "yesterday" there.
    late = NOON + timedelta(hours=10)
    with time_machine.travel(late, tick=False):
        settings_service.update(session, ACTOR, GeneralSettings, {"time_zone": "UTC"})
        [olga] = people(session, "Kazan")
        today = segment_service.create(session, ACTOR, SegmentIn(name="Today", rules=rules(TODAY)))
        buy(session, olga, "R1", "10.00", when=NOON.isoformat())
        assert segment_service.refresh_customers(session, [olga.id])[today.id].entered == 1

        settings_service.update(session, ACTOR, GeneralSettings, {"time_zone": "Europe/Moscow"})
        changes = segment_service.refresh_customers(session, [olga.id])

    assert changes[today.id].exited == 1


def test_a_segment_of_members_of_another_follows_it_in_the_same_refresh(session: Session) -> None:
    [olga] = people(session, "Kazan")
    buyers = segment_service.create(session, ACTOR, SegmentIn(name="Buyers", rules=rules(BUYERS)))
    loyal = segment_service.create(
        session, ACTOR, SegmentIn(name="Loyal", rules=rules(member_of(buyers.id), KAZAN))
    )
    not_buyers = segment_service.create(
        session, ACTOR, SegmentIn(name="Not buyers", rules=rules({**member_of(buyers.id), "negate": True}))
    )
    segment_service.refresh_customers(session, [olga.id])
    assert current_members(session, not_buyers.id) == {"C0"}

    buy(session, olga, "R1", "10.00")
    changes = segment_service.refresh_customers(session, [olga.id])

    assert {s: (d.entered, d.exited) for s, d in changes.items()} == {
        buyers.id: (1, 0),
        loyal.id: (1, 0),
        not_buyers.id: (0, 1),
    }
    assert events(session)[-3:] == [
        (buyers.id, olga.id, "entered"),
        (loyal.id, olga.id, "entered"),
        (not_buyers.id, olga.id, "exited"),
    ]


def test_a_refresh_of_several_customers_and_segments_agrees_with_full_builds(session: Session) -> None:
    ivan, olga, petr, anna = people(session, "Moscow", "Moscow", "Kazan", "Kazan")
    window = {"period": {"kind": "last", "n": 30, "unit": "days"}}
    trees = [
        rules(MOSCOW),
        rules(BUYERS, KAZAN, op="or"),
        rules({"metric": "purchases.count", "operator": "lt", "value": 2, "params": window}),
        rules({"metric": "purchases.amount", "operator": "gte", "value": "100"}, {**MOSCOW, "negate": True}),
        rules(),
    ]
    segments = [
        segment_service.create(session, ACTOR, SegmentIn(name=f"S{number}", rules=tree))
        for number, tree in enumerate(trees)
    ]
    for segment in segments:
        segment_service.build(session, segment.id, "manual")
    recently = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    for number, (customer, total) in enumerate([(ivan, "50.00"), (petr, "150.00"), (petr, "10.00")]):
        buy(session, customer, f"R{number}", total, recently)
    olga.city = "Kazan"
    session.flush()

    changes = segment_service.refresh_customers(session, [ivan.id, olga.id, petr.id, anna.id])

    for segment in segments:
        found = changes.get(segment.id)
        rebuilt = segment_service.build(session, segment.id, "manual")
        assert (rebuilt.entered, rebuilt.exited) == (0, 0)
        assert segment_service.get(session, segment.id).member_count == rebuilt.members
        assert found is None or found.entered + found.exited > 0


def test_the_statements_are_compiled_again_after_the_cache_is_dropped(session: Session) -> None:
    [olga] = people(session, "Kazan")
    segment = segment_service.create(session, ACTOR, SegmentIn(name="Here", rules=rules(KAZAN)))
    segment_service.refresh_customers(session, [olga.id])
    forget_plans()
    segment_service.refresh_customers(session, [olga.id])
    assert current_members(session, segment.id) == {"C0"}


def test_dependency_order_puts_referenced_segments_first_and_breaks_cycles() -> None:
    assert dependency_order({1: {3}, 2: set(), 3: {2}}) == [2, 3, 1]
    assert dependency_order({1: {2}, 2: {1}}) == [2, 1]
    assert dependency_order({1: {99}}) == [1]  # an unknown segment is no dependency
