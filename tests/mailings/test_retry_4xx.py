"""A provider that answers "try later" (SMTP 4xx) gets the message again later, with a growing back-off,
and the recipient gets it once in the end: refused at the end of the data (a full mailbox, a busy
server) or at the recipient (greylisting), on a real SMTP server on loopback."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from aiosmtpd.smtp import Envelope
from sqlalchemy import update
from sqlalchemy.orm import Session

from smartcomm.audit.actor import Actor
from smartcomm.delivery.ledger import Reason, Status
from smartcomm.kit.time import utcnow
from smartcomm.mailings.schemas import MailingCreate
from smartcomm.mailings.service import mailing_service
from smartcomm.models import Mailing, Message
from tests.delivery.helpers import email_template, history, smtp_provider
from tests.mailings.helpers import audience_of, customers, hold_dispatch, mailing_messages, send_due
from tests.mailings.test_crash_mailing import Inbox, smtp_inbox

ACTOR = Actor.system("tests")
BUSY = "451 4.3.2 Try again later"
GREYLISTED = "450 4.7.1 Greylisted, please try again later"


class TryLater(Inbox):
    """Refuses the first `times` attempts of some addresses: at the end of the data, or at RCPT TO."""

    def __init__(self, busy: set[str], greylisted: set[str], times: int) -> None:
        super().__init__(refuse=self._busy)
        self.busy, self.greylisted, self.times = busy, greylisted, times
        self.greylisted_attempts: Counter[str] = Counter()

    def _busy(self, address: str) -> str | None:
        return BUSY if address in self.busy and self.refused[address] < self.times else None

    async def handle_RCPT(  # noqa: N802 (aiosmtpd's hook names)
        self, server: Any, session: Any, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        with self.lock:
            if address in self.greylisted and self.greylisted_attempts[address] < self.times:
                self.greylisted_attempts[address] += 1
                return GREYLISTED
        envelope.rcpt_tos.append(address)
        return "250 OK"


def test_a_message_refused_with_4xx_is_retried_and_delivered_once(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    hold_dispatch(monkeypatch)
    people = customers(session, 6)
    busy, greylisted = {str(people[1].email)}, {str(people[4].email)}
    with smtp_inbox(TryLater(busy, greylisted, times=2)) as (port, inbox):
        mailing = _launched(session, port, people)

        assert send_due() == 6
        refused = _waiting(session, mailing)
        assert {m.customer_id for m in refused} == {people[1].id, people[4].id}
        _assert_retry_after(refused, timedelta(seconds=30))
        assert send_due() == 0  # not before the retry is due

        _make_due(session, refused)
        assert send_due() == 2
        again = _waiting(session, mailing)
        _assert_retry_after(again, timedelta(minutes=1))  # the back-off doubles
        assert {m.detail for m in again} == {BUSY, GREYLISTED}

        _make_due(session, again)
        assert send_due() == 2
        received = inbox.snapshot()

    assert received == Counter({str(c.email): 1 for c in people})
    messages = mailing_messages(session, mailing.id)
    assert {(m.status, m.reason) for m in messages} == {(Status.SENT, None)}
    for message in refused:
        kinds = history(session, message.id)
        assert (kinds.count("retry"), kinds[-1]) == (2, "sent")
    assert mailing_service.settle_sending(session) == [mailing.id]


def _launched(session: Session, port: int, people: list[Any]) -> Mailing:
    smtp_provider(session, port)
    body = {
        "channel": "email",
        "name": "Sale",
        "template_version_id": email_template(session).id,
        "include_audience_ids": [audience_of(session, people).id],
    }
    mailing = mailing_service.create(session, ACTOR, MailingCreate.model_validate(body))
    session.commit()
    mailing_service.launch(session, ACTOR, mailing.id)  # collects at once (jobs run in tests)
    session.commit()
    return mailing


def _waiting(session: Session, mailing: Mailing) -> list[Message]:
    return [m for m in mailing_messages(session, mailing.id) if m.status == Status.PLANNED]


def _assert_retry_after(messages: list[Message], delay: timedelta) -> None:
    now = utcnow()
    for message in messages:
        assert message.reason == Reason.RETRY
        assert now + delay - timedelta(seconds=10) < message.next_attempt_at <= now + delay


def _make_due(session: Session, messages: list[Message]) -> None:
    """The retry's time has come."""
    ids = [m.id for m in messages]
    session.execute(update(Message).where(Message.id.in_(ids)).values(next_attempt_at=utcnow()))
    session.commit()
