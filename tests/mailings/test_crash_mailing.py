"""A mass mailing survives its worker being killed: 20,000 e-mails go to a real SMTP server on loopback
while the test SIGKILLs the real `smartcomm worker` process twice while it collects the audience and twice
while it sends, starting it again each time. At the end no address got the mailing twice, every address
got it once but for the messages (at most one per kill and dispatching thread) that were on the wire
when their worker died — the ledger marks those "unconfirmed" and never sends them again — the ledger
holds exactly one message per recipient and the mailing is "sent".

The SMTP server and the worker helpers here serve the other mailing tests with real processes too."""

from __future__ import annotations

import random
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import services
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import Envelope
from sqlalchemy import func, insert, select, update

from smartcomm.audit.actor import Actor
from smartcomm.config import config
from smartcomm.delivery.ledger import Reason, Source, Status
from smartcomm.kit.db import Database
from smartcomm.kit.time import utcnow
from smartcomm.mailings import tasks as mailing_tasks
from smartcomm.mailings.repository import WAITING
from smartcomm.mailings.schemas import MailingCreate
from smartcomm.mailings.service import mailing_service
from smartcomm.models import Customer, Mailing, Message, Segment, SegmentMembership
from tests.delivery.helpers import email_template, smtp_provider
from tests.worker.processes import PROCESS_TIMEOUT, Pauses, production_env, queue_job, stop, wait_until

RECIPIENTS = 20_000
COLLECT_KILLS = 2
SEND_KILLS = 2
ACTOR = Actor.system("tests")
MAILINGS = "smartcomm.mailings.tasks"
BATCH_COLLECTED = "mailings.batch_collected"

pytestmark = pytest.mark.slow

# --- an SMTP server that counts what each address received ---------------------------------------------


@dataclass
class Inbox:
    """An aiosmtpd handler counting the messages each recipient address received; `refuse(address)`
    returning an answer (e.g. "451 …") refuses that message at the end of its data instead."""

    received: Counter[str] = field(default_factory=Counter)
    refused: Counter[str] = field(default_factory=Counter)
    refuse: Callable[[str], str | None] = lambda address: None
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_EHLO(  # noqa: N802 (aiosmtpd's hook names)
        self, server: Any, session: Any, envelope: Envelope, hostname: str, responses: list[str]
    ) -> list[str]:
        session.host_name = hostname
        return [*responses[:-1], "250-PIPELINING", responses[-1]]

    async def handle_DATA(self, server: Any, session: Any, envelope: Envelope) -> str:  # noqa: N802
        with self.lock:
            for address in envelope.rcpt_tos:
                answer = self.refuse(address)
                if answer is not None:
                    self.refused[address] += 1
                    return answer
            for address in envelope.rcpt_tos:
                self.received[address] += 1
        return "250 2.0.0 Ok"

    def total(self) -> int:
        with self.lock:
            return sum(self.received.values())

    def snapshot(self) -> Counter[str]:
        with self.lock:
            return Counter(self.received)


@contextmanager
def smtp_inbox(inbox: Inbox | None = None) -> Iterator[tuple[int, Inbox]]:
    """An SMTP server on 127.0.0.1 (a free port) in a thread of this process."""
    handler, port = inbox or Inbox(), services.free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, handler
    finally:
        controller.stop()


# --- the audience, the mailing and the worker ------------------------------------------------------------


def bulk_segment(database: Database, count: int, prefix: str = "M") -> int:
    """`count` customers with valid e-mail addresses `<prefix>-<n>@example.com`, all members of a new
    segment since a minute ago, written in bulk; returns the segment's id."""
    entered = utcnow() - timedelta(minutes=1)
    with database.session() as session:
        rows = [
            {"external_id": f"{prefix}-{n}", "first_name": "Anna", "email": f"{prefix}-{n}@example.com",
             "email_valid": True, "time_zone": "Europe/Moscow"}
            for n in range(count)
        ]  # fmt: skip
        session.execute(insert(Customer), rows)
        segment = Segment(name=f"Everyone {prefix}", rules={}, member_count=count)
        session.add(segment)
        session.flush()
        ids = session.scalars(select(Customer.id).where(Customer.external_id.like(f"{prefix}-%")))
        members = [{"segment_id": segment.id, "customer_id": i, "entered_at": entered} for i in ids]
        session.execute(insert(SegmentMembership), members)
        session.commit()
        return segment.id


def launched_mailing(database: Database, port: int, segment_id: int, monkeypatch: pytest.MonkeyPatch) -> int:
    """An e-mail mailing to the segment through an SMTP provider on `port`, launched; its collect job is
    left for the test to queue into the worker's queue (jobs would run in this process)."""
    monkeypatch.setitem(mailing_tasks.JOBS, "mailings.collect", lambda *args: None)
    with database.session() as session:
        smtp_provider(session, port)
        version = email_template(session)
        body = {
            "channel": "email",
            "name": "Winter sale",
            "template_version_id": version.id,
            "segment_id": segment_id,
            "deliver_immediately": True,
        }
        mailing = mailing_service.create(session, ACTOR, MailingCreate.model_validate(body))
        session.commit()
        mailing_service.launch(session, ACTOR, mailing.id)
        session.commit()
        return mailing.id


