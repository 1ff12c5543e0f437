"""The loyalty webhook: whole-channel opt-outs recorded once per customer, then POSTed, signed, with retries.

The `webhooks.loyalty` subscriber turns each `consent.changed` event that switched a whole channel off
into one delivery row per customer, in the subscriber's transaction (so exactly once). Sending happens
after that commit, outside any transaction (`webhooks.deliver`), as `kit.signed_delivery` sends: each
attempt claimed, POSTed signed, its outcome written, a failed one tried again after a growing pause. The
receiver may get a delivery twice (never for two different changes): the `X-Smartcomm-Delivery` header
and the body's `event_id` tell a repeat apart.

The body is signed with the webhook secret (General settings → Loyalty system; the accrual requests of
`loyalty.sending` share the address and the secret, read by `loyalty_endpoint` below). Without an address
no delivery is recorded; without a secret nothing is sent (the attempts fail with that reason until one
is set).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from smartcomm.channels.secrets import SecretUnreadable, unseal
from smartcomm.kit.db import session_scope
from smartcomm.kit.outbox import Event
from smartcomm.kit.signed_delivery import PENDING, Attempt, Endpoint, Outcome, SignedSender
from smartcomm.kit.time import utcnow
from smartcomm.settings.schemas import DeliverySettings
from smartcomm.settings.service import settings_service
from smartcomm.webhooks.repository import WebhookRepository, deliveries

OPT_OUT = "consent.channel_opt_out"


class WebhookService(SignedSender):
    table = deliveries
    noun = "webhook delivery"

    def record_opt_outs(self, session: Session, events: Sequence[Event]) -> int:
        """One delivery per customer who switched a whole channel off; returns how many were recorded.
        Nothing is recorded while no webhook address is configured."""
        if not settings_service.read(session, DeliverySettings).webhook_url:
            return 0
        now = utcnow()
        rows = [_delivery_row(event, change, now) for event in events for change in _opt_outs(event)]
        WebhookRepository(session).add_once(rows)
        return len(rows)

    def endpoint(self) -> Endpoint | Outcome:
        return loyalty_endpoint()

    def attempt_of(self, session: Session, row_id: int) -> Attempt:
        found = WebhookRepository(session).get(row_id)
        assert found is not None
        headers = {"X-Smartcomm-Event": found.kind, "X-Smartcomm-Delivery": str(found.id)}
        return Attempt(found.id, found.attempts, found.body, headers)

    def deliver_later(self, at: datetime) -> None:
        from smartcomm.webhooks.tasks import deliver_webhooks  # the task module imports this one

        deliver_webhooks.schedule(delay=max((at - utcnow()).total_seconds(), 1.0))


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


webhook_service = WebhookService()
