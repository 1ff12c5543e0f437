"""The report of a campaign, or of one of its nodes: who entered and where they stand, what passed each
node and by which output, what the messages did per channel, the orders credited to them over time, each
control node's groups compared, and when people opened the e-mails.

Figures, rates and opens are the ones mailings report (`analytics.messages`), groups are compared with
the same statistics (`analytics.groups`): a marketer reads a campaign as they read a mailing. The report
of one node narrows the messages, their opens and their orders to that node's messages.

Control groups. A control node sends some customers to its "control" output (usually connected to
nothing: they are sent nothing more) and the rest on. The report compares the two groups of customers who
reached it: every paid purchase of each customer in the days of the campaign's attribution window after
their entry into the campaign (not the attributed ones: control members have no touches, so only plain
purchases compare like with like).
"""

from __future__ import annotations

from collections import deque
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy.orm import Session

from smartcomm.analytics.groups import CENTS, GroupRow, compare_with_control, group_row, sample_of
from smartcomm.analytics.messages import (
    Figure,
    OpensHeatmap,
    email_opens_by_quarter,
    figures_by_channel,
    figures_of,
    heatmap_of,
    message_figures,
    unsubscribes,
    unsubscribes_by_channel,
)
from smartcomm.attribution.schemas import AttributionDay
from smartcomm.attribution.service import per_day_of
from smartcomm.campaigns import nodes as registry
from smartcomm.campaigns.engine import ARRIVED, STOPPED
from smartcomm.campaigns.palette import output_label
from smartcomm.campaigns.report_queries import (
    CampaignReportQueries,
    Period,
    journey_count,
    journeys_of_customer,
)
from smartcomm.campaigns.repository import CampaignRepository
from smartcomm.campaigns.service import campaign_service
from smartcomm.campaigns.summaries import describe, names_for
from smartcomm.kit.errors import FieldError, InvalidInput
from smartcomm.kit.i18n import lazy
from smartcomm.kit.time import end_of_day, start_of_day
from smartcomm.models import Campaign, Journey
from smartcomm.settings.schemas import DeliverySettings, GeneralSettings
from smartcomm.settings.service import settings_service

CONTROL = "control"  # the output a control node sends its control group by
CHANNEL_ORDER = ("email", "sms", "viber", "push")


