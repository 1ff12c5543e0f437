"""Campaign metrics: what a customer received, opened and clicked from trigger campaigns, and whether they
entered a campaign or are on their way through one now.

A campaign's messages are ledger rows of source kind "campaign" with the campaign's id; its entries are
`journeys` rows. Each metric names one campaign or, left empty, any campaign, and may be narrowed to a
period (when the message was handed to the provider, opened or clicked; when the customer entered).
Each is a correlated EXISTS on the customer's own rows (the ledger's index on customer, the journeys' on
customer and campaign), so a condition costs a short index range per candidate customer.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, exists, select

from smartcomm.delivery.ledger import Source
from smartcomm.kit.i18n import lazy
from smartcomm.models import Customer, Journey, Message
from smartcomm.segments.metrics import base
from smartcomm.segments.metrics.base import (
    CompileContext,
    Metric,
    ValueType,
    compare,
    param_id,
    period_of,
    registry,
)
from smartcomm.segments.metrics.communications import COMMUNICATIONS, RECEIVED
from smartcomm.segments.rules import Condition

CAMPAIGN = base.ParamSpec("campaign", lazy("Campaign"), "campaign")  # left empty: any campaign
UNDER_WAY = "waiting"


def campaign_id(condition: Condition) -> int | None:
    """The campaign the condition names; None when it names none (any campaign)."""
    value = condition.params.get("campaign")
    if value in (None, "", "any"):
        return None
    found = param_id(condition, "campaign")
    if found is None:
        raise base.MetricError("the parameter 'campaign' is a campaign's id, or empty for any campaign")
    return found


def _in_period(column: Any, condition: Condition, context: CompileContext) -> list[Any]:
    start, end = context.period_bounds(period_of(condition))
    return [
        bound
        for bound in (column >= start if start else None, column < end if end else None)
        if bound is not None
    ]


def _message_metric(key: str, label: Any, moment: Any, *wanted: Any) -> Metric:
    """A message of the campaign received, opened or clicked: `moment` is the time the period bounds."""

    def build(condition: Condition, context: CompileContext) -> ColumnElement[bool]:
        chosen = campaign_id(condition)
        filters = [
            Message.customer_id == Customer.id,
            Message.source_kind == Source.CAMPAIGN.value,
            *wanted,
            *_in_period(moment, condition, context),
        ]
        if chosen is not None:
            filters.append(Message.source_id == chosen)
        return compare(exists(select(Message.id).where(*filters)), metric, condition, context)

    metric = Metric(key, label, COMMUNICATIONS, ValueType.BOOLEAN, build, params=(CAMPAIGN, base.PERIOD))
    return registry.register(metric)


_message_metric(
    "campaigns.received",
    lazy("Received a campaign message"),
    Message.handed_over_at,
    Message.status.in_(RECEIVED),
)
# Milestones move on people's hits only; an open or a click counts while a person's hit remains.
_message_metric(
    "campaigns.opened",
    lazy("Opened a campaign message"),
    Message.opened_at,
    Message.opened_at.is_not(None),
    Message.opens > 0,
)
_message_metric(
    "campaigns.clicked",
    lazy("Clicked in a campaign message"),
    Message.clicked_at,
    Message.clicked_at.is_not(None),
    Message.clicks > 0,
)


def _journey_metric(key: str, label: Any, *wanted: Any, period: bool = True) -> Metric:
    """Entered the campaign (in the period), or is in it now."""

    def build(condition: Condition, context: CompileContext) -> ColumnElement[bool]:
        chosen = campaign_id(condition)
        filters = [Journey.customer_id == Customer.id, *wanted]
        if period:
            filters += _in_period(Journey.entered_at, condition, context)
        if chosen is not None:
            filters.append(Journey.campaign_id == chosen)
        return compare(exists(select(Journey.id).where(*filters)), metric, condition, context)

    params = (CAMPAIGN, base.PERIOD) if period else (CAMPAIGN,)
    metric = Metric(key, label, COMMUNICATIONS, ValueType.BOOLEAN, build, params=params)
    return registry.register(metric)


_journey_metric("campaigns.entered", lazy("Entered a campaign"))
_journey_metric(
    "campaigns.in_progress",
    lazy("Is in a campaign now (in progress)"),
    Journey.status == UNDER_WAY,
    period=False,
)
