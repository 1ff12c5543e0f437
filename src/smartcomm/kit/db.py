"""Engine, sessions and the after-commit hook.

The request or the job owns the transaction: services only `flush()`. `session_scope()` is the one
place jobs and the CLI commit; the web layer commits in its session dependency.
"""

from __future__ import annotations

import fcntl
import sqlite3
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from datetime import date, datetime
from functools import cached_property
from pathlib import Path
from typing import IO, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from smartcomm.config import config
from smartcomm.kit.time import ensure_utc

AFTER_COMMIT_KEY = "after_commit_callbacks"
QUEUED = "smartcomm_queued_writer"  # the execution option of queued sessions (see writers_turn)
_QUEUED_TURN = "smartcomm_writers_turn"  # a queued connection's turn, in its pool record's info


def create_db_engine(url: str, *, echo: bool = False, pool_size: int = 10) -> Engine:
    """An engine tuned for the backend: SQLite gets WAL, a busy timeout and explicit BEGINs."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(url, echo=echo)
    return create_engine(url, echo=echo, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True)


def _sqlite_engine(url: str, *, echo: bool) -> Engine:
    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url,
        echo=echo,
        connect_args={"check_same_thread": False, "timeout": 30},
        pool_size=10,
        max_overflow=20,
    )

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
        # Let SQLAlchemy emit BEGIN itself (pysqlite's own handling breaks SAVEPOINT).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in (
            "journal_mode=WAL",
            "synchronous=NORMAL",
            "foreign_keys=ON",
            "busy_timeout=30000",
            "temp_store=MEMORY",
            "cache_size=-200000",
            "mmap_size=1073741824",
        ):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()
        # SQLite's lower() folds ASCII only; text conditions of segments fold every script.
        dbapi_connection.create_function("unicode_lower", 1, unicode_lower, deterministic=True)
        # SQLite knows no time zones; date triggers need the local calendar day of a stored UTC time.
        dbapi_connection.create_function("local_date", 2, local_date, deterministic=True)

    lock_path = writers_lock_file(url)

    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        # IMMEDIATE takes the write lock up front, so a transaction never fails half-way on a lock
        # upgrade; read-only work asks for DEFERRED to run beside writers.
        options = conn.get_execution_options()
        mode = options.get("sqlite_begin", "IMMEDIATE")
        if mode == "IMMEDIATE" and options.get(QUEUED) and lock_path is not None:
            _queue_connection(conn, lock_path)
        conn.exec_driver_sql(f"BEGIN {mode}")

    @event.listens_for(engine, "checkin")
    def _checkin(_dbapi_connection: Any, record: Any) -> None:
        _leave_queue(record.info)

    @event.listens_for(engine, "invalidate")
    def _invalidate(_dbapi_connection: Any, record: Any, _error: Any) -> None:
        _leave_queue(record.info)

    return engine


def unicode_lower(value: object) -> str | None:
    """lower() for SQLite in every script; like the built-in one, numbers become text."""
    return None if value is None else str(value).lower()


def local_date(value: object, zone: object) -> str | None:
    """The day (YYYY-MM-DD) a stored UTC time (naive, or ISO 8601 with an offset) falls on in a time
    zone, for SQLite; a day stays itself; None for anything that is neither."""
    try:
        text = str(value)
        if len(text) == 10:
            return date.fromisoformat(text).isoformat()
        moment = datetime.fromisoformat(text)
        return ensure_utc(moment).astimezone(ZoneInfo(str(zone))).date().isoformat()
    except (ValueError, KeyError, ZoneInfoNotFoundError):
        return None


class Database:
    """An engine plus the session factory bound to it."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        self.engine = create_db_engine(url, echo=echo)
        self.is_sqlite = self.engine.dialect.name == "sqlite"
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._read_sessions = sessionmaker(
            self.engine.execution_options(sqlite_begin="DEFERRED"), expire_on_commit=False
        )
        self._queued_sessions = sessionmaker(
            self.engine.execution_options(**{QUEUED: True}), expire_on_commit=False
        )

    def session(self, *, read_only: bool = False, queued: bool = False) -> Session:
        """`queued`: on SQLite its transactions wait for a writers' turn (see writers_turn) before BEGIN."""
        if read_only:
            return self._read_sessions()
        return (self._queued_sessions if queued else self._sessions)()

    @cached_property
    def writers_lock_path(self) -> Path | None:
        return writers_lock_file(self.url)

    def dispose(self) -> None:
        self.engine.dispose()


