"""Communication metrics: what the send ledger says a customer was sent, opened and clicked.

Every message is a row of `messages`; a mailing's rows carry source kind "mailing" and the mailing's id.
Each metric is a correlated subquery on the customer's own messages (index on customer, channel and
hand-over time) or on one mailing's messages (index on source kind and id), so a condition costs a
short index range per candidate customer.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, exists, func, select

from smartcomm.delivery.ledger import HANDED_OVER, PROGRESS, Source
from smartcomm.kit.i18n import lazy
from smartcomm.models import Customer, MailingControlMember, Message
from smartcomm.segments.metrics.base import (
    MAX_DAYS,
    PERIOD,
    CompileContext,
    Metric,
    MetricError,
    ParamSpec,
    ValueType,
    compare,
    param,
    param_id,
    per_customer_value,
    period_of,
    registry,
)
from smartcomm.segments.metrics.profile import days_since
from smartcomm.segments.rules import Condition

COMMUNICATIONS = lazy("Communications")
CHANNELS = ("email", "sms", "viber", "push")
# Service messages are not communications: sends to test lists and watchers, e-mail confirmations.
NOT_COMMUNICATIONS = (Source.TEST, Source.WATCHER, Source.CONFIRMATION)
RECEIVED = tuple(status.value for status in PROGRESS)  # sent, delivered, opened, clicked

MAILING = ParamSpec("mailing", lazy("Mailing"), "mailing", True)
CHANNEL = ParamSpec("channel", lazy("Channel"), "channel")


def mailing_id(condition: Condition) -> int:
    """The mailing the condition names: an id, or a name given as {"name": …} resolved on saving."""
    param(condition, "mailing", True)
    found = param_id(condition, "mailing")
    if found is None:
        raise MetricError("the parameter 'mailing' is an id, or a name given as {\"name\": …}")
    return found


def channels_of(condition: Condition) -> list[str]:
    """The channels the condition counts: the one named, or all four ("any", or nothing given).

    "Any" is spelled as the list of channels, so the index on (customer, channel, hand-over time) still
    answers with one short range per channel."""
    channel = param(condition, "channel")
    if channel in (None, "", "any"):
        return list(CHANNELS)
    if channel not in CHANNELS:
        raise MetricError(f"unknown channel {channel!r}")  # any, email, sms, viber or push
    return [str(channel)]


def _mailing_messages(condition: Condition, *wanted: Any) -> ColumnElement[bool]:
    """Whether the customer has a message of the condition's mailing meeting `wanted`."""
    return exists(
        select(Message.id).where(
            Message.source_kind == Source.MAILING.value,
            Message.source_id == mailing_id(condition),
            Message.customer_id == Customer.id,
            *wanted,
        )
    )


def _mailing_metric(key: str, label: Any, *wanted: Any) -> Metric:
    def build(condition: Condition, context: CompileContext) -> ColumnElement[bool]:
        return compare(_mailing_messages(condition, *wanted), metric, condition, context)

    metric = Metric(key, label, COMMUNICATIONS, ValueType.BOOLEAN, build, params=(MAILING,))
    return registry.register(metric)


_mailing_metric("communications.received", lazy("Received the mailing"), Message.status.in_(RECEIVED))
# Milestones move on people's hits only, and a burst found later moves its hits to the machine counters:
# an open or a click counts while a person's hit remains.
_mailing_metric(
    "communications.opened",
    lazy("Opened the mailing"),
    Message.opened_at.is_not(None),
    Message.opens > 0,
)
_mailing_metric(
    "communications.clicked",
    lazy("Clicked in the mailing"),
    Message.clicked_at.is_not(None),
    Message.clicks > 0,
)


def communication_filters(condition: Condition) -> list[Any]:
    """Messages handed to a provider on the condition's channels, that the provider still holds or
    delivered (what the frequency caps count), other than service messages."""
    return [
        Message.channel.in_(channels_of(condition)),
        Message.handed_over_at.is_not(None),
        Message.status.in_(sorted(HANDED_OVER)),
        Message.source_kind.not_in([source.value for source in NOT_COMMUNICATIONS]),
    ]


def _build_count(condition: Condition, context: CompileContext) -> ColumnElement[bool]:
    start, end = context.period_bounds(period_of(condition))
    filters = communication_filters(condition)
    if start is not None:
        filters.append(Message.handed_over_at >= start)
    if end is not None:
        filters.append(Message.handed_over_at < end)
    return per_customer_value(Message.customer_id, func.count(), 0, filters, COUNT, condition, context)


COUNT = registry.register(
    Metric(
        "communications.count",
        lazy("Number of communications"),
        COMMUNICATIONS,
        ValueType.INTEGER,
        _build_count,
        params=(CHANNEL, PERIOD),
    )
)


def _build_days_since(condition: Condition, context: CompileContext) -> ColumnElement[bool]:
    latest = (
        select(func.max(Message.handed_over_at))
        .where(Message.customer_id == Customer.id, *communication_filters(condition))
        .scalar_subquery()
    )
    return days_since(latest, DAYS_SINCE, condition, context)


DAYS_SINCE = registry.register(
    Metric(
        "communications.days_since_last",
        lazy("Days since the last communication"),
        COMMUNICATIONS,
        ValueType.INTEGER,
        _build_days_since,
        params=(CHANNEL,),
        unit=lazy("days"),
        limit=MAX_DAYS,
    )
)


def _build_control(condition: Condition, context: CompileContext) -> ColumnElement[bool]:
    drawn = exists(
        select(MailingControlMember.customer_id).where(
            MailingControlMember.mailing_id == mailing_id(condition),
            MailingControlMember.customer_id == Customer.id,
        )
    )
    return compare(drawn, CONTROL, condition, context)


CONTROL = registry.register(
    Metric(
        "communications.control_group",
        lazy("In the control group of the mailing"),
        COMMUNICATIONS,
        ValueType.BOOLEAN,
        _build_control,
        params=(MAILING,),
    )
)
