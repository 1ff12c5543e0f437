"""Every SQL statement of a campaign's report: its journeys, its nodes' counters, its messages (all of them
or one node's, through `campaign_messages`), the receipts credited to them, and the groups of its
control nodes with their purchases.

A period narrows what happened in it: entries and ends by their time, node counters by their (UTC) day,
messages by when they were planned, credited receipts by their purchase. What stands now (journeys in
progress) is never narrowed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, and_, case, func, select
from sqlalchemy.orm import Session

from smartcomm.campaigns.repository import DONE, EXITED, WAITING, CampaignRepository
from smartcomm.delivery.ledger import Source
from smartcomm.kit.sqltime import plus_seconds  # the database's own date arithmetic
from smartcomm.models import (
    AttributedReceipt,
    Campaign,
    CampaignMessage,
    CampaignNodeStat,
    CampaignVersion,
    Journey,
    Message,
    Receipt,
)
from smartcomm.models.receipts import PURCHASE_STATUSES


@dataclass(frozen=True)
class Period:
    """[start, end) in UTC, and the UTC days the node counters of that stretch are filed under."""

    start: datetime
    end: datetime

    @property
    def first_day(self) -> str:
        return self.start.date().isoformat()

    @property
    def last_day(self) -> str:
        return (self.end - timedelta(microseconds=1)).date().isoformat()

    def holds(self, column: Any) -> Any:
        return and_(column >= self.start, column < self.end)


@dataclass(frozen=True)
class JourneyTotals:
    entered: int
    in_progress: int
    finished: int  # walked off the end of a branch, or stopped by a node
    exited: int  # removed by an exit rule


def _count(condition: Any) -> Any:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


class CampaignReportQueries:
    def __init__(self, session: Session, campaign_id: int, period: Period | None = None) -> None:
        self.session = session
        self.campaign_id = campaign_id
        self.period = period

    def _within(self, column: Any) -> Any:
        return self.period.holds(column) if self.period is not None else True

    # --- journeys and nodes -------------------------------------------------------------------------------

    def journey_totals(self) -> JourneyTotals:
        j = Journey
        statement = select(
            _count(self._within(j.entered_at)),
            _count(j.status == WAITING),
            _count(and_(j.status == DONE, self._within(j.finished_at))),
            _count(and_(j.status == EXITED, self._within(j.finished_at))),
        ).where(j.campaign_id == self.campaign_id)
        return JourneyTotals(*(int(value) for value in self.session.execute(statement).one()))

    def node_counts(self) -> list[tuple[str, str, int]]:
        """(node, outcome, journeys) summed over the versions and the days of the period."""
        stat = CampaignNodeStat
        statement = (
            select(stat.node, stat.outcome, func.sum(stat.count))
            .where(stat.campaign_id == self.campaign_id)
            .group_by(stat.node, stat.outcome)
        )
        if self.period is not None:
            statement = statement.where(stat.day >= self.period.first_day, stat.day <= self.period.last_day)
        return [
            (str(node), str(outcome), int(count or 0))
            for node, outcome, count in self.session.execute(statement)
        ]

    def in_progress_by_node(self) -> dict[str, int]:
        """Journeys standing at each node now, whatever their version."""
        repository = CampaignRepository(self.session)
        version_ids = [version.id for version in repository.versions(self.campaign_id)]
        found: dict[str, int] = {}
        for (_, node), count in repository.in_flight_by_node(version_ids).items():
            found[node] = found.get(node, 0) + count
        return found

    # --- messages -----------------------------------------------------------------------------------------

    def _node_messages(self, node: str) -> Select[Any]:
        return select(CampaignMessage.message_id).where(
            CampaignMessage.campaign_id == self.campaign_id, CampaignMessage.node == node
        )

    def message_scope(self, node: str | None) -> list[Any]:
        """The conditions on `messages` that name the campaign's messages to customers (of one node) in the
        period; the e-mails that tell staff about a customer are not the campaign's communications."""
        scope = [
            Message.source_kind == Source.CAMPAIGN,
            Message.source_id == self.campaign_id,
            Message.customer_id.is_not(None),
        ]
        if node is not None:
            scope.append(Message.id.in_(self._node_messages(node)))
        if self.period is not None:
            scope.append(self.period.holds(Message.created_at))
        return scope

    # --- credited receipts --------------------------------------------------------------------------------

    def _credited(self, node: str | None) -> list[Any]:
        credited = AttributedReceipt
        conditions = [
            credited.source_kind == Source.CAMPAIGN,
            credited.source_id == self.campaign_id,
            credited.credited.is_(True),
        ]
        if node is not None:
            conditions.append(credited.message_id.in_(self._node_messages(node)))
        if self.period is not None:
            conditions.append(self.period.holds(credited.purchased_at))
        return conditions

    def credited_totals(self, node: str | None) -> tuple[int, int, Decimal]:
        """(receipts, buyers, amount) credited to the campaign's messages (of one node)."""
        credited = AttributedReceipt
        statement = select(
            func.count(),
            func.count(func.distinct(credited.customer_id)),
            func.coalesce(func.sum(credited.amount), 0),
        ).where(*self._credited(node))
        receipts, buyers, amount = self.session.execute(statement).one()
        return int(receipts), int(buyers), Decimal(amount)

    def credited_purchases(self, node: str | None) -> list[tuple[datetime, Decimal]]:
        statement = select(AttributedReceipt.purchased_at, AttributedReceipt.amount).where(
            *self._credited(node)
        )
        return [(row[0], row[1]) for row in self.session.execute(statement)]

    # --- control groups -----------------------------------------------------------------------------------

    def reached(self, node: str, control: bool) -> Select[Any]:
        """(customer_id, starts_at) of the customers a control node held out (`control`) or let through:
        each with the time of their first such entry into the campaign, where their window starts. The
        node keeps its answer in the journey's state: `control: {node: true|false}`."""
        held_out = Journey.state[("control", node)].as_boolean()
        columns: list[Any] = [
            Journey.customer_id.label("customer_id"),
            func.min(Journey.entered_at).label("starts_at"),
        ]
        return (
            select(*columns)
            .where(
                Journey.campaign_id == self.campaign_id,
                held_out.is_(control),
                self._within(Journey.entered_at),
            )
            .group_by(Journey.customer_id)
        )

    def size(self, members: Select[Any]) -> int:
        return int(self.session.scalar(select(func.count()).select_from(members.subquery())) or 0)

    def delivered(self, members: Select[Any]) -> int:
        """Members with at least one delivered message of the campaign."""
        group = members.subquery()
        statement = select(func.count(func.distinct(Message.customer_id))).where(
            Message.source_kind == Source.CAMPAIGN,
            Message.source_id == self.campaign_id,
            Message.delivered_at.is_not(None),
            Message.customer_id.in_(select(group.c.customer_id)),
        )
        return int(self.session.scalar(statement) or 0)

    def purchases(self, members: Select[Any], days: int) -> list[tuple[int, Decimal]]:
        """(receipts, amount) of each member who bought: paid receipts in the `days` after their entry."""
        group = members.subquery()
        statement = (
            select(func.count(), func.sum(Receipt.total))
            .join(group, group.c.customer_id == Receipt.customer_id)
            .where(
                Receipt.status.in_(PURCHASE_STATUSES),
                Receipt.purchased_at >= group.c.starts_at,
                Receipt.purchased_at < plus_seconds(group.c.starts_at, timedelta(days=days)),
            )
            .group_by(Receipt.customer_id)
        )
        return [(int(count), Decimal(amount)) for count, amount in self.session.execute(statement)]


# --- one customer's journeys -------------------------------------------------------------------------------


def journeys_of_customer(session: Session, customer_id: int, limit: int) -> list[Any]:
    """The customer's latest journeys with their campaign and version (the version's graph names the node)."""
    statement = (
        select(Journey, Campaign.name, Campaign.status, CampaignVersion.number, CampaignVersion.graph)
        .join(Campaign, Campaign.id == Journey.campaign_id)
        .join(CampaignVersion, CampaignVersion.id == Journey.version_id)
        .where(Journey.customer_id == customer_id)
        .order_by(Journey.entered_at.desc(), Journey.id.desc())
        .limit(limit)
    )
    return list(session.execute(statement).all())


def journey_count(session: Session, customer_id: int) -> int:
    statement = select(func.count()).select_from(Journey).where(Journey.customer_id == customer_id)
    return int(session.scalar(statement) or 0)
