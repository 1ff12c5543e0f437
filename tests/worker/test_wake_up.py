"""An idle worker of the embedded queue starts a job as soon as it is queued, woken by the enqueue."""

from __future__ import annotations

import socket
import time
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from smartcomm.kit.db import Database
from smartcomm.kit.jobs import Doorbell
from smartcomm.models import AuditEntry
from tests.factories import make_user
from tests.worker.processes import production_env, queue_job, start_worker, stop, wait_until

# The worker's own look at the queue is this far away: a job that runs sooner was woken by its enqueue.
QUEUE_WAIT_SECONDS = 120
IDLE_SECONDS = 4  # Huey's polling back-off would have grown to about a second by now


def expiry_entry(database: Database) -> AuditEntry | None:
    with database.session() as session:
        return session.scalars(select(AuditEntry).where(AuditEntry.action == "expire")).one_or_none()


def test_an_idle_worker_runs_a_queued_job_at_once(live_database: Database, tmp_path: Path) -> None:
    var_dir = tmp_path / "var"
    env = production_env(live_database.url, var_dir, SMARTCOMM_QUEUE_WAIT_SECONDS=str(QUEUE_WAIT_SECONDS))
    with live_database.session() as session:
        make_user(session, expires_on=date.today() - timedelta(days=1))
    worker = start_worker(env, tmp_path / "worker.log")
    try:
        wait_until(lambda: list((var_dir / "wake").glob("*.sock")), "the worker's doorbell")
        time.sleep(IDLE_SECONDS)
        assert expiry_entry(live_database) is None

        queued_at = time.time()
        queue_job(env, "smartcomm.auth.tasks", "expire_users")
        entry = wait_until(lambda: expiry_entry(live_database), "the job", timeout=QUEUE_WAIT_SECONDS / 2)
        # Generous: the producer's own start is included. Without the doorbell the job would wait for the
        # worker's next look at the queue, minutes away.
        assert entry.occurred_at.timestamp() - queued_at < QUEUE_WAIT_SECONDS / 4
    finally:
        stop(worker)


def test_a_ring_wakes_a_waiting_process_and_forgets_the_sockets_of_gone_ones(tmp_path: Path) -> None:
    folder = tmp_path / ("long-folder-name-" * 8) / "wake"  # beyond a Unix socket address's 107 bytes
    waiting = Doorbell(folder)
    assert not waiting.wait(0.01)  # binds its socket on the first wait
    gone = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    gone.bind(str(tmp_path / "gone.sock"))
    gone.close()
    (tmp_path / "gone.sock").rename(folder / "999999-gone.sock")

    Doorbell(folder).ring()

    assert waiting.wait(5)
    assert not waiting.wait(0.01)  # every ring so far was taken at once
    assert sorted(path.name for path in folder.iterdir()) == [waiting.path.name]  # type: ignore[union-attr]


@pytest.mark.parametrize("rings", [0, 1, 3])
def test_a_doorbell_waits_only_for_its_timeout_when_nobody_rings(tmp_path: Path, rings: int) -> None:
    doorbell = Doorbell(tmp_path / "wake")
    doorbell.wait(0.01)
    for _ in range(rings):
        Doorbell(tmp_path / "wake").ring()
    assert doorbell.wait(0.01) is (rings > 0)
