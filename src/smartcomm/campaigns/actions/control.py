"""Control group: a share of the customers (0–50 %), or the members of a target audience, are held out —
they leave by the "control" output (usually unconnected: they stop and receive nothing) so the campaign
report can compare them with the customers who went on.

The draw is a hash of (campaign, node, customer): the same customer always draws the same number, so the
draw is reproducible and a customer entering the campaign again lands in the same group. With
stratification fields (gender, age band, city…) the share is kept within every stratum as customers
arrive: the node counts each stratum's arrivals and control members, and a customer whose stratum is
behind its share goes to the control group on a smaller draw — each stratum stays within one customer of
its share, while who exactly is chosen is still the hash's call. Every answer is remembered in the
journey's state (`control`: {node: true|false}); the node's figures count "control" like any output.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Sequence
from datetime import date
from typing import Any, Literal

from pydantic import Field, model_validator

from smartcomm.campaigns.actions.base import Action, Go, Outcome, Step
from smartcomm.campaigns.actions.queries import ActionQueries
from smartcomm.campaigns.nodes import OUT, Settings, register
from smartcomm.campaigns.repository import CampaignRepository
from smartcomm.kit.i18n import lazy
from smartcomm.kit.types import RowId
from smartcomm.mailings.draws import unit
from smartcomm.mailings.schemas import MAX_CONTROL_PERCENT, StratumField
from smartcomm.models import Audience, Journey

CONTROL = "control"
AGE_BANDS = ((25, "<25"), (35, "25-34"), (45, "35-44"), (55, "45-54"))


class ControlSettings(Settings):
    mode: Literal["percent", "audience"] = "percent"
    percent: float = Field(default=10, ge=0, le=MAX_CONTROL_PERCENT)
    audience_id: RowId | None = None
    strata: list[StratumField] = Field(default_factory=list, max_length=6)

    @model_validator(mode="after")
    def _audience_given(self) -> ControlSettings:
        if self.mode == "audience" and self.audience_id is None:
            raise ValueError("choose the target audience that is the control group")
        return self


@register
class ControlGroup(Action):
    name = "action.control_group"
    family = "flow"
    label = lazy("Control group")
    description = lazy("Hold out a share of the customers (or a target audience) to measure the effect")
    icon = "ti-users-group"
    settings_model = ControlSettings

    def outputs(self, settings: Any) -> list[str]:
        return [OUT, CONTROL]

    def output_label(self, output: str) -> str:
        return str(lazy("Control group")) if output == CONTROL else str(lazy("Main group"))

    def check(self, settings: Any, context: Any) -> list[tuple[str, str]]:
        wanted = settings.audience_id if settings.mode == "audience" else None
        if wanted is not None and not ActionQueries(context.session).exists(Audience, wanted):
            return [("audience_id", str(lazy("The target audience does not exist")))]
        return []

    def run(self, step: Step, journeys: Sequence[Journey]) -> list[Outcome]:
        known = {j.id: (j.state.get("control") or {}).get(step.node) for j in journeys}
        fresh = [j for j in journeys if known[j.id] is None]  # a journey back on a loop keeps its answer
        drawn = _draw(step, fresh) if fresh else set()
        outcomes: list[Outcome] = []
        for journey in journeys:
            held_out = bool(known[journey.id]) if known[journey.id] is not None else journey.id in drawn
            journey.state = {
                **journey.state,
                "control": {**(journey.state.get("control") or {}), step.node: held_out},
            }
            outcomes.append(Go(CONTROL if held_out else OUT))
        return outcomes


def _draw(step: Step, journeys: Sequence[Journey]) -> set[int]:
    """The ids of the journeys that go to the control group."""
    settings: ControlSettings = step.settings
    if settings.mode == "audience":
        assert settings.audience_id is not None
        members = ActionQueries(step.session).audience_members(
            settings.audience_id, [j.customer_id for j in journeys]
        )
        return {j.id for j in journeys if j.customer_id in members}
    share = settings.percent / 100
    if not settings.strata:
        return {j.id for j in journeys if draw(step, j.customer_id) < share}
    return _stratified(step, journeys, share)


def draw(step: Step, customer_id: int) -> float:
    """The customer's number in [0, 1) for this campaign's node: fixed by (campaign, node, customer)."""
    return unit(step.campaign.id, customer_id, f"control:{step.node}")


def _stratified(step: Step, journeys: Sequence[Journey], share: float) -> set[int]:
    fields = step.settings.strata
    values = ActionQueries(step.session).strata([j.customer_id for j in journeys], fields)
    today = step.now.astimezone(step.zone).date()
    by_stratum: dict[str, list[Journey]] = defaultdict(list)
    for journey in journeys:
        key = stratum_key(fields, values.get(journey.customer_id, (None,) * len(fields)), today)
        by_stratum[key].append(journey)
    drawn: set[int] = set()
    for key in sorted(by_stratum):  # the same order in every worker: row locks never wait in a ring
        drawn |= _draw_in_stratum(step, key, by_stratum[key], share)
    return drawn


def _draw_in_stratum(step: Step, key: str, journeys: list[Journey], share: float) -> set[int]:
    """Each arrival goes to the control group when the draw is under what the stratum lacks of its share
    after it arrives: always when a whole customer is missing, never when the share is reached."""
    repository = CampaignRepository(step.session)
    arrived = repository.add_to_counter(step.version_id, step.node, f"{key}:n", len(journeys), step.now)
    held = ActionQueries(step.session).counter(step.version_id, step.node, f"{key}:c") or 0
    before, drawn = held, set()
    for position, journey in enumerate(journeys, start=arrived - len(journeys) + 1):
        if draw(step, journey.customer_id) < share * position - held:
            drawn.add(journey.id)
            held += 1
    if held > before:
        repository.add_to_counter(step.version_id, step.node, f"{key}:c", held - before, step.now)
    return drawn


def stratum_key(fields: Sequence[str], values: Sequence[Any], today: date) -> str:
    """A short, stable name of the customer's stratum (the counters' key)."""
    parts: list[str] = []
    for name, value in zip(fields, values, strict=True):
        if name == "age_band":
            parts.append(str(_age_band(value, today)))
        elif name == "buyer":
            parts.append(str(bool(value)))
        elif isinstance(value, str):
            parts.append(value.strip().casefold())
        else:
            parts.append("" if value is None else str(value))
    digest = hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:20]
    return f"stratum:{digest}"


def _age_band(born: date | None, today: date) -> str | None:
    if born is None:
        return None
    age = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
    return next((band for limit, band in AGE_BANDS if age < limit), "55+")
