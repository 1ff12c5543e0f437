"""The outbox's SQL: its two tables (reached through the shared metadata), the database's clock, the
events read after a checkpoint, the checkpoints claimed, advanced and marked failed, and the purge."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Select, Table, case, delete, func, null, select, update
from sqlalchemy.dialects.postgresql import insert as postgres_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Row
from sqlalchemy.orm import Session

from smartcomm.kit.db import session_scope
from smartcomm.kit.models import Base
from smartcomm.kit.outbox.registry import Subscriber
from smartcomm.kit.time import ensure_utc, utcnow

# Events a turn reads: most may be other subscribers' kinds (a mass sending's deliveries), which a subscriber
# passes over without a transaction per 500 of them. The dispatcher reads it too (a full read: look again).
SCAN_EVENTS = 5000
PURGE_CHUNK = 10_000  # events deleted per transaction


def events_table() -> Table:
    """The table of `models.domain_events.DomainEvent`, reached through the shared metadata (kit imports no
    model)."""
    return Base.metadata.tables["domain_events"]


def checkpoints_table() -> Table:
    return Base.metadata.tables["event_checkpoints"]


def database_now(session: Session) -> datetime:
    """The clock event times are written with: the database server's on PostgreSQL (every machine then
    agrees), this machine's on SQLite (whose database is a local file)."""
    if _is_postgres(session):
        now: datetime = session.execute(select(func.clock_timestamp())).scalar_one()
        return ensure_utc(now)
    return utcnow()


def _is_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _latest_id(session: Session) -> int:
    return int(session.scalar(select(func.max(events_table().c.id))) or 0)


def _kinds_after(session: Session, after: int, limit: int) -> list[Row[Any]]:
    """(id, kind) of the next events after id `after`, at most `limit`."""
    table = events_table()
    statement = select(table.c.id, table.c.kind).where(table.c.id > after).order_by(table.c.id).limit(limit)
    return list(session.execute(statement))


def _create_checkpoints(names: list[str]) -> None:
    with session_scope() as session:
        for name in names:
            _create_checkpoint(session, name)


def _create_checkpoint(session: Session, name: str) -> bool:
    """A new subscriber starts from the oldest event kept; False when its checkpoint exists (two
    dispatchers may both try: one row wins)."""
    build = postgres_insert if _is_postgres(session) else sqlite_insert
    statement = build(checkpoints_table()).on_conflict_do_nothing(index_elements=["subscriber"])
    values = {"subscriber": name, "last_id": 0, "failures": 0, "updated_at": utcnow()}
    return bool(getattr(session.execute(statement, values), "rowcount", 0))


def _claim(session: Session, name: str) -> Row[Any] | None:
    """The subscriber's checkpoint (made for a new subscriber), locked for this transaction, with the
    database's clock as `now` on PostgreSQL (None elsewhere); None while another dispatcher has it."""
    table = checkpoints_table()
    now = func.clock_timestamp() if _is_postgres(session) else null()
    statement = select(table, now.label("now")).where(table.c.subscriber == name)
    statement = statement.with_for_update(skip_locked=True, of=table)
    found = session.execute(statement).first()
    if found is None and _create_checkpoint(session, name):
        found = session.execute(statement).first()
    return found


def _claim_with_window(session: Session, subscriber: Subscriber) -> tuple[Row[Any] | None, list[Row[Any]]]:
    """The claimed checkpoint (`_claim`) and the next events after it (`_next_events`)."""
    checkpoint = _claim(session, subscriber.name)
    if checkpoint is None:
        return None, []
    return checkpoint, list(session.execute(_next_events(checkpoint.last_id, subscriber.kinds)))


def _next_events(after: Any, kinds: frozenset[str]) -> Select[Any]:
    """The next events after `after` in id order; the payloads of those of `kinds` only."""
    table = events_table()
    payload = case((table.c.kind.in_(kinds), table.c.payload), else_=null()).label("payload")
    return (
        select(table.c.id, table.c.kind, table.c.occurred_at, table.c.customer_id, payload)
        .where(table.c.id > after)
        .order_by(table.c.id)
        .limit(SCAN_EVENTS)
    )


def _advance(session: Session, name: str, last_id: int) -> None:
    table = checkpoints_table()
    values = {"last_id": last_id, "failures": 0, "retry_at": None, "last_error": None, "updated_at": utcnow()}
    session.execute(update(table).where(table.c.subscriber == name).values(**values))


def _record_failure(session: Session, name: str, failures: int, retry_at: datetime, error: Exception) -> None:
    table = checkpoints_table()
    message = f"{type(error).__name__}: {error}"[:1000]
    values = {"failures": failures, "retry_at": retry_at, "last_error": message, "updated_at": utcnow()}
    session.execute(update(table).where(table.c.subscriber == name).values(**values))


def _slowest_checkpoint(session: Session, names: list[str]) -> int:
    """The last event every subscriber has handled (0 while one of them has no checkpoint yet)."""
    table = checkpoints_table()
    found: dict[str, int] = dict(session.execute(select(table.c.subscriber, table.c.last_id)).all())
    return min((found.get(name, 0) for name in names), default=0)


def _purge_chunk(floor: int, cutoff: datetime) -> bool:
    """Delete the next chunk of purgeable events; False when there were none."""
    table = events_table()
    with session_scope() as session:
        oldest = select(table.c.id).where(table.c.id <= floor, table.c.occurred_at < cutoff)
        ids = list(session.scalars(oldest.order_by(table.c.id).limit(PURGE_CHUNK)))
        if ids:
            session.execute(delete(table).where(table.c.id <= ids[-1], table.c.occurred_at < cutoff))
    return bool(ids)
