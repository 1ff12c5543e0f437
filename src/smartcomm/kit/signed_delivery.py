"""Rows POSTed to a receiver after the commit that recorded them, signed, with retries.

A table of such rows has the columns `id, status, attempts, next_attempt_at, claimed_by, response_status,
error, delivered_at` (the webhook deliveries, the loyalty system's accrual requests). Each attempt is
claimed first — counted, and held for CLAIM_HOLD so that no other worker makes it meanwhile — then POSTed
outside any transaction, and its outcome written. A failed attempt (no answer, or any status but 2xx) is
made again after growing pauses, up to MAX_ATTEMPTS; then the row is failed. An attempt names the process
making it (`kit.leases`): when that worker is killed, the next run on the same machine sees its process
gone and makes the attempt again at once; elsewhere, after the hold. A receiver may therefore get a row
twice, and tells the repeat apart by what the sender puts in its headers and body.

The body is JSON with sorted keys, the same bytes on every attempt; SIGNATURE_HEADER is `sha256=` + the
hex HMAC-SHA256 of those bytes keyed with the receiver's secret.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, ClassVar

import httpx
from sqlalchemy import Table, select, update
from sqlalchemy.orm import Session

from smartcomm.kit.db import session_scope
from smartcomm.kit.leases import is_gone, this_process
from smartcomm.kit.time import utcnow

PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"
SIGNATURE_HEADER = "X-Smartcomm-Signature"
MAX_ATTEMPTS = 10
# Pauses after the 1st, 2nd, … failed attempt (the last repeats): ten attempts span about five hours.
RETRY_SECONDS = (30, 60, 300, 900, 1800, 3600)
ATTEMPT_TIMEOUT_SECONDS = 10.0
CLAIM_HOLD = timedelta(seconds=60)  # longer than an attempt can take
BATCH = 20


def signature(secret: str, body: bytes) -> str:
    """The value of X-Smartcomm-Signature for this body."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def body_bytes(body: dict[str, Any]) -> bytes:
    """The body as sent: compact JSON with sorted keys, identical on every attempt."""
    return json.dumps(body, separators=(",", ":"), sort_keys=True, ensure_ascii=False).encode()


@dataclass(frozen=True)
class Attempt:
    """One claimed attempt of a row: what is POSTed, and the headers that name it to the receiver."""

    id: int
    attempts: int  # this one included
    body: dict[str, Any]
    headers: dict[str, str]


@dataclass(frozen=True)
class Outcome:
    delivered: bool
    response_status: int | None = None
    error: str | None = None


@dataclass(frozen=True)
class Endpoint:
    """Where the receiver takes what is sent to it, and the secret that signs it."""

    url: str
    secret: str


def post_signed(endpoint: Endpoint, body: dict[str, Any], headers: dict[str, str]) -> Outcome:
    """POST `body` (as `body_bytes`) signed with the endpoint's secret, with `headers` added; any 2xx
    answer within the timeout delivers it."""
    content = body_bytes(body)
    sent = {
        "Content-Type": "application/json",
        "User-Agent": "smartcomm-webhooks",
        **headers,
        SIGNATURE_HEADER: signature(endpoint.secret, content),
    }
    try:
        response = httpx.post(endpoint.url, content=content, headers=sent, timeout=ATTEMPT_TIMEOUT_SECONDS)
    except httpx.HTTPError as error:
        return Outcome(False, error=f"{type(error).__name__}: {error}"[:1000])
    if response.is_success:
        return Outcome(True, response.status_code)
    return Outcome(False, response.status_code, f"HTTP {response.status_code}: {response.text[:200]}")


def holder_gone(owner: str, held_until: datetime) -> bool:
    """Whether the process holding an attempt is gone (on this host: looked up; elsewhere: the hold)."""
    return is_gone(owner, held_until - CLAIM_HOLD)


def retry_pause(attempts: int) -> timedelta:
    """How long a failed attempt waits before the next, after `attempts` attempts."""
    return timedelta(seconds=RETRY_SECONDS[min(attempts, len(RETRY_SECONDS)) - 1])


