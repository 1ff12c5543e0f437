"""The dispatcher: events written at commit and handed to each subscriber once, in id order and in batches;
a failing subscriber retried later without holding back the others; the gap rule; retention."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from sqlalchemy import insert, update
from sqlalchemy.orm import Session

from smartcomm.config import config
from smartcomm.kit import outbox
from smartcomm.kit.db import Database
from smartcomm.kit.outbox import CUSTOMER_IDS_LIMIT, Event, customers_of, dispatch_events, publish, window
from smartcomm.kit.time import utcnow
from smartcomm.models import DomainEvent, EventCheckpoint
from tests.outbox.conftest import Register, checkpoint, last_handled, latest_event_id, published, work_done

THING = "tests.thing"


def commit_things(session: Session, count: int = 1) -> list[int]:
    """Publish `count` test events in one transaction and commit; returns their ids."""
    mark = latest_event_id(session)
    for number in range(count):
        publish(session, THING, payload={"n": number})
    session.commit()
    return [event.id for event in published(session, THING, after=mark)]


def test_events_are_written_at_commit_and_each_subscriber_gets_them_once(
    session: Session, register: Register
) -> None:
    calls = register("tests.recorder", {THING})
    mark = latest_event_id(session)
    publish(session, THING, customer_id=None, payload={"n": 1})
    publish(session, "tests.other")
    assert published(session, after=mark) == []  # nothing before the commit

    session.commit()

    thing, other = published(session, after=mark)
    assert [(thing.kind, thing.payload), (other.kind, other.payload)] == [
        (THING, {"n": 1}),
        ("tests.other", {}),
    ]
    assert calls == [[thing.id]]  # only its kinds
    assert checkpoint(session, "tests.recorder").last_id == other.id  # past the events it does not take
    dispatch_events.call_local()
    assert calls == [[thing.id]] and work_done(session, "tests.recorder") == [[thing.id]]


def test_a_rolled_back_transaction_publishes_nothing(session: Session, register: Register) -> None:
    calls = register("tests.recorder", {THING})
    mark = latest_event_id(session)
    publish(session, THING)
    session.rollback()
    session.commit()
    assert published(session, after=mark) == [] and calls == []


def test_events_published_beside_a_savepoint_go_with_the_commit(session: Session, register: Register) -> None:
    calls = register("tests.recorder", {THING})
    mark = latest_event_id(session)
    publish(session, THING)
    with session.begin_nested():  # as an idempotent request reserves its key
        publish(session, THING)
    assert published(session, after=mark) == []
    session.commit()
    events = published(session, after=mark)
    assert len(events) == 2 and calls == [[event.id for event in events]]


def test_a_bulk_write_publishes_one_event_with_its_customers_or_only_their_number(session: Session) -> None:
    mark = latest_event_id(session)
    publish(session, "tests.bulk", customer_ids=[3, 1, None, 3])
    publish(session, "tests.bulk", customer_ids=range(1, CUSTOMER_IDS_LIMIT + 2))
    session.commit()

    listed, counted = published(session, "tests.bulk", after=mark)
    assert listed.payload == {"customer_ids": [1, 3]} and listed.customer_id is None
    assert counted.payload == {"many_customers": True, "customer_count": CUSTOMER_IDS_LIMIT + 1}
    as_given = [Event(e.id, e.kind, e.customer_id, e.payload, e.occurred_at) for e in (listed, counted)]
    assert as_given[0].customers == {1, 3} and as_given[1].customers is None
    assert customers_of(as_given[:1]) == {1, 3} and customers_of(as_given) is None


def test_a_failing_subscriber_is_retried_later_without_holding_back_another(
    session: Session, register: Register, caplog: pytest.LogCaptureFixture
) -> None:
    broken = True
    flaky = register("tests.flaky", {THING}, fail=lambda _: broken)
    steady = register("tests.steady", {THING})

    with caplog.at_level(logging.ERROR, logger="smartcomm.kit.outbox"):
        [first] = commit_things(session)
    assert steady == [[first]] and flaky == []
    held = checkpoint(session, "tests.flaky")
    assert held.last_id < first and held.failures == 1 and held.retry_at is not None
    assert "tests.flaky cannot take events" in (held.last_error or "")
    assert work_done(session, "tests.flaky") == []  # its transaction was rolled back, work and all
    assert "the subscriber tests.flaky failed" in caplog.text

    [second] = commit_things(session)  # the other goes on; the failed one waits for its retry time
    assert steady == [[first], [second]] and flaky == []

    broken = False
    session.execute(
        update(EventCheckpoint).where(EventCheckpoint.subscriber == "tests.flaky").values(retry_at=utcnow())
    )
    session.commit()
    dispatch_events.call_local()
    assert flaky == [[first, second]] and steady == [[first], [second]]
    repaired = checkpoint(session, "tests.flaky")
    assert (repaired.last_id, repaired.failures, repaired.retry_at, repaired.last_error) == (
        second,
        0,
        None,
        None,
    )
    assert work_done(session, "tests.flaky") == [[first, second]]


def test_events_go_over_in_bounded_batches_in_id_order(
    session: Session, register: Register, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(window, "BATCH_EVENTS", 2)  # read by window._up_to_a_batch
    calls = register("tests.recorder", {THING})
    ids = commit_things(session, 5)
    assert calls == [ids[0:2], ids[2:4], ids[4:5]]


def test_a_subscriber_far_behind_does_not_hold_back_another_ones_fresh_event(
    session: Session, register: Register, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Attribution handed a mass sending's deliveries, a campaign trigger a receipt: the receipt's turn
    comes after one batch of the deliveries, not after all of them."""
    monkeypatch.setattr(window, "BATCH_EVENTS", 2)  # read by window._up_to_a_batch
    turns: list[str] = []
    register("tests.behind", {THING}, fail=lambda events: turns.append("behind") is not None)
    register("tests.fresh", {"tests.receipt"}, fail=lambda events: turns.append("fresh") is not None)

    publish(session, "tests.receipt")
    for number in range(6):
        publish(session, THING, payload={"n": number})
    session.commit()

    assert turns == ["behind", "fresh", "behind", "behind"]


