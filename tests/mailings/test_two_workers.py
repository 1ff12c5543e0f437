"""Two worker processes on PostgreSQL share one mailing without overlap: both claim its messages at once
(`FOR UPDATE SKIP LOCKED`), every recipient gets the mailing exactly once, and each worker sent part of
it. (SQLite has one writer: a second worker adds nothing there, so this runs on PostgreSQL only.)"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import select

from smartcomm.delivery.ledger import Source, Status
from smartcomm.kit.db import Database
from smartcomm.kit.leases import Owner
from smartcomm.models import Message
from tests.mailings.test_crash_mailing import (
    MAILINGS,
    Workers,
    bulk_segment,
    launched_mailing,
    ledger_count,
    mailing_status,
    periodic_look,
    smtp_inbox,
    statuses_of,
    workers,  # noqa: F401 (the fixture)
)
from tests.worker.processes import production_env, queue_job, wait_until

RECIPIENTS = 4000
DISPATCHERS = 4  # two threads in each worker process

pytestmark = pytest.mark.slow


@contextmanager
def claiming_processes(database: Database) -> Iterator[set[int]]:
    """The ids of the processes seen owning the mailing's claimed messages (a look every 20 ms)."""
    seen: set[int] = set()
    done = threading.Event()
    statement = (
        select(Message.owner)
        .distinct()
        .where(Message.source_kind == Source.MAILING, Message.status.in_((Status.RENDERED, Status.QUEUED)))
    )

    def watch() -> None:
        while not done.wait(0.02):
            with database.session() as session:
                owners = [Owner.parse(text) for text in session.scalars(statement)]
            seen.update(owner.pid for owner in owners if owner is not None)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        yield seen
    finally:
        done.set()
        watcher.join(timeout=5)


def test_two_workers_share_a_mailing_and_send_each_message_once(
    backend: str, live_database: Database, workers: Workers, tmp_path: Path,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    if backend != "postgres":
        pytest.skip("two workers share the sending on PostgreSQL (SQLite has one writer)")
    env = production_env(live_database.url, tmp_path / "var")
    segment_id = bulk_segment(live_database, RECIPIENTS)
    with smtp_inbox() as (port, inbox), claiming_processes(live_database) as owners:
        mailing_id = launched_mailing(live_database, port, segment_id, monkeypatch)
        started = [workers.start(env), workers.start(env)]
        queue_job(env, MAILINGS, "collect", mailing_id)
        for _ in range(DISPATCHERS):  # every dispatcher of both processes claims from the same rows
            queue_job(env, "smartcomm.delivery.tasks", "dispatch")
        wait_until(lambda: mailing_status(live_database, mailing_id) != "collecting", "the collect", 120)
        wait_until(lambda: inbox.total() >= RECIPIENTS, "every message to arrive", 150)
        periodic_look(live_database, env, mailing_id)
        wait_until(lambda: mailing_status(live_database, mailing_id) == "sent", "the mailing to settle")
        received = inbox.snapshot()

    assert received == Counter({f"M-{n}@example.com": 1 for n in range(RECIPIENTS)})
    assert ledger_count(live_database, mailing_id) == RECIPIENTS
    assert statuses_of(live_database, mailing_id) == Counter({Status.SENT: RECIPIENTS})
    assert owners == {process.pid for process in started}, "one worker did all the sending"
