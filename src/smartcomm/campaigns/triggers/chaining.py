"""Campaign chaining: "action worked" — a chosen node of another campaign processed the customer.

The journey engine publishes `campaign.node_passed` after each walked batch, one event per campaign,
version and node, for the nodes that some active campaign's "action worked" trigger watches
(`engine.publish_passed`). A node "processed" a customer when the customer left it by one of its outputs
(a send that sent, a filter either way); a journey stopped there (a suppressed send) was not processed.
Each event enters each of its customers once. A campaign never watches itself: its own passing would enter
its customers again and again.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import Field, ValidationError
from sqlalchemy.orm import Session

from smartcomm.campaigns.graph import Graph, NodeId
from smartcomm.campaigns.nodes import Settings, kind, register
from smartcomm.campaigns.triggers.base import Entry, Trigger
from smartcomm.kit.i18n import lazy
from smartcomm.kit.outbox import Event
from smartcomm.kit.types import RowId
from smartcomm.models import Campaign, CampaignVersion

ACTION_WORKED = "trigger.action_worked"
NODE_PASSED = "campaign.node_passed"


class ChainSettings(Settings):
    campaign_id: RowId = Field(title=lazy("Campaign"))
    node: NodeId = Field(title=lazy("Its node"), description=lazy("The node whose customers enter this one."))


@register
class ActionWorked(Trigger):
    name = ACTION_WORKED
    family = "chaining"
    label = lazy("Action worked")
    description = lazy("A chosen action of another campaign processed the customer")
    icon = "ti-link"
    settings_model = ChainSettings
    listens = frozenset({NODE_PASSED})

    def check(self, settings: Any, context: Any) -> list[tuple[str, str]]:
        campaign = context.session.get(Campaign, settings.campaign_id)
        if campaign is None:
            return [("campaign_id", str(lazy("The campaign does not exist")))]
        if settings.node not in {node_id for node_id, _ in node_choices(context.session, campaign.id)}:
            return [("node", str(lazy("The campaign has no such node")))]
        return []

    def entries(self, session: Session, settings: Any, events: Sequence[Event]) -> list[Entry]:
        return [
            Entry(customer_id, f"node_passed:{event.id}", _context(event))
            for event in events
            if event.payload.get("campaign_id") == settings.campaign_id
            and event.payload.get("node") == settings.node
            for customer_id in sorted(event.customers or ())
        ]


def _context(event: Event) -> dict[str, Any]:
    payload = event.payload
    return {
        "campaign_id": payload.get("campaign_id"),
        "version_id": payload.get("version_id"),
        "node": payload.get("node"),
        "passed_at": event.occurred_at.isoformat(),
    }


def node_choices(session: Session, campaign_id: int) -> list[tuple[str, str]]:
    """The nodes of a campaign one may watch, for the editor's select: (node id, the kind's label) of its
    published graph and of its draft."""
    campaign = session.get(Campaign, campaign_id)
    if campaign is None:
        return []
    found: dict[str, str] = {}
    for version_id in (campaign.published_version_id, campaign.draft_version_id):
        version = session.get(CampaignVersion, version_id) if version_id is not None else None
        try:
            graph = Graph.of(version.graph) if version is not None else None
        except ValidationError:  # a draft saved half-made
            graph = None
        for node in graph.nodes.values() if graph is not None else ():
            known = kind(node.kind)
            found.setdefault(node.id, str(known.label) if known is not None else node.kind)
    return sorted(found.items())


def watched_by(campaign_id: int, graph: Graph) -> tuple[int, str] | None:
    """The (campaign, node) an "action worked" campaign watches — None when it would watch itself."""
    node = graph.trigger
    settings = graph.settings.get(node.id) if node is not None else None
    if node is None or node.kind != ACTION_WORKED or settings is None or settings.campaign_id == campaign_id:
        return None
    return settings.campaign_id, settings.node
