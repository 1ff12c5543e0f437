"""Actions that shape the flow: wait, wait until a date, filter customers and refresh a filter, select
the customers of a segment (each a "yes" and a "no" branch).

A wait is not a sleeping thread: the journey is held at the node with its wake-up time, and the walk
that finds it due passes it on. The time counts from the journey's arrival at the node, so a walk
repeated after a crash waits no longer. Filters judge the whole batch with one query.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from typing import Annotated, Any, Literal

from pydantic import Field
from sqlalchemy import select

from smartcomm.campaigns.actions.base import Action, Go, Hold, Outcome, Step, Stop
from smartcomm.campaigns.actions.queries import ActionQueries
from smartcomm.campaigns.graph import NodeId
from smartcomm.campaigns.nodes import Settings, register
from smartcomm.campaigns.repository import CampaignRepository
from smartcomm.kit.i18n import lazy
from smartcomm.kit.types import RowId
from smartcomm.models import CampaignVersion, Customer, Journey, Segment
from smartcomm.segments.compiler import predicate, validate
from smartcomm.segments.rules import SegmentRules
from smartcomm.segments.service import segment_service

YES, NO = "yes", "no"
FILTER = "action.filter"
UNITS = {"minutes": 1, "hours": 60, "days": 24 * 60, "weeks": 7 * 24 * 60}


class WaitSettings(Settings):
    amount: Annotated[int, Field(ge=1, le=100_000)] = 1
    unit: Literal["minutes", "hours", "days", "weeks"] = "days"

    @property
    def delay(self) -> timedelta:
        return timedelta(minutes=self.amount * UNITS[self.unit])


@register
class Wait(Action):
    name = "action.wait"
    family = "flow"
    label = lazy("Wait")
    description = lazy("Hold the customers for a while before the next action")
    icon = "ti-hourglass"
    settings_model = WaitSettings

    def run(self, step: Step, journeys: Sequence[Journey]) -> list[Outcome]:
        delay = step.settings.delay
        return [_until(step.now, journey.arrived_at + delay) for journey in journeys]


class WaitUntilSettings(Settings):
    date: date
    hour: Annotated[int, Field(ge=0, le=23)] = 10


@register
class WaitUntil(Action):
    name = "action.wait_until"
    family = "flow"
    label = lazy("Wait until date")
    description = lazy("Hold the customers until a date and hour (project time zone)")
    icon = "ti-calendar-time"
    settings_model = WaitUntilSettings

    def run(self, step: Step, journeys: Sequence[Journey]) -> list[Outcome]:
        settings = step.settings
        local = datetime.combine(settings.date, time(settings.hour), tzinfo=step.zone)
        return [_until(step.now, local) for _ in journeys]


def _until(now: datetime, until: datetime) -> Outcome:
    return Go() if until <= now else Hold(until)


class FilterSettings(Settings):
    rules: SegmentRules = Field(default_factory=SegmentRules)


@register
class Filter(Action):
    name = "action.filter"
    family = "flow"
    label = lazy("Filter customers")
    description = lazy("Segment-builder conditions: those who match go to “yes”, the others to “no”")
    icon = "ti-filter"
    settings_model = FilterSettings

    def outputs(self, settings: Any) -> list[str]:
        return [YES, NO]

    def check(self, settings: Any, context: Any) -> list[tuple[str, str]]:
        found = validate(settings.rules, segment_service.context(context.session))
        return [(f"rules.{error.field}", error.message) for error in found]

    def output_label(self, output: str) -> str:
        return yes_no_label(output)

    def run(self, step: Step, journeys: Sequence[Journey]) -> list[Outcome]:
        return answer(step, journeys, step.settings.rules)


def yes_no_label(output: str) -> str:
    return str(lazy("Matches")) if output == YES else str(lazy("Does not match"))


def answer(step: Step, journeys: Sequence[Journey], rules: SegmentRules) -> list[Outcome]:
    """Send each journey down "yes" or "no" by the rules, and remember the answer in its state."""
    matching = matching_customers(step, rules, [j.customer_id for j in journeys])
    outcomes: list[Outcome] = []
    for journey in journeys:
        matched = journey.customer_id in matching
        filters = {**(journey.state.get("filters") or {}), step.node: matched}
        journey.state = {**journey.state, "filters": filters}
        outcomes.append(Go(YES if matched else NO))
    return outcomes


def matching_customers(step: Step, rules: SegmentRules, customer_ids: list[int]) -> set[int]:
    """Which of these customers the rules match now."""
    context = segment_service.context(step.session, step.now)
    statement = select(Customer.id).where(Customer.id.in_(customer_ids), predicate(rules, context))
    return set(step.session.scalars(statement))


class RefreshFilterSettings(Settings):
    filter_node: NodeId  # a Filter node of the same graph


@register
class RefreshFilter(Action):
    """Re-applies the conditions of a Filter node earlier in the graph, as they match now (a customer
    may have bought since): "Filter: one order → e-mail → wait 30 days → refresh the filter → e-mail"."""

    name = "action.refresh_filter"
    family = "flow"
    label = lazy("Refresh filter")
    description = lazy("Apply an earlier filter again: those who match now go to “yes”, the others to “no”")
    icon = "ti-filter-cog"
    settings_model = RefreshFilterSettings

    def outputs(self, settings: Any) -> list[str]:
        return [YES, NO]

    def output_label(self, output: str) -> str:
        return yes_no_label(output)

    def check(self, settings: Any, context: Any) -> list[tuple[str, str]]:
        found = context.kinds.get(settings.filter_node)
        if found is None:
            return [("filter_node", str(lazy("There is no node with this id in the campaign")))]
        if found != FILTER:
            return [("filter_node", str(lazy("Choose a “Filter customers” node")))]
        return []

    def run(self, step: Step, journeys: Sequence[Journey]) -> list[Outcome]:
        from smartcomm.campaigns.engine import graph_of  # the engine imports the actions

        if "rules" not in step.memo:
            version = step.session.get(CampaignVersion, step.version_id)
            graph = graph_of(version) if version is not None else None
            found = graph.settings.get(step.settings.filter_node) if graph is not None else None
            step.memo["rules"] = found.rules if isinstance(found, FilterSettings) else None
        rules = step.memo["rules"]
        if rules is None:  # a published graph was checked: only a broken one gets here
            return [Stop("broken_node") for _ in journeys]
        return answer(step, journeys, rules)


class SelectSegmentSettings(Settings):
    segment_id: RowId


@register
class SelectFromSegment(Action):
    """Passes on the customers who are members of a segment now ("yes"); the others go to "no" — leave it
    unconnected and they stop here."""

    name = "action.select_segment"
    family = "flow"
    label = lazy("Select customers from segment")
    description = lazy("Members of a segment go to “yes”, the others to “no”")
    icon = "ti-chart-pie"
    settings_model = SelectSegmentSettings

    def outputs(self, settings: Any) -> list[str]:
        return [YES, NO]

    def output_label(self, output: str) -> str:
        return str(lazy("In the segment")) if output == YES else str(lazy("Not in the segment"))

    def check(self, settings: Any, context: Any) -> list[tuple[str, str]]:
        if not ActionQueries(context.session).exists(Segment, settings.segment_id):
            return [("segment_id", str(lazy("The segment does not exist")))]
        return []

    def run(self, step: Step, journeys: Sequence[Journey]) -> list[Outcome]:
        members = ActionQueries(step.session).segment_members(
            step.settings.segment_id, [journey.customer_id for journey in journeys]
        )
        return [Go(YES if journey.customer_id in members else NO) for journey in journeys]


# --- check e-mail status --------------------------------------------------------------------------------

UNDELIVERED, DELIVERED, OPENED, CLICKED = "undelivered", "delivered", "opened", "clicked"
SEND_EMAIL = "action.send_email"
# A message the provider has not taken yet is looked at again this often (until the node's limit).
RECHECK = timedelta(minutes=15)
NOT_SETTLED = frozenset({"planned", "rendered", "queued"})
HANDED = frozenset({"sent", "delivered"})  # an e-mail the provider took and nothing bounced: delivered


class EmailStatusSettings(Settings):
    email_node: NodeId  # the "Send e-mail" node whose message is looked at
    # How long a message still waiting to go (the send-time window, a retry) is waited for.
    settle_hours: Annotated[int, Field(ge=1, le=24 * 30)] = 24


@register
class CheckEmailStatus(Action):
    """Splits by what became of the e-mail an earlier "Send e-mail" node sent to the customer — put a Wait
    before it so the customer has time to read. A message still waiting to go is waited for (looked at
    again every 15 minutes) up to the node's limit, then counts as undelivered; so does a journey that
    never passed that node."""

    name = "action.check_email_status"
    family = "flow"
    label = lazy("Check e-mail status")
    description = lazy("Undelivered, delivered but not read, read without a click, clicked")
    icon = "ti-mail-search"
    settings_model = EmailStatusSettings

    def outputs(self, settings: Any) -> list[str]:
        return [UNDELIVERED, DELIVERED, OPENED, CLICKED]

    def output_label(self, output: str) -> str:
        labels = {
            UNDELIVERED: lazy("Undelivered"),
            DELIVERED: lazy("Delivered, not read"),
            OPENED: lazy("Read, no click"),
            CLICKED: lazy("Clicked"),
        }
        return str(labels.get(output, output))

    def check(self, settings: Any, context: Any) -> list[tuple[str, str]]:
        found = context.kinds.get(settings.email_node)
        if found is None:
            return [("email_node", str(lazy("There is no node with this id in the campaign")))]
        if found != SEND_EMAIL:
            return [("email_node", str(lazy("Choose a “Send e-mail” node")))]
        return []

    def run(self, step: Step, journeys: Sequence[Journey]) -> list[Outcome]:
        sent = CampaignRepository(step.session).messages_of(
            [j.id for j in journeys], step.settings.email_node
        )
        states = ActionQueries(step.session).message_states(sent.values())
        limit = timedelta(hours=step.settings.settle_hours)
        outcomes: list[Outcome] = []
        for journey in journeys:
            message_id = sent.get(journey.id)
            state = states.get(message_id) if message_id is not None else None
            outcomes.append(_email_outcome(state, step.now, journey.arrived_at + limit))
        return outcomes


def _email_outcome(state: tuple[str, bool, bool] | None, now: datetime, give_up_at: datetime) -> Outcome:
    if state is None:
        return Go(UNDELIVERED)
    status, opened, clicked = state
    if clicked:
        return Go(CLICKED)
    if opened:
        return Go(OPENED)
    if status in HANDED:
        return Go(DELIVERED)
    if status in NOT_SETTLED and now < give_up_at:
        return Hold(min(now + RECHECK, give_up_at))
    return Go(UNDELIVERED)
