"""The demo's history of communication: three months of mailings sent (to the sandbox) through the real
code, their recipients' opens, clicks, unsubscribes and purchases, two mailings ahead — and nothing made
twice."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from smartcomm.attribution.service import attribution_service
from smartcomm.audit.actor import Actor
from smartcomm.delivery.ledger import Source, Status
from smartcomm.demo.communications import add_communications
from smartcomm.demo.communications.plans import AHEAD, MAILINGS
from smartcomm.models import (
    AttributedReceipt,
    Audience,
    Mailing,
    MailingControlMember,
    Message,
    MessageEvent,
    MessageTemplate,
    Receipt,
    UnsubscribeRecord,
)
from tests.demo.conftest import AS_OF, count, make_demo

ACTOR = Actor.system("first run")
NOW = datetime(AS_OF.year, AS_OF.month, AS_OF.day, 9, tzinfo=UTC)
ZONE = ZoneInfo("Europe/Moscow")


@pytest.fixture
def history(session: Session) -> Iterator[int]:
    with time_machine.travel(NOW, tick=False):
        make_demo(session, customers=400)
        yield add_communications(session, ACTOR)


def mailings(session: Session) -> dict[str, Mailing]:
    return {m.name: m for m in session.scalars(select(Mailing))}


def messages(session: Session, *where: Any) -> list[Message]:
    statement = select(Message).where(Message.source_kind == Source.MAILING, *where).order_by(Message.id)
    return list(session.scalars(statement))


def share(part: int, whole: int) -> float:
    assert whole > 0
    return part / whole


def test_the_mailings_went_in_the_last_three_months_and_two_are_ahead(session: Session, history: int) -> None:
    found = mailings(session)
    assert history == len(found) == len(MAILINGS) + len(AHEAD) == 14
    sent = [found[plan.name] for plan in MAILINGS]
    assert {m.status for m in sent} == {"sent"}
    for mailing in sent:
        assert mailing.started_at is not None and mailing.finished_at is not None
        assert NOW - timedelta(days=91) < mailing.started_at < mailing.finished_at < NOW
    scheduled, draft = found["Christmas gifts"], found["New Year greetings"]
    assert scheduled.status == "scheduled" and scheduled.scheduled_at is not None
    assert timedelta(days=2) < scheduled.scheduled_at - NOW < timedelta(days=4)
    assert draft.status == "draft" and draft.scheduled_at is not None and draft.scheduled_at > NOW
    assert found["New winter collection"].winner_variant is not None
    assert found["New winter collection"].winner_reason is not None


def test_every_message_looks_sent_by_the_sandbox_and_none_waits(session: Session, history: int) -> None:
    found = messages(session)
    statuses = Counter(m.status for m in found)
    assert not statuses.keys() & {Status.PLANNED, Status.RENDERED, Status.QUEUED}
    handed = [m for m in found if m.handed_over_at is not None]
    assert len(handed) > 1000
    assert all(m.is_sandbox and m.provider_id is None and m.sent_at is not None for m in handed)
    assert all(m.sent_at is not None and m.sent_at < NOW for m in handed)
    assert all(m.owner is None for m in found)


def test_each_recipient_has_one_message_per_mailing_and_the_control_group_none(
    session: Session, history: int
) -> None:
    first_legs = (
        select(Message.source_id, Message.customer_id, func.count())
        .where(Message.source_kind == Source.MAILING, Message.cascade_of.is_(None))
        .group_by(Message.source_id, Message.customer_id)
    )
    per_recipient = [row[2] for row in session.execute(first_legs)]
    assert per_recipient and set(per_recipient) == {1}
    control = count(session, MailingControlMember)
    assert control > 0
    messaged = (
        select(func.count())
        .select_from(MailingControlMember)
        .join(
            Message,
            and_(
                Message.source_kind == Source.MAILING,
                Message.source_id == MailingControlMember.mailing_id,
                Message.customer_id == MailingControlMember.customer_id,
            ),
        )
    )
    assert session.scalar(messaged) == 0


def test_deliveries_opens_and_clicks_fall_in_realistic_ranges(session: Session, history: int) -> None:
    email = [m for m in messages(session, Message.channel == "email") if m.sent_at is not None]
    delivered = [m for m in email if m.delivered_at is not None]
    bounced = [m for m in email if m.status == Status.FAILED and m.reason == "bounced"]
    assert 0.94 <= share(len(delivered), len(email)) <= 0.99
    assert 0.005 <= share(len(bounced), len(email)) <= 0.03
    assert 0.17 <= share(sum(m.opened_at is not None for m in delivered), len(delivered)) <= 0.32
    assert 0.015 <= share(sum(m.clicked_at is not None for m in delivered), len(delivered)) <= 0.06
    assert 0.07 <= share(sum(m.machine_opens > 0 for m in delivered), len(delivered)) <= 0.13
    assert sum(m.opens for m in delivered) > sum(m.opened_at is not None for m in delivered)  # some twice
    sms = [m for m in messages(session, Message.channel == "sms") if m.sent_at is not None]
    assert 0.9 <= share(sum(m.delivered_at is not None for m in sms), len(sms)) <= 0.98
    push = [m for m in messages(session, Message.channel == "push") if m.sent_at is not None]
    push_delivered = [m for m in push if m.delivered_at is not None]
    assert 0.85 <= share(len(push_delivered), len(push)) <= 0.94
    assert 0.04 <= share(sum(m.opened_at is not None for m in push_delivered), len(push_delivered)) <= 0.12


def test_machine_opens_are_flagged_and_people_open_by_day(session: Session, history: int) -> None:
    opens = session.execute(
        select(MessageEvent.occurred_at, MessageEvent.is_machine, MessageEvent.data)
        .join(Message, Message.id == MessageEvent.message_id)
        .where(Message.source_kind == Source.MAILING, Message.channel == "email")
        .where(MessageEvent.kind == "opened")
    ).all()
    machines = [data for _, machine, data in opens if machine]
    assert machines and {data["machine"] for data in machines} == {"privacy_proxy"}
    hours = Counter(_local(at).hour for at, machine, _ in opens if not machine)
    night = sum(hours[hour] for hour in range(1, 6))
    assert night < 0.05 * sum(hours.values())
    assert all(at < NOW for at, _, _ in opens)


def test_unsubscribes_and_complaints_are_real_opt_outs_in_the_past(session: Session, history: int) -> None:
    records = list(session.scalars(select(UnsubscribeRecord)))
    assert records and all(r.message_id is not None and r.created_at < NOW for r in records)
    assert {r.source for r in records} <= {"page", "one_click", "complaint"}
    events = session.scalars(select(MessageEvent).where(MessageEvent.kind == "unsubscribed")).all()
    assert len(events) == len(records) and all(_utc(e.occurred_at) < NOW for e in events)


def test_openers_bought_and_the_receipts_are_attributed_as_the_attribution_code_computes(
    session: Session, history: int
) -> None:
    after = list(session.scalars(select(Receipt).where(Receipt.number.like("%-M%"))))
    assert after and all(_utc(r.purchased_at) < NOW for r in after)
    credited = session.scalars(
        select(AttributedReceipt).where(
            AttributedReceipt.credited.is_(True), AttributedReceipt.source_kind == Source.MAILING
        )
    ).all()
    assert credited
    before = _pairs(session)
    with time_machine.travel(NOW, tick=False):
        attribution_service.rebuild(session, NOW - timedelta(days=120), NOW)
    assert _pairs(session) == before


def test_a_second_run_adds_nothing(session: Session, history: int) -> None:
    models = (Mailing, Message, MessageEvent, Receipt, Audience, MessageTemplate, UnsubscribeRecord)
    before = [count(session, model) for model in models]
    with time_machine.travel(NOW + timedelta(hours=1), tick=False):
        again = add_communications(session, ACTOR)
    assert again == history
    assert [count(session, model) for model in models] == before


def _pairs(session: Session) -> list[tuple[Any, ...]]:
    statement = select(
        AttributedReceipt.receipt_id,
        AttributedReceipt.message_id,
        AttributedReceipt.credited,
        AttributedReceipt.amount,
    ).order_by(AttributedReceipt.receipt_id, AttributedReceipt.message_id)
    return [tuple(row) for row in session.execute(statement)]


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _local(value: datetime) -> datetime:
    return _utc(value).astimezone(ZONE)
