"""Dispatching (`events.dispatch`) and retention (`events.purge`), as the package's overview tells them: the
dispatcher takes each subscriber's turns — one transaction each: claim its checkpoint, hand over the next
events of its kinds, advance, commit — in rounds, records a failing subscriber's failure on its checkpoint
and queues the dispatch again when a retry, a held checkpoint or a young gap asks for it."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.engine import Row
from sqlalchemy.orm import Session

from smartcomm.config import config
from smartcomm.kit.db import new_session, session_scope, writers_turn
from smartcomm.kit.jobs import huey, pause_point, pending_started
from smartcomm.kit.outbox.events import _event
from smartcomm.kit.outbox.registry import Subscriber, subscribers
from smartcomm.kit.outbox.sql import (
    SCAN_EVENTS,
    _advance,
    _claim,
    _claim_with_window,
    _create_checkpoints,
    _kinds_after,
    _latest_id,
    _purge_chunk,
    _record_failure,
    _slowest_checkpoint,
    checkpoints_table,
    database_now,
)
from smartcomm.kit.outbox.window import _seconds, _until_settled, _up_to_a_batch, _window
from smartcomm.kit.time import ensure_utc, utcnow

logger = logging.getLogger("smartcomm.kit.outbox")  # the package's logger, as before it was split

# Pauses before a failing subscriber is tried again, after its 1st, 2nd, … failure (the last repeats).
RETRY_SECONDS = (5, 15, 60, 300, 900)
HELD_RECHECK_SECONDS = 2.0  # a dispatcher that found a subscriber held looks again after this long
# A subscriber none of whose kinds came is left alone (no write transaction for nothing) until this many
# events passed its checkpoint, or the dispatch of every minute moves it on.
IDLE_ADVANCE = 1000

_Task = TypeVar("_Task", bound=Callable[..., Any])


def _keyed_by_package(task: _Task) -> _Task:
    """Huey keys a job by its function's module and its name: the outbox's jobs stay keyed by the package
    (`smartcomm.kit.outbox.events.dispatch`, as when it was one module), so that a job queued or scheduled
    by a process of an earlier version still finds its function."""
    task.__module__ = "smartcomm.kit.outbox"
    return task


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
@_keyed_by_package
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
@_keyed_by_package
def purge_events() -> None:
    """Delete the events older than the retention that every subscriber has passed."""
    names = [each.name for each in subscribers()]
    with session_scope(read_only=True) as session:
        cutoff = database_now(session) - timedelta(days=config.outbox_retention_days)
        floor = _slowest_checkpoint(session, names)
    while floor > 0 and _purge_chunk(floor, cutoff):
        pass


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
