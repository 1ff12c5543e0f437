"""Actions on the customer: add to or remove from a target audience, award points, accrue bonus points
in the loyalty system, show a pop-up on the site.

Each passes on the customers it acted on. Audience changes are one statement per batch, with the
audience's member count moved by exactly the rows changed. Points, accrual requests and pop-ups are
keyed by (campaign, version and node, journey and visit): the loyalty and pop-up services record a key
once, so a step walked again awards, asks and shows nothing twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints

from smartcomm.audiences.service import announce_change
from smartcomm.campaigns.actions.base import Action, Go, Outcome, Step
from smartcomm.campaigns.actions.queries import ActionQueries
from smartcomm.campaigns.nodes import Settings, register
from smartcomm.kit.i18n import lazy
from smartcomm.kit.types import RowId
from smartcomm.loyalty.schemas import Source
from smartcomm.loyalty.service import loyalty_service
from smartcomm.models import Audience, Journey
from smartcomm.popups.schemas import PopupContent
from smartcomm.popups.service import popup_service

Reason = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)]


def step_key(step: Step, journey: Journey) -> str:
    """What makes one step of one journey unique: the key of everything it writes once."""
    return f"campaign:{step.campaign.id}:v{step.version_id}.{step.node}:j{journey.id}.{step.visit(journey)}"


def step_source(step: Step) -> Source:
    return Source("campaign", str(step.campaign.id), f"v{step.version_id}.{step.node}")


# --- audience actions ----------------------------------------------------------------------------------


class AudienceSettings(Settings):
    audience_id: RowId
    operation: Literal["add", "remove"] = "add"


@register
class AudienceAction(Action):
    """Adds the customers to a target audience, or takes them out. Everyone passes on: a customer who
    was a member already (or was not one) is where the action wants them."""

    name = "action.audience"
    family = "customers"
    label = lazy("Audience actions")
    description = lazy("Add the customers to a target audience or remove them from it")
    icon = "ti-users-plus"
    settings_model = AudienceSettings

    def check(self, settings: Any, context: Any) -> list[tuple[str, str]]:
        if not ActionQueries(context.session).exists(Audience, settings.audience_id):
            return [("audience_id", str(lazy("The target audience does not exist")))]
        return []

    def run(self, step: Step, journeys: Sequence[Journey]) -> list[Outcome]:
        queries, customer_ids = ActionQueries(step.session), [j.customer_id for j in journeys]
        audience_id = step.settings.audience_id
        if step.settings.operation == "add":
            added = queries.add_to_audience(audience_id, customer_ids, step.now)
            announce_change(step.session, audience_id, added=added)  # "user segment change" triggers
        else:
            removed = queries.remove_from_audience(audience_id, customer_ids)
            announce_change(step.session, audience_id, removed=removed)
        return [Go() for _ in journeys]


# --- points and bonuses --------------------------------------------------------------------------------


class PointsSettings(Settings):
    points: Annotated[int, Field(ge=-1_000_000_000, le=1_000_000_000)]
    reason: Reason | None = None


@register
class AwardPoints(Action):
    name = "action.award_points"
    family = "customers"
    label = lazy("Award points")
    description = lazy("Add points to the customers' points balance (a negative number takes them back)")
    icon = "ti-coin"
    settings_model = PointsSettings

    def check(self, settings: Any, context: Any) -> list[tuple[str, str]]:
        return [("points", str(lazy("Give a number of points other than 0")))] if settings.points == 0 else []

    def run(self, step: Step, journeys: Sequence[Journey]) -> list[Outcome]:
        settings, source = step.settings, step_source(step)
        for journey in journeys:  # the service writes one entry per customer under its key
            loyalty_service.award_points(
                step.session,
                journey.customer_id,
                settings.points,
                step_key(step, journey),
                settings.reason,
                source,
            )
        return [Go() for _ in journeys]


class AccrualSettings(Settings):
    amount: Annotated[Decimal, Field(gt=0, max_digits=16, decimal_places=2)]
    comment: Reason | None = None


@register
class AccrueBonuses(Action):
    """Asks the loyalty system to accrue bonuses: the request is recorded with the journey's step and sent
    (signed, retried) after the walk commits."""

    name = "action.accrue_bonuses"
    family = "customers"
    label = lazy("Accrue bonus points")
    description = lazy("Ask the loyalty system to accrue bonuses to the customers")
    icon = "ti-gift"
    settings_model = AccrualSettings
    needs = "loyalty"

    def run(self, step: Step, journeys: Sequence[Journey]) -> list[Outcome]:
        settings, source = step.settings, step_source(step)
        for journey in journeys:  # one request per customer under its key
            loyalty_service.request_accrual(
                step.session,
                journey.customer_id,
                settings.amount,
                step_key(step, journey),
                settings.comment,
                source,
            )
        return [Go() for _ in journeys]


# --- pop-ups -------------------------------------------------------------------------------------------


class PopupSettings(PopupContent, Settings):
    lifetime_hours: Annotated[int, Field(ge=1, le=24 * 90)] = 72


@register
class ShowPopup(Action):
    """Queues a pop-up that the site tracker shows on the customer's next page view (until it expires);
    its impressions and clicks are the pop-up's own."""

    name = "action.show_popup"
    family = "customers"
    label = lazy("Show pop-up")
    description = lazy("A pop-up on the site: title, text, image and a button")
    icon = "ti-app-window"
    settings_model = PopupSettings
    needs = "tracker"

    def run(self, step: Step, journeys: Sequence[Journey]) -> list[Outcome]:
        settings: PopupSettings = step.settings
        content = PopupContent.model_validate(settings.model_dump(exclude={"lifetime_hours"}))
        expires_at = step.now + timedelta(hours=settings.lifetime_hours)
        part = f"v{step.version_id}.{step.node}"
        outcomes: list[Outcome] = []
        for journey in journeys:  # the pop-up service records each key once
            popup_service.queue(
                step.session, journey.customer_id, step_key(step, journey), content, expires_at,
                "campaign", step.campaign.id, part,
            )  # fmt: skip
            outcomes.append(Go())
        return outcomes
