"""Campaigns on the domain-event outbox: real-time triggers enter customers, exit rules remove them.

Both are outbox subscribers, so an event committed by a process that died before anything else happened
still enters its customers (the dispatcher hands it over later), and an event handed over twice enters
nobody twice (journeys are unique per occurrence) — the subscriber's work and its checkpoint commit
together.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy.orm import Session

from smartcomm.campaigns import nodes
from smartcomm.campaigns.engine import enter, enter_selected, graph_of
from smartcomm.campaigns.exits import EXIT_KINDS, exit_customers
from smartcomm.campaigns.repository import CampaignRepository
from smartcomm.campaigns.triggers.base import Trigger
from smartcomm.kit.outbox import Event, subscriber
from smartcomm.kit.time import utcnow


def _listened() -> frozenset[str]:
    found: set[str] = set()
    for each in nodes.of_group("trigger"):
        if isinstance(each, Trigger):
            found |= each.listens
    return frozenset(found)


@subscriber("campaigns.triggers", kinds=_listened())
def enter_on_events(session: Session, events: Sequence[Event]) -> None:
    """Hand each active campaign whose trigger listens to these events' kinds the events, and enter the
    customers its trigger names."""
    kinds = {event.kind for event in events}
    triggers = {
        each.name: each
        for each in nodes.of_group("trigger")
        if isinstance(each, Trigger) and each.listens & kinds
    }
    if not triggers:
        return
    repository = CampaignRepository(session)
    now = utcnow()
    for campaign in repository.active_with_triggers(list(triggers)):
        version = repository.version(campaign.published_version_id or 0)
        if version is None:
            continue
        graph = graph_of(version)
        node = graph.trigger
        trigger = triggers.get(node.kind) if node is not None else None
        if node is None or trigger is None or node.id not in graph.settings:
            continue
        relevant = [event for event in events if event.kind in trigger.listens]
        settings = graph.settings[node.id]
        enter(session, campaign, trigger.entries(session, settings, relevant), now)
        for selection in trigger.selections(session, settings, relevant):
            enter_selected(session, campaign, selection, now)


@subscriber("campaigns.exits", kinds=EXIT_KINDS)
def exit_on_events(session: Session, events: Sequence[Event]) -> None:
    """End the journeys under way of the customers these events concern, in the campaigns whose exit
    rules name them."""
    by_kind: dict[str, list[Event]] = defaultdict(list)
    for event in events:
        by_kind[event.kind].append(event)
    exit_customers(session, by_kind, utcnow())
