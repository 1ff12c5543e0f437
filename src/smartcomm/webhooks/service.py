"""The loyalty webhook: whole-channel opt-outs recorded once per customer, then POSTed, signed, with retries.

The `webhooks.loyalty` subscriber turns each `consent.changed` event that switched a whole channel off
into one delivery row per customer, in the subscriber's transaction (so exactly once). Sending happens
after that commit, outside any transaction (`webhooks.deliver`): an attempt is claimed (counted, and held
for a minute so that no other worker sends it meanwhile), POSTed, and its outcome written. A failed
attempt — no answer, or any status but 2xx — is tried again after a growing pause, up to MAX_ATTEMPTS;
a worker killed during an attempt leaves it due again after the hold. The receiver may therefore get a
delivery twice (never for two different changes): the `X-Smartcomm-Delivery` header and the body's
`event_id` tell a repeat apart. (An attempt names the process making it: when that worker is killed, the
next run on the same machine sees its process gone and makes the attempt again at once.)

The body is JSON with sorted keys, the same bytes on every attempt; `X-Smartcomm-Signature` is
`sha256=` + the hex HMAC-SHA256 of those bytes keyed with the webhook secret (General settings →
Loyalty system; the accrual requests of `loyalty.sending` share the address, the secret and the helpers
below). Without an address no delivery is recorded; without a secret nothing is sent (the attempts fail
with that reason until one is set).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy.orm import Session

from smartcomm.channels.secrets import SecretUnreadable, unseal
from smartcomm.kit.db import session_scope
from smartcomm.kit.leases import is_gone, this_process
from smartcomm.kit.outbox import Event
from smartcomm.kit.time import utcnow
from smartcomm.settings.schemas import DeliverySettings
from smartcomm.settings.service import settings_service
from smartcomm.webhooks.repository import DELIVERED, FAILED, PENDING, WebhookRepository

logger = logging.getLogger(__name__)

OPT_OUT = "consent.channel_opt_out"
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
    delivery_id: int
    attempts: int  # this one included
    kind: str
    body: dict[str, Any]


@dataclass(frozen=True)
class Outcome:
    delivered: bool
    response_status: int | None = None
    error: str | None = None


class WebhookService:
    def record_opt_outs(self, session: Session, events: Sequence[Event]) -> int:
        """One delivery per customer who switched a whole channel off; returns how many were recorded.
        Nothing is recorded while no webhook address is configured."""
        if not settings_service.read(session, DeliverySettings).webhook_url:
            return 0
        now = utcnow()
        rows = [_delivery_row(event, change, now) for event in events for change in _opt_outs(event)]
        WebhookRepository(session).add_once(rows)
        return len(rows)

    def deliver_due(self) -> int:
        """Send every due delivery once; returns how many were delivered. A failed attempt is tried again by
        a later run (queued for its time here, and the periodic sweep)."""
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
        """POST one delivery to the configured address (outside any transaction)."""
        endpoint = loyalty_endpoint()
        if isinstance(endpoint, Outcome):
            return endpoint
        return _post(endpoint, attempt)

    def _claimed(self) -> Iterator[Attempt]:
        """The due deliveries, and those whose attempt a killed worker held, each claimed for one attempt
        just before it is made."""
        while True:
            now = utcnow()
            with session_scope(read_only=True) as session:
                repository = WebhookRepository(session)
                due = [(id_, None) for id_ in repository.due_ids(now, BATCH)]
                orphans = [(id_, owner) for id_, owner, at in repository.held(now) if holder_gone(owner, at)]
            for delivery_id, gone in due + orphans:
                attempt = self._claim(delivery_id, gone)
                if attempt is not None:
                    yield attempt
            if len(due) < BATCH:
                return

    def _claim(self, delivery_id: int, gone: str | None) -> Attempt | None:
        with session_scope() as session:
            repository = WebhookRepository(session)
            if not repository.claim(delivery_id, utcnow(), CLAIM_HOLD, this_process(), gone):
                return None  # another worker took it, or it is no longer due
            found = repository.get(delivery_id)
            assert found is not None
            return Attempt(found.id, found.attempts, found.kind, found.body)

    def _record(self, attempt: Attempt, outcome: Outcome) -> datetime | None:
        """Write the attempt's outcome; returns when it is tried again (None: delivered or given up)."""
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
            WebhookRepository(session).record(attempt.delivery_id, **values)
        if not outcome.delivered:
            logger.warning(
                "webhook delivery %d, attempt %d: %s", attempt.delivery_id, attempt.attempts, outcome.error
            )
        return retry_at


def holder_gone(owner: str, held_until: datetime) -> bool:
    """Whether the process holding an attempt is gone (on this host: looked up; elsewhere: the hold)."""
    return is_gone(owner, held_until - CLAIM_HOLD)


def retry_pause(attempts: int) -> timedelta:
    """How long a failed attempt waits before the next, after `attempts` attempts."""
    return timedelta(seconds=RETRY_SECONDS[min(attempts, len(RETRY_SECONDS)) - 1])


@dataclass(frozen=True)
class Endpoint:
    """Where the loyalty system takes what smartcomm sends it, and the secret that signs it."""

    url: str
    secret: str


def loyalty_endpoint() -> Endpoint | Outcome:
    """The loyalty system's address and signing secret (General settings), read in a short transaction of
    its own; an Outcome saying why nothing can be sent when one is missing or unreadable."""
    with session_scope(read_only=True) as session:
        settings = settings_service.read(session, DeliverySettings)
    if not settings.webhook_url:
        return Outcome(False, error="no webhook address is configured")
    if not settings.webhook_secret:
        return Outcome(False, error="no webhook secret is configured: nothing is sent unsigned")
    try:
        return Endpoint(settings.webhook_url, unseal(settings.webhook_secret))
    except SecretUnreadable:
        return Outcome(False, error="the webhook secret was stored under another secret key: set it again")


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


def _opt_outs(event: Event) -> list[dict[str, Any]]:
    """The customers of a consent.changed event who switched at least one whole channel off."""
    return [change for change in event.payload.get("customers", ()) if change.get("channels_off")]


def _delivery_row(event: Event, change: dict[str, Any], now: datetime) -> dict[str, Any]:
    body = {
        "event": OPT_OUT,
        "event_id": event.id,
        "occurred_at": event.occurred_at.isoformat(),
        "customer": {"id": change["customer_id"], "external_id": change.get("external_id")},
        "channels": sorted(change["channels_off"]),
        "source": event.payload.get("source"),
    }
    return {
        "event_id": event.id,
        "customer_id": change["customer_id"],
        "kind": OPT_OUT,
        "body": body,
        "status": PENDING,
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
    }


def _post(endpoint: Endpoint, attempt: Attempt) -> Outcome:
    headers = {"X-Smartcomm-Event": attempt.kind, "X-Smartcomm-Delivery": str(attempt.delivery_id)}
    return post_signed(endpoint, attempt.body, headers)


def _deliver_later(at: datetime) -> None:
    from smartcomm.webhooks.tasks import deliver_webhooks

    deliver_webhooks.schedule(delay=max((at - utcnow()).total_seconds(), 1.0))


webhook_service = WebhookService()
