"""The funnel numbers the canvas draws on its nodes: how many journeys reached each node, how many stand there
now, and how many left by each output or stopped there.

Node ids stay the same from one version to the next (a draft is a copy of the published graph), so the
numbers of a node are summed over every version of the campaign unless one version is asked for.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from smartcomm.campaigns.engine import ARRIVED, STOPPED
from smartcomm.campaigns.repository import CampaignRepository
from smartcomm.models import CampaignNodeStat, CampaignVersion


@dataclass
class NodeFigures:
    arrived: int = 0
    in_progress: int = 0
    outputs: dict[str, int] = field(default_factory=dict)
    stopped: dict[str, int] = field(default_factory=dict)  # reason → journeys that ended here

    def as_json(self) -> dict[str, Any]:
        return {
            "arrived": self.arrived,
            "in_progress": self.in_progress,
            "outputs": self.outputs,
            "stopped": sum(self.stopped.values()),
            "stopped_by_reason": self.stopped,
        }


def node_figures(session: Session, campaign_id: int, version_id: int | None = None) -> dict[str, NodeFigures]:
    """Per node id: its counters summed over the days (and over the versions, unless one is named)."""
    figures: dict[str, NodeFigures] = defaultdict(NodeFigures)
    for node, outcome, count in _stats(session, campaign_id, version_id):
        _add(figures[node], outcome, int(count))
    version_ids = [version_id] if version_id is not None else _version_ids(session, campaign_id)
    for (_, node), count in CampaignRepository(session).in_flight_by_node(version_ids).items():
        figures[node].in_progress += count
    return dict(figures)


def _add(figures: NodeFigures, outcome: str, count: int) -> None:
    if outcome == ARRIVED:
        figures.arrived += count
    elif outcome.startswith(f"{STOPPED}:"):
        reason = outcome.split(":", 1)[1]
        figures.stopped[reason] = figures.stopped.get(reason, 0) + count
    else:
        figures.outputs[outcome] = figures.outputs.get(outcome, 0) + count


def _stats(session: Session, campaign_id: int, version_id: int | None) -> list[tuple[str, str, int]]:
    statement = (
        select(CampaignNodeStat.node, CampaignNodeStat.outcome, func.sum(CampaignNodeStat.count))
        .where(CampaignNodeStat.campaign_id == campaign_id)
        .group_by(CampaignNodeStat.node, CampaignNodeStat.outcome)
    )
    if version_id is not None:
        statement = statement.where(CampaignNodeStat.version_id == version_id)
    return [(str(n), str(o), int(c or 0)) for n, o, c in session.execute(statement)]


def _version_ids(session: Session, campaign_id: int) -> list[int]:
    statement = select(CampaignVersion.id).where(CampaignVersion.campaign_id == campaign_id)
    return list(session.scalars(statement))