def test_a_missing_id_holds_back_the_events_after_it_until_it_is_old(
    session: Session, register: Register
) -> None:
    calls = register("tests.recorder", {THING})
    [warm_up] = commit_things(session)
    # As PostgreSQL shows them while an earlier transaction is still committing: base+2 is missing.
    now, base = utcnow(), warm_up
    rows = [{"id": base + 1, "kind": THING, "payload": {}, "occurred_at": now},
            {"id": base + 3, "kind": THING, "payload": {}, "occurred_at": now}]  # fmt: skip
    session.execute(insert(DomainEvent), rows)
    session.commit()

    dispatch_events.call_local()
    assert calls == [[warm_up], [base + 1]] and checkpoint(session, "tests.recorder").last_id == base + 1

    old = now - timedelta(seconds=config.outbox_gap_seconds + 1)
    session.execute(update(DomainEvent).where(DomainEvent.id == base + 3).values(occurred_at=old))
    session.commit()
    dispatch_events.call_local()
    assert calls == [[warm_up], [base + 1], [base + 3]]
    assert checkpoint(session, "tests.recorder").last_id == base + 3


def test_events_every_subscriber_has_passed_are_purged_after_the_retention(
    session: Session, register: Register
) -> None:
    register("tests.laggard", {"tests.nothing"})
    first, second, third = commit_things(session, 3)
    dispatch_events.call_local(advance_idle=True)  # every subscriber past them
    old = utcnow() - timedelta(days=config.outbox_retention_days, hours=1)
    session.execute(update(DomainEvent).where(DomainEvent.id.in_([first, second])).values(occurred_at=old))
    laggard = update(EventCheckpoint).where(EventCheckpoint.subscriber == "tests.laggard")
    session.execute(laggard.values(last_id=first))  # as if it had not handled the second yet
    session.commit()

    outbox.purge_events.call_local()
    assert [event.id for event in published(session, after=first - 1)] == [second, third]

    session.execute(laggard.values(last_id=third))
    session.commit()
    outbox.purge_events.call_local()
    assert [event.id for event in published(session, after=first - 1)] == [third]  # the young one stays

    session.execute(update(DomainEvent).where(DomainEvent.id == third).values(occurred_at=old))
    session.commit()
    outbox.purge_events.call_local()
    [after_purge] = commit_things(session)
    assert after_purge > third  # an id never comes back, even once every event was purged


def test_a_subscriber_held_by_another_dispatcher_is_left_to_it(
    backend: str, live_database: Database, register: Register
) -> None:
    if backend != "postgres":
        pytest.skip("on SQLite a dispatcher's write transaction excludes every other writer")
    calls = register("tests.recorder", {THING})
    with live_database.session() as session:
        [first] = commit_things(session)
    assert calls == [[first]]

    with live_database.engine.connect() as other, other.begin():
        held = other.execute(
            outbox.checkpoints_table()
            .select()
            .where(EventCheckpoint.subscriber == "tests.recorder")
            .with_for_update()
        ).one()  # another worker's dispatcher has the recorder
        with live_database.session() as session:
            [second] = commit_things(session)  # its dispatch runs at once, here: the recorder is held
        assert calls == [[first]] and held.last_id == first
    dispatch_events()  # the holder looks again once it lets go; here the test does
    assert calls == [[first], [second]]


def test_a_subscriber_none_of_whose_kinds_came_is_moved_on_by_the_periodic_dispatch(
    session: Session, register: Register
) -> None:
    register("tests.elsewhere", {"tests.nothing"})
    [first] = commit_things(session)  # no event of its kinds: no turn, no write transaction for it
    assert last_handled(session, "tests.elsewhere") < first

    dispatch_events.call_local(advance_idle=True)  # as the dispatch of every minute
    assert checkpoint(session, "tests.elsewhere").last_id == first
