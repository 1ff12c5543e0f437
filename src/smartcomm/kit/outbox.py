"""The domain-event outbox: write paths record what happened; subscribers act on it, each exactly once.

Publishing. A write path calls `publish(session, kind, customer_id=…, customer_ids=…, payload=…)` in the
transaction of its change. Nothing is written at once: the events of a transaction are inserted together
just before it commits, after its own changes (so that on PostgreSQL an event id is never held open by a
long transaction, see "gaps" below), and once it has committed the dispatcher job is queued, once per
transaction — unless a dispatch of the same kinds waits on the queue already and has not started: that one
reads these events too, so a burst of small transactions does not bury the job queue in dispatches.
A rolled-back transaction publishes nothing. A bulk write publishes ONE event for its batch
with the customers' ids (`customer_ids`); above `CUSTOMER_IDS_LIMIT` customers the event carries the
`many_customers` marker and their number instead. Payloads are JSON values (dates as ISO strings, money as
decimal strings); `docs/architecture.md` ("Domain events") lists every kind with its payload.

Subscribing. A domain declares `@subscriber("segments.refresh", kinds={"receipt.written", …})` on a
function `(session, events) -> None` in a module named in `SUBSCRIBER_MODULES` (imported by name when
events are first dispatched, so that this module depends on no domain). The function does its work in the
session it is given and does not commit: the dispatcher advances the subscriber's checkpoint in the same
transaction and commits both together, so a crash before that commit leaves both undone and the events
are handed over again — each subscriber's effect happens exactly once. A subscriber that raises has its
transaction rolled back, its failure recorded on its checkpoint (logged, retried after a growing pause)
and does not hold back the others.

Dispatching (`events.dispatch`). For each subscriber: claim its checkpoint row (`FOR UPDATE SKIP LOCKED`
on PostgreSQL; on SQLite the write transaction itself excludes every other writer), read the events after
it in id order, at most `SCAN_EVENTS` at a time, hand over those of its kinds (at most `BATCH_EVENTS`),
advance past them, commit; repeat while there is more. A dispatcher that finds the row claimed leaves it:
the holder looks again for new events after it lets go, so no wake-up is lost (and the dispatcher looks
again itself a little later, in case the holder was a worker killed meanwhile). The dispatch a commit
queues names the kinds it published and serves their subscribers only; a subscriber none of whose kinds
came gets no transaction until IDLE_ADVANCE events passed it or the dispatch of every minute moves it on.

Gaps. On PostgreSQL ids are taken when rows are inserted but become visible when their transaction
commits, so a higher id may be seen before a lower one. A checkpoint therefore advances only over ids it
has seen, or past a missing id once the event that follows it is older than
`SMARTCOMM_OUTBOX_GAP_SECONDS` (the missing id then belonged to a transaction that rolled back: writers
insert their events last, just before committing). Event times come from the database's clock on
PostgreSQL, so the clocks of web and worker machines do not matter. A subscriber that has handled nothing
yet starts at the first event there is. SQLite serialises its writers, so no gap is ever seen there; the
same code runs.

Retention. `events.purge` deletes events older than `SMARTCOMM_OUTBOX_RETENTION_DAYS` that every
subscriber has passed.
"""

from __future__ import annotations

import importlib
import logging
import threading
import time
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeAlias

from sqlalchemy import Select, Table, case, delete, event, func, insert, null, select, update
from sqlalchemy.dialects.postgresql import insert as postgres_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Row
from sqlalchemy.orm import Session, SessionTransaction
from sqlalchemy.sql import Executable

from smartcomm.config import config
from smartcomm.kit.db import new_session, session_scope, writers_turn
from smartcomm.kit.jobs import huey, pause_point, pending_started, queue_unless_pending
from smartcomm.kit.models import Base
from smartcomm.kit.time import ensure_utc, utcnow

logger = logging.getLogger(__name__)

