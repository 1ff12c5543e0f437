"""Limits: the first N customers pass ("out"), the rest go to "over" — in total or per day, week or month
(limit number of participants), or per poll in total or per store (limit poll).

A limit's count is a node counter. Each batch first takes the counter's row lock (adding 0) and then
adds only the places it gives away, so the counter says exactly how many passed, and two workers walking
at once can never both give away the last place: the second waits for the first to commit and sees what
is left.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field

from smartcomm.campaigns.actions.base import Action, Go, Outcome, Step
from smartcomm.campaigns.actions.queries import ActionQueries
from smartcomm.campaigns.nodes import OUT, Settings, register
from smartcomm.campaigns.repository import CampaignRepository
from smartcomm.kit.i18n import lazy
from smartcomm.kit.types import RowId
from smartcomm.models import Journey, Poll

OVER = "over"
Limit = Annotated[int, Field(ge=1, le=1_000_000_000)]


def take_places(step: Step, journeys: Sequence[Journey], key_of: Callable[[Journey], str]) -> list[Outcome]:
    """Give the places left under each counter key to the journeys in their order; the rest go "over"."""
    by_key: dict[str, list[int]] = defaultdict(list)
    for index, journey in enumerate(journeys):
        by_key[key_of(journey)].append(index)
    outcomes: list[Outcome] = [Go(OVER)] * len(journeys)
    repository = CampaignRepository(step.session)
    for key in sorted(by_key):  # always the same order: two workers never wait for each other in a ring
        waiting = by_key[key]
        taken = repository.add_to_counter(step.version_id, step.node, key, 0, step.now)  # locks the row
        places = max(0, min(len(waiting), step.settings.limit - taken))
        if places:
            repository.add_to_counter(step.version_id, step.node, key, places, step.now)
        for index in waiting[:places]:
            outcomes[index] = Go(OUT)
    return outcomes


def _limit_label(output: str) -> str:
    return str(lazy("Within the limit")) if output == OUT else str(lazy("Over the limit"))


class ParticipantLimitSettings(Settings):
    limit: Limit
    period: Literal["total", "day", "week", "month"] = "total"


@register
class LimitParticipants(Action):
    name = "action.limit_participants"
    family = "flow"
    label = lazy("Limit number of participants")
    description = lazy("The first customers up to the limit go on, in total or per day, week or month")
    icon = "ti-users-minus"
    settings_model = ParticipantLimitSettings

    def outputs(self, settings: Any) -> list[str]:
        return [OUT, OVER]

    def output_label(self, output: str) -> str:
        return _limit_label(output)

    def run(self, step: Step, journeys: Sequence[Journey]) -> list[Outcome]:
        key = period_key(step.settings.period, step.now.astimezone(step.zone))
        return take_places(step, journeys, lambda journey: key)


def period_key(period: str, local: datetime) -> str:
    """The counter of the period `local` (project time) falls in: "total", "day:2026-12-06",
    "week:2026-W49" (ISO weeks, from Monday) or "month:2026-12"."""
    if period == "day":
        return f"day:{local.date().isoformat()}"
    if period == "week":
        year, week, _ = local.isocalendar()
        return f"week:{year}-W{week:02d}"
    if period == "month":
        return f"month:{local.year}-{local.month:02d}"
    return "total"


class PollLimitSettings(Settings):
    poll_id: RowId
    limit: Limit
    per: Literal["total", "store"] = "total"


@register
class LimitPoll(Action):
    """Caps the customers a poll is offered to: in total, or per store — the store of the purchase that
    brought the customer in (the receipt or order in the journey's context; one counter for none)."""

    name = "action.limit_poll"
    family = "flow"
    label = lazy("Limit poll")
    description = lazy("The first customers up to the limit go on to the poll, in total or per store")
    icon = "ti-clipboard-list"
    settings_model = PollLimitSettings

    def outputs(self, settings: Any) -> list[str]:
        return [OUT, OVER]

    def output_label(self, output: str) -> str:
        return _limit_label(output)

    def check(self, settings: Any, context: Any) -> list[tuple[str, str]]:
        if not ActionQueries(context.session).exists(Poll, settings.poll_id):
            return [("poll_id", str(lazy("The poll does not exist")))]
        return []

    def run(self, step: Step, journeys: Sequence[Journey]) -> list[Outcome]:
        if step.settings.per == "total":
            return take_places(step, journeys, lambda journey: "total")
        return take_places(step, journeys, _store_key)


def _store_key(journey: Journey) -> str:
    store = (journey.context or {}).get("store_id")
    return f"store:{store}" if store is not None else "store:none"