_database: Database | None = None
_session_override: Callable[[], Session] | None = None


def get_database() -> Database:
    global _database
    if _database is None:
        _database = Database(config.effective_database_url, echo=config.log_sql)
    return _database


def set_database(database: Database | None) -> Database | None:
    """Point the process at another database (tests use this); returns the previous one."""
    global _database
    previous, _database = _database, database
    return previous


def override_sessions(factory: Callable[[], Session] | None) -> None:
    """Tests bind every session of the app to one rolled-back connection through this."""
    global _session_override
    _session_override = factory


def new_session(*, read_only: bool = False, queued: bool = False) -> Session:
    if _session_override is not None:
        return _session_override()
    return get_database().session(read_only=read_only, queued=queued)


@contextmanager
def writers_turn(*, background: bool = False) -> Iterator[None]:
    """Wait for the grouped writers of the other processes before taking SQLite's write lock.

    SQLite's busy wait sleeps up to 100 ms between tries, so a web process waiting for another's commit
    lost most of that sleep and could lose the lock again to the other's next group; an OS lock wakes the
    waiter the moment the holder lets go. Nothing to do on PostgreSQL, whose writers do not exclude each
    other.

    `background` writers (a worker's stream of sends, a walk through a crowd of journeys) give way to the
    others — a receipt being stored, the trigger it fires: while one of those waits, no background writer
    queues up. The waiters of a released lock race for it, so the background writers first queue among
    themselves (one at a time reaches the gate) and then pass the gate only when no foreground writer
    holds it; a foreground writer waits at most for the writer in the lock and one background turn.
    """
    path = get_database().writers_lock_path
    if path is None or _holds_a_turn():  # a turn of this thread's: already ours
        yield
        return
    thread = threading.get_ident()
    with _take_turn(path, background):
        _count_turn(thread, 1)
        try:
            yield
        finally:
            _count_turn(thread, -1)


def writers_lock_file(url: str) -> Path | None:
    """Beside a SQLite file, the file that writers of several processes queue on (see writers_turn)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    return Path(f"{parsed.database}-writers")


def _take_turn(path: Path, background: bool) -> ExitStack:
    """The writers' lock, taken as writers_turn describes; closing the stack lets go of it."""
    locks = ExitStack()  # closing a file lets go of its lock: the writers' lock first
    try:
        if background:
            _locked(locks, _beside(path, "background"), fcntl.LOCK_EX)
        gate = _locked(locks, _beside(path, "gate"), fcntl.LOCK_EX if background else fcntl.LOCK_SH)
        _locked(locks, path, fcntl.LOCK_EX)
        fcntl.flock(gate, fcntl.LOCK_UN)  # in the lock now: the next may queue
    except BaseException:
        locks.close()
        raise
    return locks


def _queue_connection(conn: Any, path: Path) -> None:
    """A queued session's transaction (a web request's writes) begins in a foreground turn, held until its
    connection returns to the pool (after the commit, which may run in another thread than the BEGIN).
    The thread that began it counts as holding a turn meanwhile, so it never queues behind itself."""
    if _QUEUED_TURN in conn.info or _holds_a_turn():
        return
    thread = threading.get_ident()
    conn.info[_QUEUED_TURN] = (_take_turn(path, background=False), thread)
    _count_turn(thread, 1)


def _leave_queue(info: dict[str, Any]) -> None:
    held = info.pop(_QUEUED_TURN, None)
    if held is not None:
        locks, thread = held
        _count_turn(thread, -1)
        locks.close()


