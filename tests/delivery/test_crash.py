"""Exactly once, proven by killing real workers: a worker process sends 5,000 e-mails to a real SMTP server
on loopback while the test SIGKILLs it at random moments and starts it again. At the end no message
arrived twice, every message arrived or is marked unconfirmed, and each kill left at most one unconfirmed
message (the one being handed over on the worker's one connection when it died).

And two workers at once never send a row twice: their claims are atomic."""

from __future__ import annotations

import random
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import services
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import Envelope
from sqlalchemy import func, select, update

from smartcomm.delivery.ledger import Reason, Source, Status
from smartcomm.delivery.schemas import PlanRequest
from smartcomm.delivery.service import delivery_service
from smartcomm.kit.db import Database
from smartcomm.kit.time import utcnow
from smartcomm.models import Message
from tests.delivery.helpers import email_template, smtp_provider
from tests.worker.processes import PROCESS_TIMEOUT, production_env, queue_job, stop, wait_until

MESSAGES = 5000
KILLS = 5
MESSAGE_ID = re.compile(rb"^Message-ID: <(\d+)\.", re.MULTILINE)

pytestmark = pytest.mark.slow


@dataclass
class MessageIds:
    """An SMTP handler that records the ledger id in the Message-ID of every message it takes."""

    arrived: list[int] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_EHLO(  # noqa: N802 (aiosmtpd's hook names)
        self, server: Any, session: Any, envelope: Envelope, hostname: str, responses: list[str]
    ) -> list[str]:
        session.host_name = hostname
        return [*responses[:-1], "250-PIPELINING", responses[-1]]

    async def handle_DATA(self, server: Any, session: Any, envelope: Envelope) -> str:  # noqa: N802
        found = MESSAGE_ID.search(envelope.original_content or b"")
        assert found is not None
        with self.lock:
            self.arrived.append(int(found.group(1)))
        return "250 2.0.0 Ok"


@contextmanager
def recording_server() -> Iterator[tuple[int, MessageIds]]:
    handler, port = MessageIds(), services.free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, handler
    finally:
        controller.stop()


def start_worker(env: dict[str, str], log: Path, threads: int = 1) -> subprocess.Popen[bytes]:
    """A worker with one thread: one dispatcher, one SMTP connection at a time."""
    command = [
        sys.executable,
        "-m",
        "smartcomm.cli.main",
        "worker",
        "--threads",
        str(threads),
        "--no-periodic",
    ]
    with log.open("ab") as output:
        return subprocess.Popen(command, env=env, stdout=output, stderr=output, start_new_session=True)


def plan_messages(database: Database, port: int, count: int) -> list[int]:
    """`count` e-mails to distinct addresses, due at once but not sent by this process (jobs run
    in-process in tests): planned for tomorrow, then made due."""
    with database.session() as session:
        smtp_provider(session, port)
        version = email_template(session, subject="Order {{ event.n }}")
        tomorrow = utcnow() + timedelta(days=1)
        requests = [
            PlanRequest(
                source_kind=Source.TEST,
                channel="email",
                recipient=f"person{number}@example.com",
                template_version_id=version.id,
                occurrence=str(number),
                not_before=tomorrow,
                expires_at=tomorrow + timedelta(days=1),
                options={"context": {"n": number}},
            )
            for number in range(count)
        ]
        ids = [message.id for message in delivery_service.plan(session, requests)]
        session.commit()
        session.execute(update(Message).values(next_attempt_at=utcnow()))
        session.commit()
    return ids


def unfinished(database: Database) -> int:
    with database.session() as session:
        waiting = (Status.PLANNED, Status.RENDERED, Status.QUEUED)
        return int(session.scalar(select(func.count()).where(Message.status.in_(waiting))) or 0)


def statuses(database: Database) -> dict[int, tuple[str, str | None]]:
    with database.session() as session:
        return {
            row.id: (row.status, row.reason)
            for row in session.execute(select(Message.id, Message.status, Message.reason))
        }


def test_killed_workers_never_send_an_email_twice_and_lose_none(
    live_database: Database, tmp_path: Path
) -> None:
    env = production_env(live_database.url, tmp_path / "var")
    log, chance = tmp_path / "worker.log", random.Random()
    with recording_server() as (port, server):
        ids = plan_messages(live_database, port, MESSAGES)
        # Each worker is killed once a random number of further messages arrived, so every kill falls
        # inside the sending whatever the speed of the machine, at whatever point of a batch it is.
        share = MESSAGES // (KILLS + 1)
        for _ in range(KILLS):
            worker = start_worker(env, log)
            queue_job(env, "smartcomm.delivery.tasks", "dispatch")  # as the periodic run would
            goal = len(server.arrived) + chance.randint(1, share)
            wait_until(lambda: len(server.arrived) >= goal, "the worker to send", PROCESS_TIMEOUT)  # noqa: B023
            stop(worker)  # SIGKILL
        assert unfinished(live_database) > 0, "the kills came too late to interrupt anything"
        worker = start_worker(env, log)
        queue_job(env, "smartcomm.delivery.tasks", "dispatch")
        wait_until(lambda: unfinished(live_database) == 0, "every message to be settled", 120)
        time.sleep(0.2)  # answers already sent by the server are recorded by its thread
        stop(worker)
        arrived = list(server.arrived)
    final = statuses(live_database)
    unconfirmed = {i for i, (status, reason) in final.items() if reason == Reason.UNCONFIRMED}
    assert len(arrived) == len(set(arrived)), "a message arrived twice"
    assert set(arrived) | unconfirmed == set(ids), "a message was lost"
    assert len(unconfirmed) <= KILLS
    assert {status for status, _ in final.values()} == {Status.SENT}


def test_two_workers_at_once_never_send_a_row_twice(live_database: Database, tmp_path: Path) -> None:
    env = production_env(live_database.url, tmp_path / "var")
    with recording_server() as (port, server):
        ids = plan_messages(live_database, port, 1500)
        workers = [start_worker(env, tmp_path / f"worker{n}.log", threads=2) for n in range(2)]
        try:
            for _ in range(4):  # four dispatchers, two in each process, claiming from the same rows
                queue_job(env, "smartcomm.delivery.tasks", "dispatch")
            wait_until(lambda: unfinished(live_database) == 0, "every message to be sent", 120)
        finally:
            for worker in workers:
                stop(worker)
        arrived = list(server.arrived)
    assert sorted(arrived) == sorted(ids)
    assert set(statuses(live_database).values()) == {(Status.SENT, None)}
