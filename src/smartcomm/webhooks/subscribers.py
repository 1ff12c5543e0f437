"""The loyalty webhook subscribes to consent changes: a whole channel switched off is told to the loyalty
system; a single mailing category is not."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from smartcomm.kit.jobs import enqueue_after_commit
from smartcomm.kit.outbox import Event, subscriber
from smartcomm.webhooks.service import webhook_service
from smartcomm.webhooks.tasks import deliver_webhooks


@subscriber("webhooks.loyalty", kinds={"consent.changed"})
def notify_loyalty_system(session: Session, events: Sequence[Event]) -> None:
    if webhook_service.record_opt_outs(session, events):
        enqueue_after_commit(session, deliver_webhooks)
