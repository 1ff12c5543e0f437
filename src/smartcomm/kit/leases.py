"""Leases of long jobs: which process runs a job, whether that process still exists, and its heartbeat.

A job row claimed by a process names its owner, "host:pid:start" (the process's start time tells a
reused pid apart), and carries a heartbeat time that a thread of the owner renews every few seconds
while the job runs (its progress checkpoints renew it too). The reaper judges a running row by its
owner: on this host the owner is gone when no process with that pid and start time exists — exact,
immediate, and independent of the heartbeat, which a job cannot write while its long SQLite write
transaction holds the database's only write lock; on another host, when the heartbeat is older than
the lease (`SMARTCOMM_JOB_LEASE_SECONDS`). Every status or progress write of a running job is
conditional on still owning it (each domain's repository writes `WHERE lease_owner = :me`), so a job
judged gone by mistake stops at its next write instead of finishing over the verdict.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from types import TracebackType

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from smartcomm.config import config
from smartcomm.kit.time import ensure_utc, utcnow

logger = logging.getLogger(__name__)

# The reason stored on a job found running without its process.
INTERRUPTED = "interrupted"
HEARTBEAT_SECONDS = 10.0
_PROC = Path("/proc")
_HAS_PROC = (_PROC / "self" / "stat").is_file()
_DEAD_STATES = ("Z", "X")  # a zombie has exited; only its exit status waits to be collected


class LeaseLost(Exception):
    """The job's row no longer names this process as its owner: it was taken for interrupted."""


class LeasedJob:
    """The columns of a job row that a process claims: its owner and the owner's last heartbeat."""

    lease_owner: Mapped[str | None] = mapped_column(String(200))
    lease_heartbeat_at: Mapped[datetime | None]


@dataclass(frozen=True)
class Owner:
    host: str
    pid: int
    started: str

    def __str__(self) -> str:
        return f"{self.host}:{self.pid}:{self.started}"

    @classmethod
    def parse(cls, text: str | None) -> Owner | None:
        parts = (text or "").rsplit(":", 2)
        if len(parts) != 3 or not parts[1].isdigit():
            return None
        host, pid, started = parts
        return cls(host, int(pid), started)


_owner: tuple[int, str] | None = None


def this_process() -> str:
    """This process as a lease owner: host, pid and start time (computed again after a fork)."""
    global _owner
    pid = os.getpid()
    if _owner is None or _owner[0] != pid:
        _owner = (pid, str(Owner(_host(), pid, process_started(pid) or "-")))
    return _owner[1]


def _host() -> str:
    return socket.gethostname()[:150]  # the owner column holds 200 characters


def process_started(pid: int) -> str | None:
    """When the process `pid` started (clock ticks since boot), or None when no such process runs.

    Where there is no /proc, only the existence of the pid is known: "-" stands for its start time.
    """
    if not _HAS_PROC:
        return "-" if _pid_exists(pid) else None
    try:
        stat = (_PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    fields = stat.rpartition(")")[2].split()  # the command name before ")" may hold spaces
    if len(fields) < 20 or fields[0] in _DEAD_STATES:
        return None
    return fields[19]  # field 22 of proc(5), counted from the state (field 3)


def _pid_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    return True


def lease_length() -> timedelta:
    return timedelta(seconds=config.job_lease_seconds)


def is_gone(owner: str | None, heartbeat_at: datetime | None, now: datetime | None = None) -> bool:
    """Whether the process that claimed a running job no longer runs it.

    On this host its process is looked up; on another host (or for a row that names no owner, claimed
    before leases existed) its heartbeat must be younger than the lease.
    """
    parsed = Owner.parse(owner)
    if parsed is not None and parsed.host == _host():
        started = process_started(parsed.pid)
        if started is None:
            return True
        return started != parsed.started and "-" not in (started, parsed.started)
    if heartbeat_at is None:
        return True
    return ensure_utc(heartbeat_at) < (now or utcnow()) - lease_length()


class Heartbeat:
    """Renews a job's lease from a thread of its own while the job runs.

    `renew()` writes the heartbeat in a transaction of its own and returns False once the row no longer
    names this process; the job then stops at its next `check()`. A renewal that fails (on SQLite the
    job's own write transaction holds the lock for as long as it writes) is simply tried again later:
    on this host liveness never depends on the heartbeat. Unit tests bind every session to one
    connection, which a second thread must not use, so no thread runs there.
    """

    def __init__(self, renew: Callable[[], bool], every: float | None = None) -> None:
        self.renew = renew
        # Several beats within a lease, however short it is configured.
        self.every = every or min(HEARTBEAT_SECONDS, config.job_lease_seconds / 4)
        self.lost = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name="lease-heartbeat", daemon=True)

    def __enter__(self) -> Heartbeat:
        if config.environment != "test":
            self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=2)  # a renewal waiting for a lock finishes on its own

    def check(self) -> None:
        """Raise LeaseLost when a renewal found the job taken away from this process."""
        if self.lost:
            raise LeaseLost

    def _beat(self) -> None:
        while not self._stop.wait(self.every):
            try:
                still_owned = self.renew()
            except Exception:
                logger.debug("a lease renewal failed; the next one will try again", exc_info=True)
                continue
            if not still_owned and not self._stop.is_set():
                self.lost = True
                return


@dataclass(frozen=True)
class Claim:
    """A running job row as the reaper sees it: its id, owner and last heartbeat."""

    id: int
    owner: str | None
    heartbeat_at: datetime | None

    def is_gone(self, now: datetime | None = None) -> bool:
        return is_gone(self.owner, self.heartbeat_at, now)
