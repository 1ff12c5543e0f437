"""A/B test: the first N customers are spread evenly over 2–5 variants (outputs "a"…"e", round robin in
the order they arrive); the customers after them wait at the node until the winner is known, then all
follow it.

The winner is chosen once the result waiting period has passed since the N-th customer was spread: the
variant whose customers opened (or clicked, or bought) the most, as a share of the customers spread into
it. What counts is every message the journey got after the split — the messages of all the nodes the
test's outputs lead to, branches that merge again included — so a variant is judged by the whole path it
started, not one node. Opens count opened or clicked messages, clicks clicked ones, orders the receipts
attributed to those messages. A tie goes to the earlier variant.

The node's counters: "spread" (customers spread so far, under a row lock so two workers never hand out
the same place), "filled_at" (when the N-th was spread, in seconds since 1970), "winner" (the winning
variant's number, 1 for "a"; absent or 0 until chosen). A journey's state remembers its part:
`ab`: {node: {"variant": "b"}} for the test's customers, {"held": true} while waiting, and
{"winner": "a"} once it followed the winner.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import Field

from smartcomm.campaigns.actions.base import Action, Go, Hold, Outcome, Step
from smartcomm.campaigns.actions.queries import ActionQueries
from smartcomm.campaigns.nodes import Settings, register
from smartcomm.campaigns.repository import CampaignRepository
from smartcomm.kit.i18n import lazy
from smartcomm.models import CampaignVersion, Journey

VARIANTS = "abcde"
SPREAD, FILLED_AT, WINNER = "spread", "filled_at", "winner"
PERIOD_UNITS = {"hours": timedelta(hours=1), "days": timedelta(days=1)}


class AbTestSettings(Settings):
    variants: Annotated[int, Field(ge=2, le=5)] = 2
    spread: Annotated[int, Field(ge=2, le=10_000_000)] = 1000  # the first N customers
    metric: Literal["opens", "clicks", "orders"] = "opens"
    period: Annotated[int, Field(ge=1, le=1000)] = 3  # the result waiting period
    period_unit: Literal["hours", "days"] = "days"

    @property
    def waiting(self) -> timedelta:
        return self.period * PERIOD_UNITS[self.period_unit]


@register
class AbTest(Action):
    name = "action.ab_test"
    family = "flow"
    label = lazy("A/B test")
    description = lazy("Spread the first customers over variants; the rest follow the variant that wins")
    icon = "ti-arrows-split"
    settings_model = AbTestSettings

    def outputs(self, settings: Any) -> list[str]:
        return list(VARIANTS[: settings.variants])

    def output_label(self, output: str) -> str:
        return str(lazy("Variant {letter}")).format(letter=output.upper())

    def run(self, step: Step, journeys: Sequence[Journey]) -> list[Outcome]:
        known = [_known(step, journey) for journey in journeys]
        newcomers = [journey for journey, outcome in zip(journeys, known, strict=True) if outcome is None]
        decided: dict[int, Outcome] = {}
        if newcomers:
            winner = _winner(step)
            if winner is None:
                decided = _spread(step, newcomers)
            else:
                decided = {journey.id: _follow(step, journey, winner) for journey in newcomers}
        return [outcome or decided[journey.id] for journey, outcome in zip(journeys, known, strict=True)]


def _part(step: Step, journey: Journey) -> dict[str, Any]:
    return dict((journey.state.get("ab") or {}).get(step.node) or {})


def _remember(step: Step, journey: Journey, part: dict[str, Any]) -> None:
    journey.state = {**journey.state, "ab": {**(journey.state.get("ab") or {}), step.node: part}}


def _known(step: Step, journey: Journey) -> Outcome | None:
    """The outcome of a journey that was here before (a loop, or waiting for the winner): its variant
    again; the winner once chosen; None for a newcomer or one still waiting (decided below)."""
    part = _part(step, journey)
    if "variant" in part:
        return Go(part["variant"])
    if "winner" in part:
        return Go(part["winner"])
    return None


def _follow(step: Step, journey: Journey, winner: str) -> Outcome:
    _remember(step, journey, {"winner": winner})
    return Go(winner)


def _spread(step: Step, journeys: Sequence[Journey]) -> dict[int, Outcome]:
    """Give the test's places left to the newcomers (a variant each, round robin); hold the others (and
    those already waiting) until the winner is due."""
    fresh = [j for j in journeys if not _part(step, j).get("held")]
    taken, places = _take_places(step, len(fresh))
    outcomes: dict[int, Outcome] = {}
    for position, journey in enumerate(fresh[:places], start=taken + 1):
        variant = VARIANTS[(position - 1) % step.settings.variants]
        _remember(step, journey, {"variant": variant})
        outcomes[journey.id] = Go(variant)
    due = _winner_due(step)
    for journey in journeys:
        if journey.id not in outcomes:
            _remember(step, journey, {"held": True})
            outcomes[journey.id] = Hold(due)
    return outcomes


def _take_places(step: Step, wanted: int) -> tuple[int, int]:
    """(places taken before, places taken now) of the test's N, under the counter's row lock; the one who
    takes the last place notes the time."""
    limit = step.settings.spread
    if not wanted or (ActionQueries(step.session).counter(step.version_id, step.node, SPREAD) or 0) >= limit:
        return 0, 0  # full already (it never empties): no need to wait for the lock
    repository = CampaignRepository(step.session)
    taken = repository.add_to_counter(step.version_id, step.node, SPREAD, 0, step.now)  # locks the row
    places = max(0, min(wanted, limit - taken))
    if places:
        repository.add_to_counter(step.version_id, step.node, SPREAD, places, step.now)
    if places and taken + places == limit:
        repository.set_counter(step.version_id, step.node, FILLED_AT, int(step.now.timestamp()), step.now)
    return taken, places


def _winner_due(step: Step) -> datetime:
    filled = ActionQueries(step.session).counter(step.version_id, step.node, FILLED_AT)
    if filled is None:  # not filled yet (a worker filling it has not committed): look again soon
        return step.now + timedelta(minutes=15)
    return _due_after(step, filled)


def _due_after(step: Step, filled: int) -> datetime:
    settings: AbTestSettings = step.settings
    return datetime.fromtimestamp(filled, UTC) + settings.waiting


def _winner(step: Step) -> str | None:
    """The winning variant: stored once chosen; chosen now when the waiting period has passed."""
    queries = ActionQueries(step.session)
    stored = queries.counter(step.version_id, step.node, WINNER)
    if stored:
        return VARIANTS[stored - 1]
    filled = queries.counter(step.version_id, step.node, FILLED_AT)
    if filled is None or step.now < _due_after(step, filled):
        return None
    repository = CampaignRepository(step.session)
    stored = repository.add_to_counter(step.version_id, step.node, WINNER, 0, step.now)  # one chooses
    if stored:
        return VARIANTS[stored - 1]
    chosen = choose_winner(step)
    repository.set_counter(step.version_id, step.node, WINNER, VARIANTS.index(chosen) + 1, step.now)
    return chosen


def choose_winner(step: Step) -> str:
    """The variant with the best share of scoring customers (a tie: the earlier variant)."""
    settings: AbTestSettings = step.settings
    after = _after_split(step)
    scores = ActionQueries(step.session).variant_scores(step.version_id, step.node, after, settings.metric)
    best, best_rate = VARIANTS[0], -1.0
    for variant in VARIANTS[: settings.variants]:
        spread, scored = scores.get(variant, (0, 0))
        rate = scored / spread if spread else 0.0
        if rate > best_rate:
            best, best_rate = variant, rate
    return best


def _after_split(step: Step) -> set[str]:
    """Every node reached from the test's outputs (the test itself left out)."""
    version = step.session.get(CampaignVersion, step.version_id)
    edges = (version.graph if version is not None else {}).get("edges") or []
    following: dict[str, list[str]] = {}
    for edge in edges:
        following.setdefault(edge["source"], []).append(edge["target"])
    reached: set[str] = set()
    pending = list(following.get(step.node, []))
    while pending:
        node = pending.pop()
        if node not in reached and node != step.node:
            reached.add(node)
            pending.extend(following.get(node, []))
    return reached
