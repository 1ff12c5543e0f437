"""Sending a mailing: the volume it shows is what it records, the control group is reproducible and sent
nothing, collecting resumes from its checkpoint, pause holds every message until resume, and cancel leaves
nothing planned — each recipient gets the mailing once, whatever happens in between."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session

from smartcomm.audit.actor import Actor
from smartcomm.delivery.dispatch import HELD_UNTIL
from smartcomm.delivery.ledger import HANDED_OVER, Status
from smartcomm.delivery.repository import LedgerRepository
from smartcomm.kit.errors import Conflict
from smartcomm.kit.time import utcnow
from smartcomm.mailings import tasks
from smartcomm.mailings.service import PAUSED_REASON, mailing_service
from smartcomm.models import Mailing, Message, Subscription
from tests.delivery.helpers import make_category, text_template
from tests.mailings.helpers import (
    customers,
    hold_collect,
    hold_dispatch,
    mailing_messages,
    make_mailing,
    send_due,
)

ACTOR = Actor.system("tests")


def launch(session: Session, mailing: Mailing) -> None:
    mailing_service.launch(session, ACTOR, mailing.id)
    session.commit()


def reloaded(session: Session, mailing: Mailing) -> Mailing:
    session.expire_all()
    found = session.get(Mailing, mailing.id)
    assert found is not None
    return found


def recipients_of(session: Session, mailing: Mailing) -> Counter[int | None]:
    return Counter(m.customer_id for m in mailing_messages(session, mailing.id))


def test_the_volume_shown_before_launch_is_what_the_send_records(session: Session) -> None:
    category = make_category(session)
    subscribed = customers(session, 6)
    people = [
        *subscribed,
        *customers(session, 2, allow_email=False),
        *customers(session, 2, email=None),
        *customers(session, 1, email_valid=False),
        *customers(session, 3),  # not subscribed to the category
    ]
    session.add_all(
        [
            Subscription(customer_id=c.id, category_id=category.id, channel="email", subscribed=True)
            for c in people
        ]
    )
    for customer in people[-3:]:
        session.merge(
            Subscription(customer_id=customer.id, category_id=category.id, channel="email", subscribed=False)
        )
    mailing = make_mailing(session, people, category_id=category.id, control_percent=20, control_seed=7)

    volume = mailing_service.volume(session, mailing.id)
    launch(session, mailing)

    assert volume.audience == len(people)
    control = mailing_service.control_members(session, mailing.id)
    assert volume.control == len(control)
    assert sum(volume.buckets.values()) == len(people) - len(control)
    assert mailing_service.recorded_buckets(session, mailing.id) == volume.buckets
    expected_unsubscribed = {c.id for c in people[6:8]} - set(control)
    assert volume.buckets["unsubscribed_channel"] == len(expected_unsubscribed)


def test_the_control_group_is_reproducible_and_sent_nothing(session: Session) -> None:
    people = customers(session, 120)
    first = make_mailing(session, people, control_percent=25, control_seed=2026)
    again = make_mailing(session, people, control_percent=25, control_seed=2026)
    other = make_mailing(session, people, control_percent=25, control_seed=1)
    for mailing in (first, again, other):
        launch(session, mailing)

    drawn = mailing_service.control_members(session, first.id)
    assert 0 < len(drawn) < 60
    assert mailing_service.control_members(session, again.id) == drawn
    assert mailing_service.control_members(session, other.id) != drawn
    sent_to = recipients_of(session, first)
    assert set(sent_to).isdisjoint(drawn)
    assert set(sent_to) | set(drawn) == {c.id for c in people}
    progress = mailing_service.progress(session, [first.id])[first.id]
    assert (progress.control, progress.sent) == (len(drawn), len(people) - len(drawn))


def test_collecting_resumes_from_its_checkpoint_without_planning_anyone_twice(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    hold_collect(monkeypatch)
    hold_dispatch(monkeypatch)
    people = customers(session, 25)
    mailing = make_mailing(session, people, control_percent=10, control_seed=5)
    launch(session, mailing)
    assert mailing_messages(session, mailing.id) == []

    assert mailing_service.collect_batch(session, mailing.id, size=10)
    session.commit()  # the worker is killed here, after its first batch
    checkpoint = reloaded(session, mailing).collect_checkpoint
    assert checkpoint == sorted(c.id for c in people)[9]
    first_batch = recipients_of(session, mailing)
    # A worker killed mid-batch commits nothing of it; one killed after may have its batch done again.
    assert mailing_service.collect_batch(session, mailing.id, size=10)
    session.execute(update(Mailing).where(Mailing.id == mailing.id).values(collect_checkpoint=checkpoint))
    session.commit()

    tasks.collect.call_local(mailing.id)

    found = reloaded(session, mailing)
    assert (found.status, found.collect_checkpoint) == ("sending", sorted(c.id for c in people)[-1])
    sent_to = recipients_of(session, mailing)
    control = mailing_service.control_members(session, mailing.id)
    assert set(first_batch) <= set(sent_to)
    assert max(sent_to.values()) == 1
    assert set(sent_to) | set(control) == {c.id for c in people} and set(sent_to).isdisjoint(control)


def test_pause_holds_every_message_and_resume_sends_each_recipient_once(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    hold_dispatch(monkeypatch)
    people = customers(session, 12)
    mailing = make_mailing(session, people)
    launch(session, mailing)
    waiting = defer_all_but(session, mailing, 4)
    assert send_due() == 4
    make_due(session, waiting[:2])
    claimed = LedgerRepository(session).claim("a worker elsewhere", utcnow(), 2)  # not handed over yet
    session.commit()
    assert sorted(claimed) == waiting[:2]

    mailing_service.pause(session, ACTOR, mailing.id, "the price is wrong")
    session.commit()

    assert send_due() == 0
    held = [m for m in mailing_messages(session, mailing.id) if m.status == Status.PLANNED]
    assert len(held) == 8 and len(_sent(session, mailing)) == 4
    assert {(m.reason, m.owner, m.next_attempt_at) for m in held} == {(PAUSED_REASON, None, HELD_UNTIL)}
    assert set(claimed) <= {m.id for m in held}  # taken back from the worker that claimed them
    assert reloaded(session, mailing).pause_reason == "the price is wrong"

    # Whatever makes a held message due again (a released claim, a cascade), the dispatcher holds it back.
    session.execute(
        update(Message).where(Message.id.in_([m.id for m in held])).values(next_attempt_at=utcnow())
    )
    session.commit()
    assert send_due() == 8
    assert len(_sent(session, mailing)) == 4

    mailing_service.resume(session, ACTOR, mailing.id)
    session.commit()
    send_due()

    sent_to = recipients_of(session, mailing)
    assert sent_to == Counter({c.id: 1 for c in people})
    assert len(_sent(session, mailing)) == 12
    assert mailing_service.settle_sending(session) == [mailing.id]
    session.commit()
    assert reloaded(session, mailing).status == "sent"


def test_cancel_leaves_no_planned_message(session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    hold_dispatch(monkeypatch)
    mailing = make_mailing(session, customers(session, 6))
    launch(session, mailing)
    defer_all_but(session, mailing, 2)
    assert send_due() == 2

    mailing_service.cancel(session, ACTOR, mailing.id)
    session.commit()

    assert send_due() == 0
    statuses = Counter(m.status for m in mailing_messages(session, mailing.id))
    assert statuses == Counter({Status.DELIVERED: 2, Status.CANCELLED: 4})
    assert mailing_service.progress(session, [mailing.id])[mailing.id].cancelled == 4
    assert mailing_service.settle_sending(session) == []
    with pytest.raises(Conflict):
        mailing_service.resume(session, ACTOR, mailing.id)
    assert reloaded(session, mailing).status == "cancelled"


def test_a_scheduled_mailing_starts_when_its_time_comes(session: Session) -> None:
    people = customers(session, 3)
    at = utcnow() + timedelta(hours=2)
    mailing = make_mailing(session, people, scheduled_at=at.isoformat())
    launch(session, mailing)
    assert reloaded(session, mailing).status == "scheduled"
    assert mailing_service.start_due(session) == []
    assert mailing_messages(session, mailing.id) == []

    assert mailing_service.start_due(session, now=at + timedelta(minutes=1)) == [mailing.id]
    session.commit()

    assert reloaded(session, mailing).status == "sent"
    assert recipients_of(session, mailing) == Counter({c.id: 1 for c in people})


def defer_all_but(session: Session, mailing: Mailing, due: int) -> list[int]:
    """Every message of the mailing but the first `due` waits an hour (as for its send window); returns
    the ids of those waiting."""
    waiting = [m.id for m in mailing_messages(session, mailing.id)][due:]
    later = utcnow() + timedelta(hours=1)
    session.execute(
        update(Message).where(Message.id.in_(waiting)).values(next_attempt_at=later, reason="send_window")
    )
    session.commit()
    return waiting


def make_due(session: Session, message_ids: list[int]) -> None:
    session.execute(update(Message).where(Message.id.in_(message_ids)).values(next_attempt_at=utcnow()))
    session.commit()


def _sent(session: Session, mailing: Mailing) -> list[Message]:
    return [m for m in mailing_messages(session, mailing.id) if m.status in HANDED_OVER]


def test_a_collect_whose_worker_died_is_taken_up_by_the_periodic_look(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    hold_collect(monkeypatch)
    people = customers(session, 4)
    mailing = make_mailing(session, people)
    launch(session, mailing)
    tasks.every_minute.call_local()
    assert mailing_messages(session, mailing.id) == []  # collecting lately: its job is still alive

    session.execute(
        update(Mailing).where(Mailing.id == mailing.id).values(updated_at=utcnow() - timedelta(minutes=5))
    )
    session.commit()
    tasks.every_minute.call_local()

    assert recipients_of(session, mailing) == Counter({c.id: 1 for c in people})
    assert reloaded(session, mailing).status == "sent"


def test_a_cascade_counts_each_recipient_once(session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    hold_dispatch(monkeypatch)
    mailing = make_mailing(
        session,
        customers(session, 4),
        channel="sms_viber",
        template_version_id=text_template(session, "viber").id,
        sms_template_version_id=text_template(session, "sms").id,
    )
    launch(session, mailing)

    assert len(mailing_messages(session, mailing.id)) == 8  # a Viber message and its SMS leg each
    assert mailing_service.progress(session, [mailing.id])[mailing.id].recipients == 4
