"""Exit rules: what removes a customer from a campaign on the way (a purchase, an order, a named event).

Only journeys that entered before the event are ended: the receipt that entered a customer into a
"cheque issued" campaign does not take them out of it again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from smartcomm.campaigns.reads import customer_events, ids_in, web_events
from smartcomm.campaigns.repository import WAITING
from smartcomm.kit.outbox import Event
from smartcomm.models import Campaign, Journey

RULE_KINDS = {
    "receipt": ("receipt.written", "receipts.imported"),
    "order": ("order.created",),
    "site_order": ("web_event.occurred",),
    "event": ("event.occurred",),
}
EXIT_KINDS = frozenset(kind for kinds in RULE_KINDS.values() for kind in kinds)


def exit_customers(session: Session, by_kind: Mapping[str, Sequence[Event]], now: datetime) -> int:
    """End the journeys the events' exit rules name; returns how many ended."""
    ended = 0
    for campaign in _with_exit_rules(session):
        for rule in campaign.exit_rules:
            for customer_id, when in _touched(session, rule, by_kind):
                ended += _end(session, campaign.id, customer_id, when, f"exit_{rule['kind']}", now)
    return ended


def _with_exit_rules(session: Session) -> list[Campaign]:
    statement = select(Campaign).where(Campaign.status != "draft", Campaign.published_version_id.is_not(None))
    return [campaign for campaign in session.scalars(statement) if campaign.exit_rules]


def _touched(
    session: Session, rule: dict[str, str], by_kind: Mapping[str, Sequence[Event]]
) -> list[tuple[int, datetime]]:
    """(customer, when) of each event the rule names."""
    kind = rule.get("kind", "")
    events = [event for name in RULE_KINDS.get(kind, ()) for event in by_kind.get(name, ())]
    if kind == "event":
        rows = customer_events(session, ids_in(events, "event_ids"), [rule.get("name", "")])
        return [(row.customer_id, row.occurred_at) for row in rows if row.customer_id is not None]
    if kind == "site_order":
        rows = web_events(session, ids_in(events, "web_event_ids"), ["order_complete"])
        return [(row.customer_id, row.occurred_at) for row in rows]
    touched: list[tuple[int, datetime]] = []
    for event in events:
        touched.extend((customer_id, event.occurred_at) for customer_id in event.customers or ())
    return touched


def _end(
    session: Session, campaign_id: int, customer_id: int, before: datetime, reason: str, now: datetime
) -> int:
    from sqlalchemy import update

    statement = (
        update(Journey)
        .where(
            Journey.campaign_id == campaign_id,
            Journey.customer_id == customer_id,
            Journey.status == WAITING,
            Journey.entered_at < before,
        )
        .values(status="exited", exit_reason=reason[:32], finished_at=now, wake_at=None)
    )
    return int(getattr(session.execute(statement), "rowcount", 0) or 0)