class CampaignHeader(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    status: str
    activated_at: datetime | None
    created_at: datetime


class JourneyFigures(BaseModel):
    entered: int
    in_progress: int
    finished: int
    exited: int


class OutputCount(BaseModel):
    output: str
    label: str
    count: int


class NodeRow(BaseModel):
    """A node's funnel: journeys that arrived, stand there now, left by each output, stopped there."""

    id: str
    kind: str
    label: str
    icon: str
    summary: str
    arrived: int
    in_progress: int
    outputs: list[OutputCount]
    stopped: dict[str, int]  # reason → journeys that ended at the node

    @property
    def passed(self) -> int:
        return sum(each.count for each in self.outputs)


class ChannelRow(BaseModel):
    channel: str
    figures: list[Figure]

    def figure(self, key: str) -> Figure:
        return next(each for each in self.figures if each.key == key)


class Credited(BaseModel):
    receipts: int
    buyers: int
    amount: Decimal


class ControlGroupReport(BaseModel):
    """One control node: the customers it let through against its control group."""

    node: str
    label: str
    window_days: int
    groups: list[GroupRow]


class CampaignReport(BaseModel):
    campaign: CampaignHeader
    node: str | None  # the report of this node: its messages, their opens and orders, its control group
    date_from: date | None
    date_to: date | None
    journeys: JourneyFigures
    nodes: list[NodeRow]
    messages: list[Figure]  # every channel together
    channels: list[ChannelRow]
    credited: Credited
    per_day: list[AttributionDay]
    control_groups: list[ControlGroupReport]
    opens: OpensHeatmap
    opens_by_hour: list[int]  # people's e-mail opens per hour of the day, project time zone


class CampaignReportService:
    def report(
        self,
        session: Session,
        campaign_id: int,
        node: str | None = None,
        date_from: date | None = None,
        date_to: date | None = None,
    ) -> CampaignReport:
        """The whole report of the campaign (or of one node), over all time or the days given."""
        campaign = campaign_service.get(session, campaign_id)
        graphs = _graph_nodes(session, campaign)
        _check(graphs, node, date_from, date_to)
        zone = settings_service.read(session, GeneralSettings).time_zone
        queries = CampaignReportQueries(session, campaign.id, _period(date_from, date_to, zone))
        scope = queries.message_scope(node)
        opens = heatmap_of(email_opens_by_quarter(session, scope), zone)
        rows = _node_rows(session, queries, graphs)
        return CampaignReport(
            campaign=CampaignHeader.model_validate(campaign),
            node=node,
            date_from=date_from,
            date_to=date_to,
            journeys=JourneyFigures(**vars(queries.journey_totals())),
            nodes=rows,
            messages=figures_of(message_figures(session, scope), *unsubscribes(session, scope)),
            channels=_channels(session, scope),
            credited=_credited(queries, node),
            per_day=per_day_of(queries.credited_purchases(node), zone),
            control_groups=self._control_groups(session, queries, campaign, rows, node),
            opens=opens,
            opens_by_hour=opens.by_hour,
        )

    def _control_groups(
        self,
        session: Session,
        queries: CampaignReportQueries,
        campaign: Campaign,
        rows: list[NodeRow],
        node: str | None,
    ) -> list[ControlGroupReport]:
        days = window_days(session, campaign)
        return [
            _control_group(queries, row, days)
            for row in rows
            if _is_control(row) and (node is None or row.id == node)
        ]


def window_days(session: Session, campaign: Campaign) -> int:
    """Days after an entry in which a customer's purchases count: the campaign's attribution window, else
    the default of the settings (at least a day: a rule "off" still needs a window to compare in)."""
    rule = campaign.attribution or {}
    days = rule.get("days") if rule.get("window") == "days" else None
    if not days:
        days = settings_service.read(session, DeliverySettings).attribution_days
    return max(int(days), 1)


def _control_group(queries: CampaignReportQueries, row: NodeRow, days: int) -> ControlGroupReport:
    members = queries.reached(row.id, control=False)
    control_members = queries.reached(row.id, control=True)
    sample = sample_of(queries.size(members), queries.purchases(members, days))
    control = sample_of(queries.size(control_members), queries.purchases(control_members, days))
    main = group_row("main", "Main", sample, queries.delivered(members))
    groups = [main]
    if control.size:
        compare_with_control(main, sample, control)
        groups.append(group_row("control", "Control", control, None))
    return ControlGroupReport(node=row.id, label=row.label, window_days=days, groups=groups)


def _is_control(row: NodeRow) -> bool:
    return any(each.output == CONTROL for each in row.outputs) or row.kind == "action.control_group"


# --- nodes ----------------------------------------------------------------------------------------------


def _graph_nodes(session: Session, campaign: Campaign) -> list[dict[str, Any]]:
    """The nodes of the campaign's graphs, the newest version's first and in the order a customer meets
    them; nodes only older versions have (removed since) after them."""
    seen: dict[str, dict[str, Any]] = {}
    for version in CampaignRepository(session).versions(campaign.id):  # newest first
        for each in _in_walking_order(version.graph or {}):
            seen.setdefault(str(each["id"]), each)
    return list(seen.values())


def _in_walking_order(graph: dict[str, Any]) -> list[dict[str, Any]]:
    """The graph's nodes breadth first from the trigger (those it does not reach last, as they stand)."""
    listed = [each for each in graph.get("nodes", []) if isinstance(each, dict) and "id" in each]
    by_id = {str(each["id"]): each for each in listed}
    following: dict[str, list[str]] = {}
    for edge in graph.get("edges", []):
        following.setdefault(str(edge.get("source")), []).append(str(edge.get("target")))
    starts = [key for key, each in by_id.items() if str(each.get("kind", "")).startswith("trigger.")]
    order: list[str] = []
    pending = deque(starts)
    while pending:
        current = pending.popleft()
        if current in by_id and current not in order:
            order.append(current)
            pending.extend(following.get(current, []))
    order += [key for key in by_id if key not in order]
    return [by_id[key] for key in order]


def _node_rows(
    session: Session, queries: CampaignReportQueries, graph_nodes: list[dict[str, Any]]
) -> list[NodeRow]:
    counts: dict[str, dict[str, int]] = {}
    for node, outcome, count in queries.node_counts():
        counts.setdefault(node, {})[outcome] = count
    standing = queries.in_progress_by_node()
    described = describe(graph_nodes, names_for(session, graph_nodes))
    return [
        _node_row(each, counts.get(str(each["id"]), {}), standing.get(str(each["id"]), 0), described)
        for each in graph_nodes
    ]


def _node_row(
    node: dict[str, Any], counts: dict[str, int], standing: int, described: dict[str, dict[str, Any]]
) -> NodeRow:
    node_id, kind_name = str(node["id"]), str(node.get("kind", ""))
    kind = registry.kind(kind_name)
    known = described.get(node_id, {})
    outputs = list(known.get("outputs", []))
    outputs += [o for o in counts if o != ARRIVED and not o.startswith(f"{STOPPED}:") and o not in outputs]
    return NodeRow(
        id=node_id,
        kind=kind_name,
        label=str(kind.label) if kind is not None else kind_name,
        icon=kind.icon if kind is not None else "ti-point",
        summary=str(known.get("summary", "")),
        arrived=counts.get(ARRIVED, 0),
        in_progress=standing,
        outputs=[
            OutputCount(output=o, label=_output_label(kind, o), count=counts.get(o, 0)) for o in outputs
        ],
        stopped={o.split(":", 1)[1]: c for o, c in counts.items() if o.startswith(f"{STOPPED}:")},
    )


def _output_label(kind: registry.NodeKind | None, output: str) -> str:
    return output_label(kind, output) if kind is not None else output


# --- channels, checks, header ---------------------------------------------------------------------------


def _channels(session: Session, scope: list[Any]) -> list[ChannelRow]:
    found = figures_by_channel(session, scope)
    unsubscribed = unsubscribes_by_channel(session, scope)
    ordered = sorted(found, key=lambda channel: (*CHANNEL_ORDER, channel).index(channel))
    return [
        ChannelRow(channel=channel, figures=figures_of(found[channel], *unsubscribed.get(channel, (0, 0))))
        for channel in ordered
    ]


def _check(nodes: list[dict[str, Any]], node: str | None, first: date | None, last: date | None) -> None:
    """Refuse a node the campaign never had and a period that ends before it starts (422, by field)."""
    errors = []
    unknown, backwards = lazy("The campaign has no such node"), lazy("The period ends before it starts")
    if node is not None and node not in {str(each["id"]) for each in nodes}:
        errors.append(FieldError("node", str(unknown), "unknown"))
    if first is not None and last is not None and first > last:
        errors.append(FieldError("date_to", str(backwards)))
    if errors:
        raise InvalidInput(errors[0].message, errors)


def _period(first: date | None, last: date | None, zone: str) -> Period | None:
    """The days of the project time zone as UTC bounds; an open end reaches as far as dates go."""
    if first is None and last is None:
        return None
    start = start_of_day(first, zone) if first is not None else datetime.min.replace(tzinfo=UTC)
    end = end_of_day(last, zone) if last is not None else datetime.max.replace(tzinfo=UTC)
    return Period(start, end)


def _credited(queries: CampaignReportQueries, node: str | None) -> Credited:
    receipts, buyers, amount = queries.credited_totals(node)
    return Credited(receipts=receipts, buyers=buyers, amount=amount.quantize(CENTS))


# --- a customer's journeys ------------------------------------------------------------------------------


class CustomerJourney(BaseModel):
    """One entry of the customer into a campaign, as the profile shows it."""

    id: int
    campaign_id: int
    campaign_name: str
    campaign_status: str
    version: int
    entered_at: datetime
    node: str
    node_label: str
    node_icon: str
    status: str  # waiting | done | exited
    exit_reason: str | None
    finished_at: datetime | None


class CustomerJourneys(BaseModel):
    total: int
    journeys: list[CustomerJourney]


def customer_journeys(session: Session, customer_id: int, limit: int) -> CustomerJourneys:
    """The customer's latest journeys (the node each stands at, or ended at, named by its kind)."""
    rows = journeys_of_customer(session, customer_id, limit)
    return CustomerJourneys(
        total=journey_count(session, customer_id) if len(rows) == limit else len(rows),
        journeys=[_customer_journey(*row) for row in rows],
    )


def _customer_journey(
    journey: Journey, name: str, status: str, version: int, graph: dict[str, Any]
) -> CustomerJourney:
    kinds = {str(each.get("id")): str(each.get("kind")) for each in (graph or {}).get("nodes", [])}
    kind = registry.kind(kinds.get(journey.node, ""))
    return CustomerJourney(
        id=journey.id,
        campaign_id=journey.campaign_id,
        campaign_name=name,
        campaign_status=status,
        version=version,
        entered_at=journey.entered_at,
        node=journey.node,
        node_label=str(kind.label) if kind is not None else journey.node,
        node_icon=kind.icon if kind is not None else "ti-point",
        status=journey.status,
        exit_reason=journey.exit_reason,
        finished_at=journey.finished_at,
    )


campaign_report_service = CampaignReportService()
