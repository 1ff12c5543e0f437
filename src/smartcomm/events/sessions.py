"""Web sessions: which session each web event of a batch belongs to, and the sessions' counters."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from smartcomm.events.repository import SessionRepository, SessionRow

# A visit or login starts a session; without a session key, 30 minutes of inactivity end one.
SESSION_STARTERS = frozenset({"visit", "login"})
SESSION_TIMEOUT = timedelta(minutes=30)

Owner = tuple[str, str]  # ("visitor", id) or ("customer", id)


@dataclass(slots=True)
class SessionState:
    key: str
    visitor_id: str
    customer_id: int | None
    source_id: int | None
    started_at: datetime
    last_event_at: datetime
    id: int | None = None
    added: int = 0

    @classmethod
    def from_row(cls, row: SessionRow) -> SessionState:
        return cls(
            key=row.key,
            visitor_id=row.visitor_id,
            customer_id=row.customer_id,
            source_id=None,
            started_at=row.started_at,
            last_event_at=row.last_event_at,
            id=row.id,
        )

    def continues_at(self, at: datetime) -> bool:
        return self.started_at - SESSION_TIMEOUT <= at <= self.last_event_at + SESSION_TIMEOUT


@dataclass(frozen=True, slots=True)
class SessionClaim:
    """What a web event tells about its session."""

    kind: str
    occurred_at: datetime
    visitor_id: str | None
    customer_id: int | None
    source_id: int
    key: str | None


def owner_of(visitor_id: str | None, customer_id: int | None) -> Owner:
    return ("visitor", visitor_id) if visitor_id else ("customer", str(customer_id))


class SessionTracker:
    """Assigns the events of one batch to sessions in order, then writes the sessions in bulk."""

    def __init__(self, session: Session, claims: Sequence[SessionClaim]) -> None:
        self.repository = SessionRepository(session)
        self.by_key: dict[str, SessionState] = {}
        self.latest: dict[Owner, SessionState] = {}
        for row in self.repository.by_keys([c.key for c in claims if c.key]):
            self.by_key[row.key] = SessionState.from_row(row)
        keyless = [c for c in claims if not c.key]
        for row in self.repository.latest_of_visitors([c.visitor_id for c in keyless if c.visitor_id]):
            self._remember(("visitor", row.visitor_id), SessionState.from_row(row))
        customers = [c.customer_id for c in keyless if not c.visitor_id and c.customer_id is not None]
        for row in self.repository.latest_of_customers(customers):
            self._remember(("customer", str(row.customer_id)), SessionState.from_row(row))

    def assign(self, claim: SessionClaim) -> SessionState:
        """The session of this event (started when needed), with the event counted into it."""
        owner = owner_of(claim.visitor_id, claim.customer_id)
        current = self.by_key.get(claim.key) if claim.key else self.latest.get(owner)
        if claim.key and current is None:
            current = self._start(claim, claim.key)
        elif not claim.key and (
            current is None or claim.kind in SESSION_STARTERS or not current.continues_at(claim.occurred_at)
        ):
            current = self._start(claim, uuid.uuid4().hex)
        assert current is not None
        self._remember(owner, current)
        current.added += 1
        current.last_event_at = max(current.last_event_at, claim.occurred_at)
        current.customer_id = current.customer_id or claim.customer_id
        return current

    def save(self) -> None:
        """Insert the new sessions (their ids become known) and advance the counters of existing ones."""
        fresh = [state for state in self.by_key.values() if state.id is None]
        stored = [state for state in self.by_key.values() if state.id is not None and state.added]
        ids = self.repository.insert([self._new_row(state) for state in fresh])
        for state, id_ in zip(fresh, ids, strict=True):
            state.id = id_
        self.repository.advance(
            [
                {"s_id": s.id, "s_count": s.added, "s_last": s.last_event_at, "s_customer": s.customer_id}
                for s in stored
            ]
        )

    def _start(self, claim: SessionClaim, key: str) -> SessionState:
        state = SessionState(
            key=key,
            visitor_id=claim.visitor_id or "",
            customer_id=claim.customer_id,
            source_id=claim.source_id,
            started_at=claim.occurred_at,
            last_event_at=claim.occurred_at,
        )
        self.by_key[key] = state
        return state

    def _remember(self, owner: Owner, state: SessionState) -> None:
        # One object per session, however it was found (by key or as a visitor's latest).
        self.latest[owner] = self.by_key.setdefault(state.key, state)

    @staticmethod
    def _new_row(state: SessionState) -> dict[str, object]:
        return {
            "key": state.key,
            "visitor_id": state.visitor_id,
            "customer_id": state.customer_id,
            "source_id": state.source_id,
            "started_at": state.started_at,
            "last_event_at": state.last_event_at,
            "event_count": state.added,
        }


def is_session_open(
    session: Session, key: str | None, visitor_id: str | None, customer_id: int | None, at: datetime
) -> bool:
    """Whether an event at `at` continues a session: the one of `key`, else the visitor's (or customer's)
    latest one if it was active within the last 30 minutes."""
    repository = SessionRepository(session)
    if key:
        return bool(repository.by_keys([key]))
    if visitor_id:
        rows = repository.latest_of_visitors([visitor_id])
    elif customer_id is not None:
        rows = repository.latest_of_customers([customer_id])
    else:
        rows = []
    return any(SessionState.from_row(row).continues_at(at) for row in rows)
