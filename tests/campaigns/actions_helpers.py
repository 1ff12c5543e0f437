"""Test data of the campaign actions: graphs whose outputs park the customers at named waits (so where a
journey stands says which output it took), node figures, and a walk repeated over the same step."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from smartcomm.campaigns import engine
from smartcomm.campaigns.service import campaign_service
from smartcomm.kit.time import utcnow
from smartcomm.models import Campaign, CampaignNodeCounter, CampaignNodeStat, Journey
from tests.campaigns.helpers import edge, graph, journeys, node


def parked(node_id: str) -> dict[str, Any]:
    """A node that holds whoever reaches it for a week: where a journey waits names the output it took."""
    return node(node_id, "action.wait", amount=1, unit="weeks")


def split(
    action: dict[str, Any], outputs: dict[str, str], trigger: str = "trigger.cheque_issued"
) -> dict[str, Any]:
    """trigger → action, each output (name → parking node id) parked."""
    nodes = [node("t", trigger), action, *(parked(target) for target in outputs.values())]
    edges = [edge("t", action["id"]), *(edge(action["id"], target, out) for out, target in outputs.items())]
    return graph(nodes, edges)


def where(session: Session, campaign: Campaign) -> dict[int, str]:
    """{customer id: the node their latest journey stands at}."""
    return {journey.customer_id: journey.node for journey in journeys(session, campaign)}


def stats(session: Session, campaign_id: int) -> dict[tuple[str, str], int]:
    rows = session.execute(
        select(CampaignNodeStat.node, CampaignNodeStat.outcome, CampaignNodeStat.count).where(
            CampaignNodeStat.campaign_id == campaign_id
        )
    )
    found: dict[tuple[str, str], int] = {}
    for node_id, outcome, count in rows:
        found[(node_id, outcome)] = found.get((node_id, outcome), 0) + count
    return found


def counters(session: Session, campaign: Campaign, node_id: str) -> dict[str, int]:
    statement = select(CampaignNodeCounter.key, CampaignNodeCounter.value).where(
        CampaignNodeCounter.version_id == campaign.published_version_id, CampaignNodeCounter.node == node_id
    )
    return {row[0]: row[1] for row in session.execute(statement)}


def walk_again(session: Session, campaign: Campaign, node_id: str, at: datetime | None = None) -> None:
    """Put every journey of the campaign back at the node, due now, as a worker killed after the walk
    but before its commit would leave them — the same visit, so the same keys — and walk them again."""
    now = at or utcnow()
    session.execute(
        update(Journey)
        .where(Journey.campaign_id == campaign.id)
        .values(node=node_id, status="waiting", wake_at=now, finished_at=None, exit_reason=None)
    )
    session.commit()
    engine.advance()
    session.commit()


def problems(session: Session, body: dict[str, Any]) -> dict[str, str]:
    """The graph's problems as the editor shows them: {field: message}."""
    return {error.field: error.message for error in campaign_service.check(session, body).errors}
