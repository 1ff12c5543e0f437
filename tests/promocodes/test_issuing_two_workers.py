"""Two worker processes on PostgreSQL send one mailing whose e-mail issues a promo code: they render at the
same time and draw from the same group, yet every recipient gets one code of their own and no code goes
to two people. (SQLite has one writer, so this runs on PostgreSQL only.)"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.smtp import Envelope
from sqlalchemy import insert, select

from smartcomm.kit.db import Database
from smartcomm.mailings import tasks as mailing_tasks
from smartcomm.mailings.schemas import MailingCreate
from smartcomm.mailings.service import mailing_service
from smartcomm.models import Customer, PromoCode, PromoCodeGroup
from tests.delivery.helpers import email_template, smtp_provider
from tests.mailings.test_crash_mailing import (
    ACTOR,
    MAILINGS,
    Inbox,
    Workers,
    bulk_segment,
    mailing_status,
    periodic_look,
    smtp_inbox,
    workers,  # noqa: F401 (the fixture)
)
from tests.worker.processes import production_env, queue_job, wait_until

SUBJECT = re.compile(rb"^Subject: (.*)$", re.MULTILINE)
RECIPIENTS = 1500
CODES = 1800
DISPATCHERS = 4

pytestmark = pytest.mark.slow


@dataclass
class SubjectInbox(Inbox):
    """The inbox that also keeps the subject each address received."""

    subjects: dict[str, str] = field(default_factory=dict)

    async def handle_DATA(self, server: Any, session: Any, envelope: Envelope) -> str:  # noqa: N802
        found = SUBJECT.search(envelope.original_content or b"")
        with self.lock:
            for address in envelope.rcpt_tos:
                self.subjects[address] = found.group(1).decode().strip() if found else ""
        return await super().handle_DATA(server, session, envelope)


def promo_mailing(database: Database, port: int, segment_id: int, monkeypatch: pytest.MonkeyPatch) -> int:
    """A launched e-mail mailing whose subject issues a code of group WINTER (CODES codes in it)."""
    monkeypatch.setitem(mailing_tasks.JOBS, "mailings.collect", lambda *args: None)
    with database.session() as session:
        group = PromoCodeGroup(code="WINTER", name="Winter")
        session.add(group)
        session.flush()
        session.execute(
            insert(PromoCode), [{"group_id": group.id, "code": f"W-{n:05d}"} for n in range(CODES)]
        )
        session.commit()  # a template is checked against the groups that exist
        smtp_provider(session, port)
        version = email_template(session, "Your code {{ client.promocode('WINTER') }}")
        body = {"channel": "email", "name": "Winter codes", "template_version_id": version.id,
                "segment_id": segment_id, "deliver_immediately": True}  # fmt: skip
        mailing = mailing_service.create(session, ACTOR, MailingCreate.model_validate(body))
        session.commit()
        mailing_service.launch(session, ACTOR, mailing.id)
        session.commit()
        return mailing.id


def test_two_workers_issue_one_distinct_code_to_each_recipient(
    backend: str, live_database: Database, workers: Workers, tmp_path: Path,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    if backend != "postgres":
        pytest.skip("two workers send at once on PostgreSQL (SQLite has one writer)")
    env = production_env(live_database.url, tmp_path / "var")
    segment_id = bulk_segment(live_database, RECIPIENTS, prefix="P")
    with smtp_inbox(SubjectInbox()) as (port, inbox):
        mailing_id = promo_mailing(live_database, port, segment_id, monkeypatch)
        workers.start(env), workers.start(env)
        queue_job(env, MAILINGS, "collect", mailing_id)
        for _ in range(DISPATCHERS):
            queue_job(env, "smartcomm.delivery.tasks", "dispatch")
        wait_until(lambda: inbox.total() >= RECIPIENTS, "every message to arrive", 180)
        periodic_look(live_database, env, mailing_id)
        wait_until(lambda: mailing_status(live_database, mailing_id) == "sent", "the mailing to settle")

    with live_database.session() as session:
        codes = session.execute(
            select(PromoCode.code, Customer.email, PromoCode.message_id)
            .join(Customer, Customer.id == PromoCode.customer_id)
            .where(PromoCode.status == "issued")
        ).all()
    assert len(codes) == RECIPIENTS
    assert len({email for _, email, _ in codes}) == RECIPIENTS  # one code per recipient
    assert Counter(message for _, _, message in codes).most_common(1)[0][1] == 1
    assert inbox.snapshot() == Counter({email: 1 for _, email, _ in codes})
    assert inbox.subjects == {email: f"Your code {code}" for code, email, _ in codes}
