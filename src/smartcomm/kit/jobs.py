"""The Huey instance every domain registers its jobs on, and the after-commit enqueue.

SQLite storage under var/ by default; Redis when SMARTCOMM_REDIS_URL is set, so consumers can run on
any number of machines. Jobs take ids, re-read their rows and treat "already done" as success.

An idle worker of the SQLite queue does not poll with a growing back-off (Huey's default, up to 10 s
between looks): it waits on a doorbell — a Unix datagram socket of its own under var/wake/ — that every
enqueue rings after its commit, and looks at the queue by itself every `SMARTCOMM_QUEUE_WAIT_SECONDS`
in case a ring was lost. Redis's queue already blocks until a job arrives (BRPOP).
"""

from __future__ import annotations

import atexit
import contextlib
import os
import secrets
import select
import socket
import threading
import time
from collections.abc import Callable
from importlib import import_module
from pathlib import Path
from typing import Any

from huey import Huey, RedisHuey, SqliteHuey
from huey.api import TaskWrapper
from huey.storage import SqliteStorage
from sqlalchemy.orm import Session

from smartcomm.config import config
from smartcomm.kit.db import on_commit

HUEY_NAME = "smartcomm"
PENDING_SECONDS = 10.0  # a wake-up job queued this long ago and not started is no longer counted on
# Unix socket addresses are limited to 107 bytes; longer paths are reached through the folder's
# descriptor (/proc/self/fd/N/name) where the system has /proc.
_SOCKET_PATH_LIMIT = 100
_PROC_FD = Path("/proc/self/fd")


