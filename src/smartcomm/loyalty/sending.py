"""Accrual requests POSTed to the loyalty system after the commit that recorded them, signed, with retries.

The same mechanism as the consent webhook (`webhooks.service`), to the same address with the same secret
(Settings → General → Loyalty system): each attempt is claimed first — counted, and held for a minute so
that no other worker makes it meanwhile — then POSTed outside any transaction, and its outcome written.
A failed attempt (no answer, or any status but 2xx) is made again after the webhook's growing pauses, up
to its MAX_ATTEMPTS; then the request is failed, which its customer's profile shows. A worker killed
during an attempt leaves it to the next worker of the machine at once (elsewhere, after the hold): the
loyalty system may then receive a request twice, always under its one `Idempotency-Key`, which it uses
to drop the repeat.

The body is JSON with sorted keys, the same bytes on every attempt:

    {"amount": "200.00", "comment": "Birthday", "customer": {"external_id": "C-1", "id": 17},
     "event": "loyalty.accrue", "key": "…", "operation": "accrue", "request_id": 5,
     "requested_at": "2026-12-06T10:00:00+00:00", "source": {"id": "3", "kind": "campaign", "part": "n2"}}
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from smartcomm.kit.db import session_scope
from smartcomm.kit.leases import this_process
from smartcomm.kit.time import utcnow
from smartcomm.loyalty.repository import DELIVERED, FAILED, PENDING, LoyaltyRepository
from smartcomm.models import LoyaltyRequest
from smartcomm.webhooks.service import (
    BATCH,
    CLAIM_HOLD,
    MAX_ATTEMPTS,
    Outcome,
    holder_gone,
    loyalty_endpoint,
    post_signed,
    retry_pause,
)

logger = logging.getLogger(__name__)

EVENT = "loyalty.accrue"
KEY_HEADER = "Idempotency-Key"
REQUEST_HEADER = "X-Smartcomm-Request"


@dataclass(frozen=True)
class Attempt:
    request_id: int
    attempts: int  # this one included
    key: str
    body: dict[str, Any]


def request_body(request: LoyaltyRequest, external_id: str) -> dict[str, Any]:
    """What is POSTed for a request: built from its row alone, so every attempt sends the same bytes."""
    return {
        "event": EVENT,
        "request_id": request.id,
        "key": request.key,
        "operation": request.operation,
        "amount": str(request.amount),
        "comment": request.comment,
        "customer": {"id": request.customer_id, "external_id": external_id},
        "source": {"kind": request.source_kind, "id": request.source_id, "part": request.part},
        "requested_at": request.created_at.isoformat(),
    }


class LoyaltySender:
    def deliver_due(self) -> int:
        """Make one attempt of every due request; returns how many were delivered. A failed attempt is
        made again by a later run (queued for its time here, and the periodic sweep)."""
        delivered, retries = 0, []
        for attempt in self._claimed():
            outcome = self.send(attempt)
            retry_at = self._record(attempt, outcome)
            delivered += outcome.delivered
            retries += [retry_at] if retry_at is not None else []
        if retries:
            _deliver_later(min(retries))
        return delivered

    def send(self, attempt: Attempt) -> Outcome:
        """POST one request to the loyalty system (outside any transaction)."""
        endpoint = loyalty_endpoint()
        if isinstance(endpoint, Outcome):
            return endpoint
        headers = {
            "X-Smartcomm-Event": EVENT,
            REQUEST_HEADER: str(attempt.request_id),
            KEY_HEADER: attempt.key,
        }
        return post_signed(endpoint, attempt.body, headers)

    def _claimed(self) -> Iterator[Attempt]:
        """The due requests, and those whose attempt a killed worker held, each claimed for one attempt
        just before it is made."""
        while True:
            now = utcnow()
            with session_scope(read_only=True) as session:
                repository = LoyaltyRepository(session)
                due = [(id_, None) for id_ in repository.due_ids(now, BATCH)]
                orphans = [(id_, owner) for id_, owner, at in repository.held(now) if holder_gone(owner, at)]
            for request_id, gone in due + orphans:
                attempt = self._claim(request_id, gone)
                if attempt is not None:
                    yield attempt
            if len(due) < BATCH:
                return

    def _claim(self, request_id: int, gone: str | None) -> Attempt | None:
        with session_scope() as session:
            repository = LoyaltyRepository(session)
            if not repository.claim(request_id, utcnow(), CLAIM_HOLD, this_process(), gone):
                return None  # another worker took it, or it is no longer due
            found = repository.request_with_customer(request_id)
            assert found is not None
            request, external_id = found
            return Attempt(request.id, request.attempts, request.key, request_body(request, external_id))

    def _record(self, attempt: Attempt, outcome: Outcome) -> datetime | None:
        """Write the attempt's outcome; returns when it is made again (None: delivered or given up)."""
        now, retry_at = utcnow(), None
        values: dict[str, Any] = {
            "response_status": outcome.response_status,
            "error": outcome.error,
            "claimed_by": None,
        }
        if outcome.delivered:
            values |= {"status": DELIVERED, "delivered_at": now}
        elif attempt.attempts >= MAX_ATTEMPTS:
            values |= {"status": FAILED}
        else:
            retry_at = now + retry_pause(attempt.attempts)
            values |= {"status": PENDING, "next_attempt_at": retry_at}
        with session_scope() as session:
            LoyaltyRepository(session).record(attempt.request_id, **values)
        if not outcome.delivered:
            logger.warning(
                "loyalty request %d, attempt %d: %s", attempt.request_id, attempt.attempts, outcome.error
            )
        return retry_at


def _deliver_later(at: datetime) -> None:
    from smartcomm.loyalty.tasks import deliver_requests  # the task module imports this one

    deliver_requests.schedule(delay=max((at - utcnow()).total_seconds(), 1.0))


loyalty_sender = LoyaltySender()