# The modules whose import registers the subscribers (each domain's `subscribers.py`).
SUBSCRIBER_MODULES = (
    "smartcomm.segments.subscribers",
    "smartcomm.webhooks.subscribers",
    "smartcomm.delivery.confirmation",
    "smartcomm.attribution.subscribers",
    "smartcomm.promocodes.subscribers",
    "smartcomm.campaigns.subscribers",
)
# A bulk write above this many customers records their number instead of their ids: its subscribers treat
# the base as changed (segments, for instance, rebuild instead of refreshing customer by customer).
CUSTOMER_IDS_LIMIT = 5000
CUSTOMER_IDS = "customer_ids"
MANY_CUSTOMERS = "many_customers"
CUSTOMER_COUNT = "customer_count"
BATCH_EVENTS = 500  # events handed to a subscriber in one transaction
# Events a turn reads: most may be other subscribers' kinds (a mass sending's deliveries), which a subscriber
# passes over without a transaction per 500 of them.
SCAN_EVENTS = 5000
PURGE_CHUNK = 10_000  # events deleted per transaction
# Pauses before a failing subscriber is tried again, after its 1st, 2nd, … failure (the last repeats).
RETRY_SECONDS = (5, 15, 60, 300, 900)
HELD_RECHECK_SECONDS = 2.0  # a dispatcher that found a subscriber held looks again after this long
# A subscriber none of whose kinds came is left alone (no write transaction for nothing) until this many
# events passed its checkpoint, or the dispatch of every minute moves it on.
IDLE_ADVANCE = 1000

_PENDING = "outbox_pending_events"
_DISPATCH_DUE = "outbox_dispatch_due"

Handler: TypeAlias = Callable[[Session, Sequence["Event"]], None]


@dataclass(frozen=True, slots=True)
class Event:
    """One published event, as a subscriber receives it."""

    id: int
    kind: str
    customer_id: int | None
    payload: Mapping[str, Any]
    occurred_at: datetime

    @property
    def customers(self) -> set[int] | None:
        """The customers the event is about (none for a system event); None when there were too many to
        list (`many_customers`)."""
        if self.payload.get(MANY_CUSTOMERS):
            return None
        found = set(self.payload.get(CUSTOMER_IDS, ()))
        if self.customer_id is not None:
            found.add(self.customer_id)
        return found


def customers_of(events: Iterable[Event]) -> set[int] | None:
    """Every customer these events are about; None when any of them did not list its customers."""
    found: set[int] = set()
    for each in events:
        customers = each.customers
        if customers is None:
            return None
        found |= customers
    return found


# --- publishing ----------------------------------------------------------------------------------------


def publish(
    session: Session,
    kind: str,
    *,
    customer_id: int | None = None,
    customer_ids: Iterable[int | None] | None = None,
    payload: Mapping[str, Any] | None = None,
) -> None:
    """Record an event in the session's transaction; it is written just before the commit, and the
    dispatcher is queued after it (once per transaction). `customer_ids` is for a bulk write: one event for
    the batch (None entries are skipped; above CUSTOMER_IDS_LIMIT only their number is kept)."""
    body = dict(payload or {})
    if customer_ids is not None:
        body.update(_customer_list(customer_ids))
    session.info.setdefault(_PENDING, []).append({"kind": kind, "customer_id": customer_id, "payload": body})


def _customer_list(customer_ids: Iterable[int | None]) -> dict[str, Any]:
    ids = sorted({customer_id for customer_id in customer_ids if customer_id is not None})
    if len(ids) > CUSTOMER_IDS_LIMIT:
        return {MANY_CUSTOMERS: True, CUSTOMER_COUNT: len(ids)}
    return {CUSTOMER_IDS: ids}


def _write_pending(session: Session) -> None:
    """Before a commit: the transaction's own changes first, then its events, in one insert."""
    if session.in_nested_transaction():
        return  # a savepoint is released: the events go with the transaction's own commit
    pending = session.info.pop(_PENDING, None)
    if not pending:
        return
    session.flush()
    statement: Executable = insert(events_table())
    if _is_postgres(session):
        statement = insert(events_table()).values(occurred_at=func.clock_timestamp())
    else:
        now = utcnow()
        pending = [row | {"occurred_at": now} for row in pending]
    session.execute(statement, pending[0] if len(pending) == 1 else pending)
    session.info[_DISPATCH_DUE] = sorted({row["kind"] for row in pending})


def _queue_dispatch(session: Session) -> None:
    kinds = session.info.pop(_DISPATCH_DUE, None)
    if not kinds:
        return
    try:
        # One waiting dispatch per set of kinds: it reads the events when it starts, these among them.
        queue_unless_pending(_dispatch_key(kinds), lambda: dispatch_events(kinds=kinds))
    except Exception:  # the events are committed: the periodic dispatch takes them if the queue failed
        logger.exception("could not queue the dispatch of domain events")


