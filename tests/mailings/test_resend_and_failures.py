"""Resending to those not reached, a mailing that pauses itself after provider failures in a row, test
sends and watchers' copies — against a real SMTP server where it matters: each recipient gets one message."""

from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from smartcomm.audit.actor import Actor
from smartcomm.delivery.ledger import Reason, Source, Status
from smartcomm.delivery.watchers import WatcherGroupIn, watcher_service
from smartcomm.kit.errors import Conflict, InvalidInput
from smartcomm.mailings.schemas import TestSendIn as SendTest
from smartcomm.mailings.service import mailing_service
from smartcomm.models import Customer, Mailing, Message, MessageContent
from tests.channels.smtp_server import smtp_server
from tests.delivery.helpers import smtp_provider
from tests.mailings.helpers import (
    customers,
    hold_dispatch,
    mailing_messages,
    make_mailing,
    send_due,
)

ACTOR = Actor.system("tests")


def reloaded(session: Session, mailing_id: int) -> Mailing:
    session.expire_all()
    found = session.get(Mailing, mailing_id)
    assert found is not None
    return found


def sent_and_settled(session: Session, mailing: Mailing) -> Mailing:
    mailing_service.launch(session, ACTOR, mailing.id)
    session.commit()
    send_due()
    mailing_service.settle_sending(session)
    session.commit()
    return reloaded(session, mailing.id)


def test_resend_goes_only_to_those_not_reached_and_only_once(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    hold_dispatch(monkeypatch)
    people = customers(session, 10)
    mailing = sent_and_settled(session, make_mailing(session, people))
    assert mailing.status == "sent"
    lost = [m.id for m in mailing_messages(session, mailing.id)[:3]]
    session.execute(
        update(Message)
        .where(Message.id.in_(lost))
        .values(status=Status.FAILED, reason=Reason.PROVIDER_REFUSED)
    )
    session.commit()
    not_reached = {m.customer_id for m in mailing_messages(session, mailing.id) if m.id in lost}

    mailing_service.resend_not_reached(session, ACTOR, mailing.id)
    session.commit()

    new = mailing_messages(session, mailing.id)[10:]
    assert {m.customer_id for m in new} == not_reached and len(new) == 3
    send_due()
    mailing_service.settle_sending(session)
    session.commit()
    again = reloaded(session, mailing.id)
    assert (again.status, again.resend_round) == ("sent", 1)

    mailing_service.resend_not_reached(session, ACTOR, mailing.id)  # everyone is reached now
    session.commit()
    send_due()
    assert len(mailing_messages(session, mailing.id)) == 13
    reached = Counter(
        m.customer_id for m in mailing_messages(session, mailing.id) if m.status != Status.FAILED
    )
    assert reached == Counter({c.id: 1 for c in people})


def test_only_a_sent_mailing_can_be_resent(session: Session) -> None:
    mailing = make_mailing(session, customers(session, 2))
    with pytest.raises(Conflict):
        mailing_service.resend_not_reached(session, ACTOR, mailing.id)
    session.rollback()
    assert reloaded(session, mailing.id).resend_round == 0


def test_a_mailing_pauses_itself_after_provider_failures_in_a_row_and_resumes_without_duplicates(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    hold_dispatch(monkeypatch)
    people = customers(session, 12)
    for number, customer in enumerate(people):  # the server answers 450 "greylisted" to these
        customer.email = f"greylisted@d{number}.example"
    session.commit()
    mailing = make_mailing(session, people, failure_limit=5)
    with smtp_server() as server:
        smtp_provider(session, server.port)
        session.commit()
        mailing_service.launch(session, ACTOR, mailing.id)
        session.commit()
        send_due()

        paused = reloaded(session, mailing.id)
        assert paused.status == "paused"
        assert paused.pause_reason is not None and "5 provider failures" in paused.pause_reason
        assert not server.recorder.messages
        for number, customer in enumerate(session.scalars(select(Customer).order_by(Customer.id))):
            customer.email = f"good{number}@example.com"
        session.commit()

        mailing_service.resume(session, ACTOR, mailing.id)
        session.commit()
        session.execute(update(Message).values(next_attempt_at=Message.created_at))  # retries due now
        session.commit()
        send_due()

        received = Counter(rcpt for message in server.recorder.messages for rcpt in message.rcpt_tos)
    assert sorted(received.values()) == [1] * 12
    assert reloaded(session, mailing.id).failures_in_row == 0


def test_a_test_send_goes_to_the_tester_rendered_for_the_chosen_customer(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    hold_dispatch(monkeypatch)
    people = customers(session, 2, first_name="Olga")
    mailing = make_mailing(session, people)

    message = mailing_service.test_send(
        session, ACTOR, mailing.id, SendTest(recipient="tester@shop.example", customer_id=people[0].id)
    )
    session.commit()
    send_due()

    session.expire_all()
    sent = session.get(Message, message.id)
    assert sent is not None and (sent.source_kind, sent.recipient) == (Source.TEST, "tester@shop.example")
    assert sent.status in (Status.SENT, Status.DELIVERED)
    content = session.get(MessageContent, message.id)
    assert content is not None and content.content is not None
    assert content.content["subject"] == "Hello Olga"
    assert mailing_messages(session, mailing.id) == []  # the mailing itself sent nothing


def test_a_test_send_to_a_bad_address_names_the_field_and_plans_nothing(session: Session) -> None:
    mailing = make_mailing(session, customers(session, 1))
    with pytest.raises(InvalidInput) as raised:
        mailing_service.test_send(session, ACTOR, mailing.id, SendTest(recipient="not an address"))
    session.rollback()
    assert [e.field for e in raised.value.errors] == ["recipient"]
    assert session.scalar(select(Message.id).where(Message.source_kind == Source.TEST)) is None


def test_watchers_get_one_copy_of_the_mailing(session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    hold_dispatch(monkeypatch)
    group = watcher_service.create(
        session, ACTOR, WatcherGroupIn(name="Managers", emails="boss@shop.example\nlead@shop.example")
    )
    session.commit()
    mailing = make_mailing(session, customers(session, 5), watcher_group_ids=[group.id])
    mailing_service.launch(session, ACTOR, mailing.id)
    session.commit()

    copies = list(session.scalars(select(Message).where(Message.source_kind == Source.WATCHER)))
    assert sorted(m.recipient or "" for m in copies) == ["boss@shop.example", "lead@shop.example"]