class Workers:
    """`smartcomm worker` processes as a user starts them (the periodic schedule aside: the test runs its
    looks), each stopped by the end of the test whatever happens."""

    def __init__(self, log: Path) -> None:
        self.log = log
        self.started: list[subprocess.Popen[bytes]] = []

    def start(self, env: dict[str, str], threads: int = 2) -> subprocess.Popen[bytes]:
        command = [sys.executable, "-m", "smartcomm.cli.main", "worker", "--threads", str(threads)]
        with self.log.open("ab") as output:
            process = subprocess.Popen(
                [*command, "--no-periodic"], env=env, stdout=output, stderr=output, start_new_session=True
            )
        self.started.append(process)
        return process

    def stop_all(self) -> None:
        for process in self.started:
            stop(process)


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[Workers]:
    started = Workers(tmp_path / "worker.log")
    try:
        yield started
    finally:
        started.stop_all()


def periodic_look(database: Database, env: dict[str, str], mailing_id: int) -> None:
    """What the every-minute look does once a killed collect's heartbeat is old: the test ages the
    heartbeat instead of waiting two minutes, then queues the look (which also settles the mailing)."""
    aged = utcnow() - mailing_tasks.STALLED - timedelta(minutes=1)
    with database.session() as session:
        session.execute(
            update(Mailing)
            .where(Mailing.id == mailing_id, Mailing.status == "collecting")
            .values(updated_at=aged)
        )
        session.commit()
    queue_job(env, MAILINGS, "every_minute")


# --- reading the ledger ------------------------------------------------------------------------------------


def mailing_status(database: Database, mailing_id: int) -> str:
    with database.session() as session:
        return str(session.scalar(select(Mailing.status).where(Mailing.id == mailing_id)))


def ledger_count(database: Database, mailing_id: int, *statuses: str) -> int:
    statement = select(func.count()).where(
        Message.source_kind == Source.MAILING, Message.source_id == mailing_id
    )
    if statuses:
        statement = statement.where(Message.status.in_(statuses))
    with database.session() as session:
        return int(session.scalar(statement) or 0)


def unconfirmed_addresses(database: Database, mailing_id: int) -> set[str]:
    """Addresses whose message was on the wire when its worker died (sent, never sent again)."""
    statement = (
        select(Customer.email)
        .join(Message, Message.customer_id == Customer.id)
        .where(Message.source_id == mailing_id, Message.reason == Reason.UNCONFIRMED)
    )
    with database.session() as session:
        return {str(address) for address in session.scalars(statement)}


def statuses_of(database: Database, mailing_id: int) -> Counter[str]:
    statement = (
        select(Message.status, func.count())
        .where(Message.source_kind == Source.MAILING, Message.source_id == mailing_id)
        .group_by(Message.status)
    )
    with database.session() as session:
        return Counter({str(status): int(n) for status, n in session.execute(statement)})


# --- the test ----------------------------------------------------------------------------------------------


def test_a_mailing_whose_worker_is_killed_reaches_every_recipient_once(
    live_database: Database, workers: Workers, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env, pauses = production_env(live_database.url, tmp_path / "var"), Pauses(tmp_path / "pauses")
    chance = random.Random()
    segment_id = bulk_segment(live_database, RECIPIENTS)
    with smtp_inbox() as (port, inbox):
        mailing_id = launched_mailing(live_database, port, segment_id, monkeypatch)
        pauses.hold(BATCH_COLLECTED)
        worker = workers.start(env | pauses.env)
        queue_job(env, MAILINGS, "collect", mailing_id)  # as the web process does after the launch
        for kill in range(COLLECT_KILLS):
            # Collecting outruns sending by far: the worker is held after a batch (the other thread
            # sending meanwhile), then killed there or — let go — a moment later, inside the next batch.
            pauses.wait_until_reached(BATCH_COLLECTED, worker)
            (pauses.folder / f"{BATCH_COLLECTED}.reached").unlink()
            if kill % 2:
                pauses.release(BATCH_COLLECTED)
                time.sleep(chance.uniform(0.05, 0.3))
            stop(worker)  # SIGKILL
            assert mailing_status(live_database, mailing_id) == "collecting", "collected before the kill"
            if kill + 1 == COLLECT_KILLS:
                pauses.release(BATCH_COLLECTED)  # the last restart collects to the end
            else:
                pauses.hold(BATCH_COLLECTED)
            worker = workers.start(env | pauses.env)
            periodic_look(live_database, env, mailing_id)
        wait_until(lambda: mailing_status(live_database, mailing_id) == "sending", "the collect", 120)
        for _ in range(SEND_KILLS):
            goal = inbox.total() + chance.randint(100, 1500)
            wait_until(lambda: inbox.total() >= goal, "the worker to send", PROCESS_TIMEOUT)  # noqa: B023
            stop(worker)
            assert ledger_count(live_database, mailing_id, *WAITING) > 0, "the kill came after the sending"
            worker = workers.start(env)
            queue_job(env, "smartcomm.delivery.tasks", "dispatch")  # as the periodic run would
        wait_until(lambda: ledger_count(live_database, mailing_id, *WAITING) == 0, "the sending", 300)
        periodic_look(live_database, env, mailing_id)
        wait_until(lambda: mailing_status(live_database, mailing_id) == "sent", "the mailing to settle")
        time.sleep(0.2)  # answers already sent by the server are counted by its thread
        stop(worker)
        received = inbox.snapshot()

    everyone = {f"M-{n}@example.com" for n in range(RECIPIENTS)}
    unconfirmed = unconfirmed_addresses(live_database, mailing_id)
    assert max(received.values()) == 1, "an address got the mailing twice"
    assert set(received) <= everyone
    assert everyone - set(received) <= unconfirmed, "a recipient was lost"
    # Each kill may catch one message on the wire per dispatching thread of the worker.
    assert len(unconfirmed) <= (COLLECT_KILLS + SEND_KILLS) * config.worker_threads
    assert ledger_count(live_database, mailing_id) == RECIPIENTS
    assert statuses_of(live_database, mailing_id) == Counter({Status.SENT: RECIPIENTS})