def _count_turn(thread: int, change: int) -> None:
    with _holders_lock:
        _holders[thread] += change


def _holds_a_turn() -> bool:
    with _holders_lock:
        return _holders[threading.get_ident()] > 0


def _beside(path: Path, name: str) -> Path:
    return path.with_name(f"{path.name}-{name}")


def _locked(locks: ExitStack, path: Path, operation: int) -> IO[str]:
    """`path` opened and locked; its own open file, so that threads of one process exclude each other too."""
    handle = locks.enter_context(path.open("a"))
    fcntl.flock(handle, operation)
    return handle


# How many writers' turns each thread holds (jobs run inline nest them; a queued request's transaction
# counts for the thread that began it until its connection returns to the pool, maybe in another thread).
_holders: Counter[int] = Counter()
_holders_lock = threading.Lock()


@contextmanager
def postgres_settings(session: Session, settings: dict[str, str]) -> Iterator[None]:
    """Planner settings for the statements run inside the block, on PostgreSQL only (nothing elsewhere)."""
    if session.get_bind().dialect.name != "postgresql":
        yield
        return
    for name, value in settings.items():
        session.execute(text(f"SET LOCAL {name} = {value}"))
    yield
    for name in settings:
        session.execute(text(f"RESET {name}"))


@contextmanager
def committed(session: Session) -> Iterator[Session]:
    """Commit the session's transaction when the block ends normally, roll it back when it raises."""
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise


@contextmanager
def session_scope(*, read_only: bool = False) -> Iterator[Session]:
    """A unit of work for jobs and the CLI: commit on success, roll back on error."""
    with new_session(read_only=read_only) as session, committed(session):
        yield session


@contextmanager
def pinned_session() -> Iterator[Session]:
    """A unit of work that keeps one connection across the commits it makes on the way (a load whose
    temporary tables and connection settings live on that connection). Commits at the end, rolls
    back on error."""
    session = new_session()
    bind = session.get_bind()
    if isinstance(bind, Engine):  # the app's sessions take any pooled connection per transaction
        session.close()
        connection = bind.connect()
        with connection, Session(bind=connection, expire_on_commit=False) as pinned, committed(pinned):
            yield pinned
        return
    with session, committed(session):  # already on one connection (the tests' sessions)
        yield session


_HELD_CONNECTION = "held_connection"


def held_session() -> Session:
    """A session that keeps one connection for its whole life, across all its commits — for a writer of
    many tiny transactions, which would otherwise pay a pool checkout, the reset on return and
    PostgreSQL's pre-ping for each. Close it with `release_held`."""
    session = new_session()
    bind = session.get_bind()
    if not isinstance(bind, Engine):
        return session  # already on one connection (the tests' sessions)
    session.close()
    connection = bind.connect()
    held = Session(bind=connection, expire_on_commit=False)
    held.info[_HELD_CONNECTION] = connection
    return held


def release_held(session: Session) -> None:
    """Close a session from `held_session` and give its connection back to the pool."""
    connection = session.info.pop(_HELD_CONNECTION, None)
    session.close()
    if connection is not None:
        connection.close()


def on_commit(session: Session, callback: Callable[[], None]) -> None:
    """Run `callback` once the session's transaction has committed (never on rollback)."""
    session.info.setdefault(AFTER_COMMIT_KEY, []).append(callback)


def _run_after_commit(session: Session) -> None:
    if session.in_nested_transaction():  # a savepoint released: the transaction itself is still open
        return
    callbacks = session.info.pop(AFTER_COMMIT_KEY, [])
    for callback in callbacks:
        callback()


def _drop_after_commit(session: Session) -> None:
    if session.in_nested_transaction():  # a savepoint rolled back: the transaction goes on
        return
    session.info.pop(AFTER_COMMIT_KEY, None)


# On the class, once: every session runs the callbacks of its commits (a listener per session would
# cost each request its own event registry).
event.listen(Session, "after_commit", _run_after_commit)
event.listen(Session, "after_rollback", _drop_after_commit)
