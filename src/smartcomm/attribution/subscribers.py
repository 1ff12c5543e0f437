"""Attribution keeps current as receipts and touches arrive, in the dispatcher's transaction.

A written receipt is attributed at once. A delivered or opened message re-attributes its customer's
receipts made since the message was made: usually none (the purchase comes after the touch), but an open
recorded late — the pixel fetched after the purchase was posted, with an earlier time — still claims the
purchases it preceded, as a rebuild would. A receipts import names customers, not receipts: their
receipts are attributed again; an import too large to name them queues `attribution.rebuild_updated`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy.orm import Session

from smartcomm.attribution.service import attribution_service
from smartcomm.attribution.tasks import rebuild_updated
from smartcomm.kit.jobs import enqueue_after_commit
from smartcomm.kit.outbox import Event, customers_of, subscriber

RECEIPTS = frozenset({"receipt.written", "receipts.imported"})
TOUCHES = frozenset({"message.delivered", "message.opened"})
# An import's receipts were written before its event: look back this far for them.
IMPORT_SLACK = timedelta(hours=1)


@subscriber("attribution", kinds=RECEIPTS | TOUCHES)
def attribute(session: Session, events: Sequence[Event]) -> None:
    written = [r["id"] for e in events if e.kind == "receipt.written" for r in e.payload.get("receipts", ())]
    if written:
        attribution_service.receipts_written(session, written)
    _imported(session, [e for e in events if e.kind == "receipts.imported"])
    touched = [message_id for e in events if e.kind in TOUCHES for message_id in _messages(e)]
    if touched:
        attribution_service.touched(session, touched)


def _imported(session: Session, events: Sequence[Event]) -> None:
    if not events:
        return
    customers = customers_of(events)
    if customers is None:
        since = min(event.occurred_at for event in events) - IMPORT_SLACK
        enqueue_after_commit(session, rebuild_updated, since.isoformat())
    elif customers:
        attribution_service.customers_changed(session, customers)


def _messages(event: Event) -> list[int]:
    """`message.delivered` names one message, `message.opened` a group's."""
    if "message_ids" in event.payload:
        return [int(each) for each in event.payload["message_ids"]]
    return [int(event.payload["message_id"])] if "message_id" in event.payload else []
