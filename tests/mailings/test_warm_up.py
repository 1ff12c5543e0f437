"""IP warm-up on a real database: a mailing sends exactly the day's allowance (counting the e-mails sent
earlier that day), engaged readers first, the rest wait for the next project day with the reason in the
report, and transactional e-mail is never held back."""

from __future__ import annotations

import itertools
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session

from smartcomm.audit.actor import Actor
from smartcomm.channels.email.warm_up import WarmUpSettings, project_day
from smartcomm.delivery.ledger import HANDED_OVER, Reason, Source, Status
from smartcomm.delivery.schemas import PlanRequest
from smartcomm.delivery.service import delivery_service
from smartcomm.kit.time import ensure_utc, utcnow
from smartcomm.mailings.reports import mailing_report_service
from smartcomm.mailings.service import mailing_service
from smartcomm.models import Customer, Message
from smartcomm.settings.service import settings_service
from tests.delivery.helpers import email_template
from tests.mailings.helpers import customers, hold_dispatch, mailing_messages, make_mailing, send_due

ACTOR = Actor.system("tests")
ZONE = "Europe/Moscow"  # the project's time zone by default
_keys = itertools.count(1)


def past_message(session: Session, customer: Customer | None, **values: Any) -> Message:
    """An e-mail of another communication, as the ledger keeps it."""
    now = utcnow()
    fields: dict[str, Any] = {
        "idempotency_key": f"warm-{next(_keys)}",
        "source_kind": Source.TRANSACTIONAL,
        "customer_id": customer.id if customer else None,
        "channel": "email",
        "status": Status.SENT,
        "recipient": f"past{next(_keys)}@example.com",
        "created_at": now - timedelta(days=2),
        "next_attempt_at": now - timedelta(days=2),
        "handed_over_at": now - timedelta(days=2),
        "sent_at": now - timedelta(days=2),
    }
    message = Message(**(fields | values))
    session.add(message)
    session.flush()
    return message


def warm_up(session: Session, schedule: list[int], enabled: bool = True) -> None:
    today = project_day(utcnow(), ZONE)[0]
    values = {"enabled": enabled, "start_date": today, "schedule": schedule}
    settings_service.update(session, ACTOR, WarmUpSettings, values)
    session.commit()


@pytest.fixture
def people(session: Session) -> list[Customer]:
    """Six customers: the 6th clicked yesterday, the 4th opened ten days ago, the 2nd 100 days ago (no
    longer counts as engaged); one unrelated e-mail went out earlier today."""
    found = customers(session, 6)
    now = utcnow()
    past_message(session, found[5], opened_at=now - timedelta(days=1), clicked_at=now - timedelta(days=1))
    past_message(session, found[3], opened_at=now - timedelta(days=10))
    past_message(session, found[1], opened_at=now - timedelta(days=100))
    past_message(session, None, handed_over_at=project_day(now, ZONE)[1])
    session.commit()
    return found


def launch_and_send(session: Session, people: list[Customer]) -> list[Message]:
    mailing = make_mailing(session, people)
    mailing_service.launch(session, ACTOR, mailing.id)
    session.commit()
    send_due()
    return mailing_messages(session, mailing.id)


def test_a_mailing_sends_the_days_allowance_engaged_readers_first_and_the_rest_wait(
    session: Session, people: list[Customer], monkeypatch: pytest.MonkeyPatch
) -> None:
    hold_dispatch(monkeypatch)
    warm_up(session, [4, 100])
    messages = launch_and_send(session, people)

    # Planned (and so sent) most engaged first: the click of yesterday, the open of ten days ago.
    assert [m.customer_id for m in messages] == [people[i].id for i in (5, 3, 0, 1, 2, 4)]
    sent = [m.customer_id for m in messages if m.status in HANDED_OVER]
    assert sent == [people[5].id, people[3].id, people[0].id]  # 4 allowed, 1 went out earlier today
    waiting = [m for m in messages if m.status == Status.PLANNED]
    assert len(waiting) == 3
    next_day = project_day(utcnow(), ZONE)[2]
    later = next_day + timedelta(minutes=1)  # none of them engaged: after the engaged ones
    assert {(m.reason, ensure_utc(m.next_attempt_at)) for m in waiting} == {(Reason.WARM_UP, later)}

    report = mailing_report_service.report(session, messages[0].source_id or 0)
    assert report.waiting == {"warm_up": 3}
    assert report.buckets["good_recipients"] == 6


def test_engaged_readers_deferred_by_warm_up_are_due_first_the_next_day(
    session: Session, people: list[Customer], monkeypatch: pytest.MonkeyPatch
) -> None:
    hold_dispatch(monkeypatch)
    warm_up(session, [2])
    messages = launch_and_send(session, people)
    next_day = project_day(utcnow(), ZONE)[2]
    due = {m.customer_id: ensure_utc(m.next_attempt_at) for m in messages if m.status == Status.PLANNED}
    later = next_day + timedelta(minutes=1)
    assert due == {people[3].id: next_day} | {people[i].id: later for i in (0, 1, 2, 4)}


def test_transactional_e_mail_goes_when_the_allowance_is_used_up(
    session: Session, people: list[Customer], monkeypatch: pytest.MonkeyPatch
) -> None:
    hold_dispatch(monkeypatch)
    warm_up(session, [2])
    launch_and_send(session, people)
    request = PlanRequest(
        source_kind=Source.TRANSACTIONAL,
        channel="email",
        customer_id=people[4].id,
        occurrence="order-1",
        template_version_id=email_template(session).id,
    )
    [message] = delivery_service.plan(session, [request])
    session.commit()
    send_due()
    session.expire_all()
    assert session.get(Message, message.id).status in HANDED_OVER  # type: ignore[union-attr]


def test_without_warm_up_the_audience_goes_in_its_own_order_at_once(
    session: Session, people: list[Customer], monkeypatch: pytest.MonkeyPatch
) -> None:
    hold_dispatch(monkeypatch)
    warm_up(session, [1], enabled=False)
    messages = launch_and_send(session, people)
    assert [m.customer_id for m in messages] == [c.id for c in people]
    assert all(m.status in HANDED_OVER for m in messages)
