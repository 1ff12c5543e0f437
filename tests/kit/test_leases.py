"""Lease owners: who runs a job, whether that process still exists, and the heartbeat thread."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from datetime import timedelta

import pytest

from smartcomm.config import config
from smartcomm.kit.leases import Heartbeat, LeaseLost, Owner, is_gone, process_started, this_process
from smartcomm.kit.time import utcnow

HOST = socket.gethostname()


def finished_process() -> int:
    """The pid of a process that ran and was collected: no process has it now (for a while at least)."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_the_owner_names_this_host_this_pid_and_its_start() -> None:
    owner = Owner.parse(this_process())
    assert owner == Owner(HOST, os.getpid(), process_started(os.getpid()) or "")
    assert Owner.parse("a.b:12:345") == Owner("a.b", 12, "345")
    assert Owner.parse(None) is None and Owner.parse("garbage") is None and Owner.parse("h:x:1") is None


def test_on_this_host_a_live_owner_is_kept_whatever_its_heartbeat() -> None:
    # A job that writes for a long time on SQLite cannot renew its heartbeat: its process is looked up.
    long_ago = utcnow() - timedelta(days=1)
    assert not is_gone(this_process(), long_ago)
    assert not is_gone(this_process(), None)


def test_on_this_host_an_owner_whose_process_ended_is_gone_at_once() -> None:
    pid = finished_process()
    owner = str(Owner(HOST, pid, "12345"))
    assert is_gone(owner, utcnow())  # a fresh heartbeat does not matter: the process is not there


def test_a_reused_pid_is_not_taken_for_the_owner() -> None:
    started = process_started(os.getpid())
    assert started is not None
    impostor = str(Owner(HOST, os.getpid(), str(int(started) - 1)))  # this pid, started at another time
    assert is_gone(impostor, utcnow())


def test_a_zombie_counts_as_gone() -> None:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    owner = str(Owner(HOST, process.pid, process_started(process.pid) or "?"))
    os.waitid(os.P_PID, process.pid, os.WEXITED | os.WNOWAIT)  # exited, not yet collected
    try:
        assert is_gone(owner, utcnow())
    finally:
        process.wait()


def test_on_another_host_the_heartbeat_decides() -> None:
    owner, now = "worker-7.internal:42:99", utcnow()
    lease = timedelta(seconds=config.job_lease_seconds)
    assert not is_gone(owner, now - lease + timedelta(seconds=1), now)
    assert is_gone(owner, now - lease - timedelta(seconds=1), now)
    assert is_gone(None, now - lease - timedelta(seconds=1), now)  # claimed before leases existed
    assert is_gone(None, None, now)


@pytest.fixture
def beating(monkeypatch: pytest.MonkeyPatch) -> None:
    """The heartbeat thread runs (unit tests otherwise share one connection and run no thread)."""
    monkeypatch.setattr(config, "environment", "production")


@pytest.mark.usefixtures("beating")
def test_the_heartbeat_renews_until_the_job_ends() -> None:
    renewed = threading.Semaphore(0)

    def renew() -> bool:
        renewed.release()
        return True

    with Heartbeat(renew, every=0.01) as heartbeat:
        assert renewed.acquire(timeout=5) and renewed.acquire(timeout=5)
        heartbeat.check()
    assert not heartbeat._thread.is_alive()


@pytest.mark.usefixtures("beating")
def test_a_heartbeat_that_finds_the_job_taken_stops_it_at_its_next_check() -> None:
    answers = iter([RuntimeError("database is locked"), True, False])
    seen = threading.Event()

    def renew() -> bool:
        answer = next(answers, False)
        if answer is False:
            seen.set()
        if isinstance(answer, Exception):
            raise answer  # a failed renewal is simply tried again
        return bool(answer)

    with Heartbeat(renew, every=0.01) as heartbeat:
        assert seen.wait(5)
        heartbeat._thread.join(5)
        with pytest.raises(LeaseLost):
            heartbeat.check()


def test_unit_tests_run_no_heartbeat_thread() -> None:
    with Heartbeat(lambda: True, every=0.01) as heartbeat:
        assert not heartbeat._thread.is_alive()