def _drop_pending(session: Session, previous: SessionTransaction) -> None:
    if not previous.nested:
        session.info.pop(_PENDING, None)
        session.info.pop(_DISPATCH_DUE, None)


# On the class, once, like kit.db's after-commit callbacks.
event.listen(Session, "before_commit", _write_pending)
event.listen(Session, "after_commit", _queue_dispatch)
event.listen(Session, "after_soft_rollback", _drop_pending)


# --- subscribers ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Subscriber:
    name: str
    kinds: frozenset[str]
    handle: Handler


_subscribers: dict[str, Subscriber] = {}
_modules_loaded = threading.Event()


def subscriber(name: str, *, kinds: Collection[str]) -> Callable[[Handler], Handler]:
    """Register `handle(session, events)` for the events of these kinds, under a stable name (the name keys
    its checkpoint: renaming a subscriber starts it again from the oldest event kept)."""

    def register(handle: Handler) -> Handler:
        known = _subscribers.get(name)
        if known is not None and known.handle.__qualname__ != handle.__qualname__:
            raise ValueError(f"the subscriber {name!r} is registered already")
        _subscribers[name] = Subscriber(name, frozenset(kinds), handle)
        return handle

    return register


def subscribers() -> list[Subscriber]:
    """Every registered subscriber (the modules that declare them are imported), in the order of those
    modules: segments first, since a receipt's segments are what people wait for."""
    if not _modules_loaded.is_set():
        for module in SUBSCRIBER_MODULES:
            importlib.import_module(module)
        _modules_loaded.set()
    return sorted(_subscribers.values(), key=_module_rank)


def _module_rank(subscriber: Subscriber) -> int:
    module = subscriber.handle.__module__
    return SUBSCRIBER_MODULES.index(module) if module in SUBSCRIBER_MODULES else len(SUBSCRIBER_MODULES)


# --- dispatching ---------------------------------------------------------------------------------------


@dataclass
class _Turn:
    """What one transaction of a subscriber did."""

    handed: int = 0
    again: bool = False  # a whole batch was handed over: there may be more at once
    # Where the checkpoint stands after a turn that read the events (None: the subscriber was held by
    # another dispatcher, failed, or waits for its retry), and how many events of its kinds after it were
    # seen but held back by a young gap.
    checkpoint: int | None = None
    held_back: int = 0
    wait_seconds: float | None = None  # look again after this long (a retry, or a gap that may settle)


@dataclass
class _Window:
    """The events after a checkpoint that may be handed over now, and what stops the rest."""

    rows: list[Row[Any]]
    settled: list[Row[Any]] = field(default_factory=list)
    young_gap_at: datetime | None = None  # the first event after a missing id, not yet old enough


