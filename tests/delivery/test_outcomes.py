"""What the ledger records for each answer of a real SMTP server on loopback: accepted → sent with the
server's id; 4xx → retried after a back-off, and expired at the end of the lifetime; 5xx "user unknown" →
failed with the server's words and the address marked invalid; an answer that never comes → sent,
unconfirmed, never sent again."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy.orm import Session

from smartcomm.delivery.dispatch import Dispatcher, retry_delay
from smartcomm.delivery.ledger import Reason, Status
from smartcomm.delivery.service import delivery_service
from smartcomm.models import Customer
from tests.channels.smtp_server import SmtpServer, smtp_server
from tests.delivery.helpers import (
    add_push_token,
    email_template,
    history,
    make_customer,
    reload,
    request_for,
    smtp_provider,
    text_template,
)

NOON = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def server(session: Session) -> Iterator[SmtpServer]:
    with smtp_server() as running:
        smtp_provider(session, running.port)
        session.commit()
        yield running


@time_machine.travel(NOON, tick=True)
def test_an_accepted_email_is_sent_with_the_servers_queue_id(session: Session, server: SmtpServer) -> None:
    customer = make_customer(session, email="olga@example.com")
    message = delivery_service.plan(session, [request_for(customer, email_template(session))])[0]
    session.commit()
    sent = reload(session, message)
    assert (sent.status, sent.provider_message_id, sent.is_sandbox) == (Status.SENT, "Q00001", False)
    assert sent.handed_over_at is not None and sent.attempts == 1
    assert [m.rcpt_tos for m in server.recorder.messages] == [["olga@example.com"]]
    assert f"Message-ID: <{sent.id}.".encode() in server.recorder.messages[0].data
    assert history(session, sent.id) == ["planned", "sent"]


@time_machine.travel(NOON, tick=False)
def test_a_temporary_refusal_is_retried_with_back_off_until_the_lifetime_ends(
    session: Session, server: SmtpServer
) -> None:
    customer = make_customer(session, email="greylisted@example.com")
    request = request_for(customer, email_template(session), expires_at=NOON + timedelta(minutes=2))
    message = delivery_service.plan(session, [request])[0]
    session.commit()
    waiting = reload(session, message)
    assert (waiting.status, waiting.reason, waiting.attempts) == (Status.PLANNED, Reason.RETRY, 1)
    assert waiting.detail is not None and waiting.detail.startswith("450 4.2.0")
    assert waiting.next_attempt_at == NOON + retry_delay(1, None)
    with time_machine.travel(waiting.next_attempt_at, tick=False):
        Dispatcher().run()
    again = reload(session, message)
    assert (again.status, again.attempts) == (Status.PLANNED, 2)
    with time_machine.travel(again.next_attempt_at, tick=False):
        Dispatcher().run()  # the next back-off would pass the lifetime
    expired = reload(session, message)
    assert (expired.status, expired.reason) == (Status.EXPIRED, Reason.EXPIRED)
    assert history(session, message.id) == ["planned", "retry", "retry", "expired"]
    assert server.recorder.messages == []


@time_machine.travel(NOON, tick=True)
def test_an_unknown_user_fails_with_the_servers_words_and_the_address_is_marked_invalid(
    session: Session, server: SmtpServer
) -> None:
    customer = make_customer(session, email="unknown@example.com")
    message = delivery_service.plan(session, [request_for(customer, email_template(session))])[0]
    session.commit()
    failed = reload(session, message)
    assert (failed.status, failed.reason) == (Status.FAILED, Reason.BOUNCED)
    assert failed.detail is not None and "550 5.1.1" in failed.detail and "User unknown" in failed.detail
    refreshed = session.get(Customer, customer.id)
    assert refreshed is not None and refreshed.email_valid is False
    again = delivery_service.plan(session, [request_for(customer, email_template(session), occurrence="2")])[
        0
    ]
    assert (again.status, again.reason) == (Status.SUPPRESSED, Reason.INVALID_ADDRESS)


@time_machine.travel(NOON, tick=True)
def test_a_message_whose_answer_never_came_is_unconfirmed_and_never_sent_again(
    session: Session, server: SmtpServer
) -> None:
    customer = make_customer(session, email="vanish@example.com")
    message = delivery_service.plan(session, [request_for(customer, email_template(session))])[0]
    session.commit()
    unconfirmed = reload(session, message)
    assert (unconfirmed.status, unconfirmed.reason) == (Status.SENT, Reason.UNCONFIRMED)
    assert Dispatcher().run() == 0
    assert len(server.recorder.messages) == 1


@time_machine.travel(NOON, tick=True)
def test_a_dead_push_token_is_marked_invalid_and_the_next_push_finds_none(session: Session) -> None:
    customer = make_customer(session)
    token = add_push_token(session, customer, "device-token.bounce.example")  # the sandbox refuses it
    push = text_template(session, "push")
    message = delivery_service.plan(session, [request_for(customer, push)])[0]
    session.commit()
    failed = reload(session, message)
    assert (failed.status, failed.reason, failed.recipient) == (Status.FAILED, Reason.BOUNCED, token.token)
    session.refresh(token)
    assert token.is_valid is False
    again = delivery_service.plan(session, [request_for(customer, push, occurrence="2")])[0]
    assert (again.status, again.reason) == (Status.SUPPRESSED, Reason.NO_PUSH_TOKEN)