class SignedRows:
    """The SQL of a table of signed rows: the due ones, the held ones, a claim, an attempt's outcome."""

    def __init__(self, session: Session, table: Table) -> None:
        self.session = session
        self.table = table

    def due_ids(self, now: datetime, limit: int) -> list[int]:
        rows = self.table.c
        statement = (
            select(rows.id)
            .where(rows.status == PENDING, rows.next_attempt_at <= now)
            .order_by(rows.next_attempt_at, rows.id)
            .limit(limit)
        )
        return list(self.session.scalars(statement))

    def held(self, now: datetime) -> list[tuple[int, str, datetime]]:
        """(id, owner, held until) of the rows an attempt holds right now."""
        rows = self.table.c
        held_until = rows.next_attempt_at  # a claim moves it on by the hold
        statement = select(rows.id, rows.claimed_by, held_until).where(
            rows.status == PENDING, rows.claimed_by.is_not(None), held_until > now
        )
        return [(id_, owner, at) for id_, owner, at in self.session.execute(statement)]

    def claim(self, row_id: int, now: datetime, hold: timedelta, owner: str, gone: str | None) -> bool:
        """Take a row for one attempt — a due one, or one whose attempt the process `gone` held —
        counted, and not due again for `hold` (so that no other worker sends it meanwhile)."""
        rows = self.table.c
        taken = rows.next_attempt_at <= now if gone is None else rows.claimed_by == gone
        statement = (
            update(self.table)
            .where(rows.id == row_id, rows.status == PENDING, taken)
            .values(attempts=rows.attempts + 1, next_attempt_at=now + hold, claimed_by=owner)
        )
        return bool(getattr(self.session.execute(statement), "rowcount", 0))

    def record(self, row_id: int, **values: Any) -> None:
        self.session.execute(update(self.table).where(self.table.c.id == row_id).values(**values))


class SignedSender(ABC):
    """Sends the due rows of one table, each claimed just before its attempt; a subclass says which table,
    what an attempt of a row POSTs, where to, and how a retry is queued."""

    table: ClassVar[Table]
    noun: ClassVar[str]  # a row in the log: "webhook delivery 7, attempt 2: …"

    @abstractmethod
    def endpoint(self) -> Endpoint | Outcome:
        """Where attempts go; an Outcome saying why nothing can be sent now."""

    @abstractmethod
    def attempt_of(self, session: Session, row_id: int) -> Attempt:
        """The attempt of a row just claimed, read in the claiming transaction."""

    @abstractmethod
    def deliver_later(self, at: datetime) -> None:
        """Queue a run for the time of the earliest retry."""

    def deliver_due(self) -> int:
        """Make one attempt of every due row; returns how many were delivered. A failed attempt is made
        again by a later run (queued for its time here, and the periodic sweep)."""
        delivered, retries = 0, []
        for attempt in self._claimed():
            outcome = self.send(attempt)
            retry_at = self._record(attempt, outcome)
            delivered += outcome.delivered
            retries += [retry_at] if retry_at is not None else []
        if retries:
            self.deliver_later(min(retries))
        return delivered

    def send(self, attempt: Attempt) -> Outcome:
        """POST one attempt to the endpoint (outside any transaction)."""
        endpoint = self.endpoint()
        if isinstance(endpoint, Outcome):
            return endpoint
        return post_signed(endpoint, attempt.body, attempt.headers)

    def _claimed(self) -> Iterator[Attempt]:
        """The due rows, and those whose attempt a killed worker held, each claimed for one attempt just
        before it is made."""
        while True:
            now = utcnow()
            with session_scope(read_only=True) as session:
                rows = SignedRows(session, self.table)
                due = [(id_, None) for id_ in rows.due_ids(now, BATCH)]
                orphans = [(id_, owner) for id_, owner, at in rows.held(now) if holder_gone(owner, at)]
            for row_id, gone in due + orphans:
                attempt = self._claim(row_id, gone)
                if attempt is not None:
                    yield attempt
            if len(due) < BATCH:
                return

    def _claim(self, row_id: int, gone: str | None) -> Attempt | None:
        with session_scope() as session:
            if not SignedRows(session, self.table).claim(row_id, utcnow(), CLAIM_HOLD, this_process(), gone):
                return None  # another worker took it, or it is no longer due
            return self.attempt_of(session, row_id)

    def _record(self, attempt: Attempt, outcome: Outcome) -> datetime | None:
        """Write the attempt's outcome; returns when it is made again (None: delivered or given up)."""
        values, retry_at = outcome_values(attempt, outcome, utcnow())
        with session_scope() as session:
            SignedRows(session, self.table).record(attempt.id, **values)
        if not outcome.delivered:
            # Logged under the sending module's name: its warnings are filtered and found with the rest of it.
            logging.getLogger(type(self).__module__).warning(
                "%s %d, attempt %d: %s", self.noun, attempt.id, attempt.attempts, outcome.error
            )
        return retry_at


def outcome_values(
    attempt: Attempt, outcome: Outcome, now: datetime
) -> tuple[dict[str, Any], datetime | None]:
    """The columns an attempt's outcome writes, and when the row is due again (None: delivered, given up)."""
    values: dict[str, Any] = {
        "response_status": outcome.response_status,
        "error": outcome.error,
        "claimed_by": None,
    }
    if outcome.delivered:
        return values | {"status": DELIVERED, "delivered_at": now}, None
    if attempt.attempts >= MAX_ATTEMPTS:
        return values | {"status": FAILED}, None
    retry_at = now + retry_pause(attempt.attempts)
    return values | {"status": PENDING, "next_attempt_at": retry_at}, retry_at