class Dispatcher:
    def __init__(self) -> None:
        self._local = threading.local()
        self._lock = threading.Lock()
        self._later_at = 0.0  # monotonic time of the delayed dispatch this process queued last

    def run(self, advance_idle: bool = False, kinds: Collection[str] | None = None) -> int:
        """Bring every subscriber up to date; returns the number of events handed over. `advance_idle`
        moves on the checkpoints of subscribers that no event of theirs is waiting for, too. `kinds` (those
        a commit just published) limits the run to the subscribers of those kinds, which then need no
        look at the others first: the shortest way from a receipt to its segments."""
        state = self._local
        if getattr(state, "running", False):  # a subscriber's commit published more (jobs run at once)
            state.again = True
            return 0
        state.running, handed = True, 0
        try:
            while True:
                state.again = False
                handed += self._drain(self._candidates(advance_idle, kinds))
                if not state.again:
                    return handed
                kinds = None
        finally:
            state.running = False

    def _candidates(self, advance_idle: bool, kinds: Collection[str] | None) -> list[Subscriber]:
        if kinds is None:
            return self._due(subscribers(), advance_idle)
        published = set(kinds)
        return [each for each in subscribers() if each.kinds & published]

    def _due(self, candidates: list[Subscriber], advance_idle: bool) -> list[Subscriber]:
        """The subscribers with events of their kinds after their checkpoint (a missing checkpoint starts
        at 0), and those far behind or, with `advance_idle`, behind at all."""
        with session_scope(read_only=True) as session:
            latest = _latest_id(session)
            table = checkpoints_table()
            rows = session.execute(select(table.c.subscriber, table.c.last_id)).all()
            checkpoints: dict[str, int] = dict(rows)
            near = [checkpoints.get(each.name, 0) for each in candidates]
            after = min((at for at in near if latest - at < IDLE_ADVANCE), default=latest)
            pending = _kinds_after(session, after, IDLE_ADVANCE)
        missing = [each.name for each in candidates if each.name not in checkpoints]
        if missing:
            _create_checkpoints(missing)
        return [
            each
            for each, at in zip(candidates, near, strict=True)
            if _worth_a_turn(each, at, latest, pending, advance_idle)
        ]

    def _drain(self, candidates: list[Subscriber]) -> int:
        """Turns until the subscribers are up to date, taken in rounds — one turn each — so that one far
        behind (attribution, handed every delivery of a mass sending) does not hold back another's fresh
        events (a receipt's campaign trigger). After a turn has let go of the checkpoint it looks for events
        committed meanwhile: a dispatcher that found the checkpoint held left them to it."""
        handed = 0
        waiting = candidates
        while waiting:
            behind = []
            for subscriber in waiting:
                turn = self._turn(subscriber)
                handed += turn.handed
                if turn.wait_seconds is not None:
                    self._dispatch_later(turn.wait_seconds)
                if turn.again or (
                    turn.checkpoint is not None
                    and _more_events_than(turn.checkpoint, turn.held_back, subscriber)
                ):
                    behind.append(subscriber)
            waiting = behind
        return handed

    def _turn(self, subscriber: Subscriber) -> _Turn:
        """One transaction: claim the checkpoint, hand over the next events, advance, commit."""
        session = new_session()
        try:
            with writers_turn():  # in line with the other writers on SQLite, not starved by their stream
                turn = self._handle_next(session, subscriber)
                session.commit()
            return turn
        except Exception as error:
            session.rollback()
            return self._failed(subscriber, error)
        finally:
            session.close()

    def _handle_next(self, session: Session, subscriber: Subscriber) -> _Turn:
        checkpoint, rows = _claim_with_window(session, subscriber)
        if checkpoint is None:
            # Another dispatcher has it: it looks again for new events once it lets go. Should it be a
            # killed worker's (its transaction ends when the database notices), a later look takes over.
            return _Turn(wait_seconds=HELD_RECHECK_SECONDS)
        now = ensure_utc(checkpoint.now) if checkpoint.now is not None else utcnow()
        if checkpoint.retry_at is not None and ensure_utc(checkpoint.retry_at) > now:
            return _Turn(wait_seconds=(ensure_utc(checkpoint.retry_at) - now).total_seconds())
        window = _window(rows, checkpoint.last_id, now)
        taken = _up_to_a_batch(window.settled, subscriber.kinds)
        events = [_event(row) for row in taken if row.kind in subscriber.kinds]
        if events:
            pause_point(f"events.dispatch.{subscriber.name}")
            subscriber.handle(session, events)
        last_id = taken[-1].id if taken else checkpoint.last_id
        if taken:
            _advance(session, subscriber.name, last_id)
        held_back = window.rows[len(window.settled) :]
        return _Turn(
            handed=len(events),
            again=len(taken) < len(window.settled) or len(window.settled) == SCAN_EVENTS,
            checkpoint=last_id,
            held_back=sum(row.kind in subscriber.kinds for row in held_back),
            wait_seconds=_until_settled(window.young_gap_at, now),
        )

    def _failed(self, subscriber: Subscriber, error: Exception) -> _Turn:
        """Record the failure on the checkpoint (the events stay) and try again after a growing pause."""
        with session_scope() as session:
            checkpoint = _claim(session, subscriber.name)
            if checkpoint is None:
                return _Turn()  # another dispatcher has it now
            failures = checkpoint.failures + 1
            pause = RETRY_SECONDS[min(failures, len(RETRY_SECONDS)) - 1]
            now = ensure_utc(checkpoint.now) if checkpoint.now is not None else utcnow()
            retry_at = now + _seconds(pause)
            _record_failure(session, subscriber.name, failures, retry_at, error)
        logger.error(
            "the subscriber %s failed (%d in a row; tried again in %d s) after event %d",
            subscriber.name, failures, pause, checkpoint.last_id, exc_info=error,
        )  # fmt: skip
        return _Turn(wait_seconds=pause)

    def _dispatch_later(self, seconds: float) -> None:
        """Queue one delayed dispatch, unless this process queued one that comes as soon."""
        at = time.monotonic() + seconds
        with self._lock:
            if time.monotonic() < self._later_at <= at:
                return
            self._later_at = at
        dispatch_events.schedule(delay=max(seconds, 0.1))


