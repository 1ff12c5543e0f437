"""What an action is: what happens to the journeys that reach a node, and where each goes next.

`run(step, journeys)` gets every journey of one batch standing at one node, and answers for each, in
order: `Go(output)` (it was processed: on to the node that output leads to), `Hold(until)` (come back to
this node then — a wait, an A/B test waiting for its winner) or `Stop(reason)` (not processed: the journey
ends here — a send the policy gate suppressed passes nobody on). Everything an action writes goes into the
step's session, in the transaction that also moves the journeys, so a worker killed half-way leaves both
undone and the batch is walked again; sends are ledger rows keyed by (version, node, customer, entry,
visit), so even a second walk could not send twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeAlias
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from smartcomm.campaigns.nodes import OUT, NodeKind
from smartcomm.models import Campaign, Journey


@dataclass(frozen=True)
class Go:
    output: str = OUT


@dataclass(frozen=True)
class Hold:
    until: datetime


@dataclass(frozen=True)
class Stop:
    reason: str


Outcome: TypeAlias = Go | Hold | Stop


@dataclass
class Step:
    """One node's turn in a batch: where it runs and what it may read."""

    session: Session
    campaign: Campaign
    version_id: int
    node: str
    settings: Any
    now: datetime
    zone: ZoneInfo  # the project's time zone
    memo: dict[str, Any] = field(default_factory=dict)  # per-batch cache an action may keep things in

    def visit(self, journey: Journey) -> int:
        """How many times this journey has arrived at this node (1 the first time)."""
        return int((journey.state.get("visits") or {}).get(self.node, 1))

    def arrived_at(self, journey: Journey) -> datetime:
        return journey.arrived_at


class Action(NodeKind):
    group = "action"

    def run(self, step: Step, journeys: Sequence[Journey]) -> list[Outcome]:
        raise NotImplementedError