class Doorbell:
    """Wakes the idle workers of every process that serves the queue of one var/ folder.

    A worker process binds a datagram socket `var/wake/<pid>-<random>.sock` the first time it waits;
    `ring()` sends one byte to every socket there, without ever blocking (a full socket is awake
    anyway), and removes the sockets of processes that are gone.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._lock = threading.Lock()
        self._listener: socket.socket | None = None
        self._sender: tuple[int, socket.socket] | None = None
        self._folder_fd: tuple[int, int] | None = None
        self.path: Path | None = None

    def ring(self) -> None:
        """Wake every waiting worker (after a job was committed to the queue)."""
        try:
            names = [entry.name for entry in os.scandir(self.folder) if entry.name.endswith(".sock")]
        except FileNotFoundError:
            return
        sender = self._sending_socket()
        for name in names:
            self._send(sender, name)

    def wait(self, timeout: float) -> bool:
        """Wait until rung or `timeout` seconds passed; True when rung."""
        listener = self._listening_socket()
        if listener is None:
            time.sleep(timeout)
            return False
        readable, _, _ = select.select([listener], [], [], timeout)
        if not readable:
            return False
        with contextlib.suppress(BlockingIOError, InterruptedError):
            while listener.recv(16):  # every ring so far: one look at the queue answers them all
                pass
        return True

    def _send(self, sender: socket.socket, name: str) -> None:
        address = self._address(name)
        if address is None:
            return
        try:
            sender.sendto(b"!", address)
        except (BlockingIOError, InterruptedError):
            pass  # its buffer is full of rings: it is awake
        except (ConnectionRefusedError, FileNotFoundError):
            (self.folder / name).unlink(missing_ok=True)  # its process is gone
        except OSError:
            pass

    def _sending_socket(self) -> socket.socket:
        pid = os.getpid()
        if self._sender is None or self._sender[0] != pid:
            sender = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            sender.setblocking(False)
            self._sender = (pid, sender)
        return self._sender[1]

    def _listening_socket(self) -> socket.socket | None:
        with self._lock:
            if self._listener is None:
                self._listener = self._bind()
            return self._listener

    def _bind(self) -> socket.socket | None:
        self.folder.mkdir(parents=True, exist_ok=True)
        name = f"{os.getpid()}-{secrets.token_hex(4)}.sock"
        address = self._address(name)
        if address is None:
            return None  # no doorbell: the worker looks at the queue every wait instead
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        listener.bind(address)
        listener.setblocking(False)
        self.path = self.folder / name
        atexit.register(self._unbind)
        return listener

    def _unbind(self) -> None:
        if self.path is not None:
            self.path.unlink(missing_ok=True)

    def _address(self, name: str) -> str | None:
        path = str(self.folder / name)
        if len(path.encode()) <= _SOCKET_PATH_LIMIT:
            return path
        if not _PROC_FD.is_dir():
            return None
        return f"{_PROC_FD}/{self._folder_descriptor()}/{name}"

    def _folder_descriptor(self) -> int:
        pid = os.getpid()
        if self._folder_fd is None or self._folder_fd[0] != pid:
            self.folder.mkdir(parents=True, exist_ok=True)
            self._folder_fd = (pid, os.open(self.folder, os.O_RDONLY | os.O_DIRECTORY))
        return self._folder_fd[1]


class _QueueStorage(SqliteStorage):  # type: ignore[misc]  # huey ships no type hints
    """Huey's SQLite queue, synced like the main database (in WAL mode a commit no longer waits for the
    disk: a crash of the process loses nothing; a power cut may lose the last jobs queued), whose
    `dequeue` waits on the doorbell instead of letting the consumer back off."""

    blocking = True  # the consumer does not sleep after an empty dequeue: the dequeue waited already

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.doorbell = Doorbell(Path(self.filename).parent / "wake")

    def _create_connection(self) -> Any:
        connection = super()._create_connection()
        connection.execute("PRAGMA synchronous=NORMAL")
        return connection

    def enqueue(self, data: bytes, priority: float | None = None) -> None:
        super().enqueue(data, priority)
        self.doorbell.ring()

    def dequeue(self) -> bytes | None:
        data = super().dequeue()
        if data is None and self.doorbell.wait(config.queue_wait_seconds):
            data = super().dequeue()
        return data  # type: ignore[no-any-return]


def _create_huey() -> Huey:
    if config.environment == "test":
        # Unit tests run jobs synchronously, in memory, when they are enqueued.
        return Huey(HUEY_NAME, immediate=True)
    if config.redis_url:
        return RedisHuey(HUEY_NAME, url=config.redis_url, utc=True)
    config.var_dir.mkdir(parents=True, exist_ok=True)
    return SqliteHuey(
        HUEY_NAME, filename=str(config.var_dir / "jobs.db"), utc=True, storage_class=_QueueStorage
    )


huey: Huey = _create_huey()


def enqueue_after_commit(session: Session, task: TaskWrapper, *args: Any) -> None:
    """Queue `task(*args)` once the current transaction commits; nothing is queued on rollback."""
    on_commit(session, lambda: task(*args))


def queue_after_commit(session: Session, name: str, *args: Any) -> None:
    """Queue the job called `name` once the current transaction commits (nothing on rollback). Jobs are
    named "<domain>.<what>" and live in `smartcomm.<domain>.tasks`, so a service queues its jobs without
    importing the module that imports it."""
    on_commit(session, lambda: queue_now(name, *args))


def queue_now(name: str, *args: Any) -> None:
    huey.enqueue(_task_named(name)(args))


def queue_unless_pending(key: str, queue: Callable[[], object]) -> None:
    """Queue a wake-up job (`queue()`) unless one queued under `key` has not started yet.

    A job that reads what is due when it starts serves every commit made before its start, so a burst of
    commits — a sandbox delivering thousands of messages, each in a transaction of its own — queues one
    job, not thousands that would hold back every other job on the queue. The job calls
    `pending_started(key)` before it reads anything: a commit that finds no mark was made after that
    start and queues a job of its own. A mark stops counting after PENDING_SECONDS, and when a worker
    starts (its job may have gone with a worker that was killed)."""
    mark = f"pending:{key}"
    found, boot, now = huey.get(mark, peek=True), huey.get(_BOOT, peek=True), time.time()
    if found is not None and found[1] == boot and now - float(found[0]) < PENDING_SECONDS:
        return
    huey.put(mark, (now, boot))
    try:
        queue()
    except Exception:
        huey.delete(mark)
        raise


def pending_started(key: str) -> None:
    """The job queued under `key` has started: commits from now on queue another."""
    huey.delete(f"pending:{key}")


_BOOT = "pending:boot"  # changes when a worker starts: the marks made before no longer count
_booted = threading.Event()


@huey.on_startup()  # type: ignore[untyped-decorator]  # Huey carries no types
def _forget_pending() -> None:
    if not _booted.is_set():  # Huey calls startup hooks in every worker thread: once per process
        _booted.set()
        huey.put(_BOOT, secrets.token_hex(8))


class Lane:
    """At most `places` threads of a worker process run the jobs of this lane at once — long jobs, such as
    sending a mass of messages — so that the other threads stay free for short ones (a receipt's campaign
    triggers, a segment refresh), which would otherwise wait behind minutes of sending.

    A job that finds every place taken returns at once and leaves a note; the job holding a place that lets
    go of it next queues the job again (`again`), so the work it was woken for never waits for the periodic
    safety net. Tests run jobs inline, nested in one another: there the lane lets every job through."""

    def __init__(self, places: int, again: Callable[[], object]) -> None:
        self._places = threading.BoundedSemaphore(max(1, places))
        self._wanted = threading.Event()
        self._again = again

    def run(self, work: Callable[[], int]) -> int:
        if huey.immediate:
            return work()
        self._wanted.set()  # before trying: a holder letting go meanwhile sees it
        if not self._places.acquire(blocking=False):
            return 0
        try:
            self._wanted.clear()  # this run reads what is due after every note left so far
            return work()
        finally:
            self._places.release()
            if self._wanted.is_set():
                self._again()


def _task_named(name: str) -> Any:
    """The task class of job `name`; Huey registers it under its module's path and its name."""
    module = f"smartcomm.{name.split('.')[0]}.tasks"
    import_module(module)  # registers the domain's jobs (already imported in a worker)
    return huey._registry.string_to_task(f"{module}.{name}")


def pause_point(name: str) -> None:
    """Tests hold a real worker here: with SMARTCOMM_TEST_PAUSE_DIR set and `<name>.hold` in that folder,
    announce `<name>.reached` and wait while the hold file is there (tests kill the worker meanwhile)."""
    folder = os.environ.get("SMARTCOMM_TEST_PAUSE_DIR")
    if not folder or not (hold := Path(folder) / f"{name}.hold").exists():
        return
    (Path(folder) / f"{name}.reached").touch()
    while hold.exists():
        time.sleep(0.05)