dispatcher = Dispatcher()


@huey.task(name="events.dispatch")  # type: ignore[untyped-decorator]  # Huey carries no types
def dispatch_events(advance_idle: bool = False, kinds: list[str] | None = None) -> None:
    """Hand every subscriber the events after its checkpoint (queued after a commit that published, with
    the kinds it published, unless such a dispatch waits on the queue already; on a worker's start; and
    every minute, with `advance_idle`)."""
    if kinds:
        pending_started(_dispatch_key(kinds))
    dispatcher.run(advance_idle, kinds)


def _dispatch_key(kinds: Collection[str]) -> str:
    return "events.dispatch:" + ",".join(sorted(kinds))


@huey.task(name="events.purge")  # type: ignore[untyped-decorator]
def purge_events() -> None:
    """Delete the events older than the retention that every subscriber has passed."""
    names = [each.name for each in subscribers()]
    with session_scope(read_only=True) as session:
        cutoff = database_now(session) - timedelta(days=config.outbox_retention_days)
        floor = _slowest_checkpoint(session, names)
    while floor > 0 and _purge_chunk(floor, cutoff):
        pass


# --- SQL -----------------------------------------------------------------------------------------------


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


def _more_events_than(after: int, seen: int, subscriber: Subscriber) -> bool:
    """Whether more than `seen` events of the subscriber's kinds after id `after` are committed now."""
    with session_scope(read_only=True) as session:
        pending = _kinds_after(session, after, IDLE_ADVANCE)
    return sum(row.kind in subscriber.kinds for row in pending) > seen or len(pending) == IDLE_ADVANCE


def _worth_a_turn(
    subscriber: Subscriber, after: int, latest: int, pending: list[Row[Any]], advance_idle: bool
) -> bool:
    """Whether a subscriber whose checkpoint is `after` has something to do: events of its kinds (among
    `pending`, the events after the nearest checkpoint), or events of others it should move past now."""
    if latest <= after:
        return False
    if advance_idle or latest - after >= IDLE_ADVANCE:
        return True
    return any(row.id > after and row.kind in subscriber.kinds for row in pending)


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


def _up_to_a_batch(settled: list[Row[Any]], kinds: frozenset[str]) -> list[Row[Any]]:
    """The settled events up to the BATCH_EVENTS-th of these kinds (the others between them go along)."""
    found = 0
    for position, row in enumerate(settled):
        found += row.kind in kinds
        if found == BATCH_EVENTS:
            return settled[: position + 1]
    return settled


def _window(rows: list[Row[Any]], after: int, now: datetime) -> _Window:
    """Which of the next events may be handed over now (the gap rule)."""
    window = _Window(rows)
    cutoff = now - _seconds(config.outbox_gap_seconds)
    # A subscriber that has handled nothing yet starts at the first event there is, whatever ids the
    # sequence gave to transactions that rolled back before it.
    expected = after + 1 if after else None
    for row in window.rows:
        occurred_at = ensure_utc(row.occurred_at)
        if expected is not None and row.id != expected and occurred_at > cutoff:
            window.young_gap_at = occurred_at  # a lower id may still commit: wait for it
            break
        window.settled.append(row)
        expected = row.id + 1
    return window


def _until_settled(young_gap_at: datetime | None, now: datetime) -> float | None:
    if young_gap_at is None:
        return None
    return (young_gap_at + _seconds(config.outbox_gap_seconds) - now).total_seconds()


def _event(row: Row[Any]) -> Event:
    return Event(row.id, row.kind, row.customer_id, row.payload or {}, ensure_utc(row.occurred_at))


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


def _seconds(value: float) -> timedelta:
    return timedelta(seconds=value)
