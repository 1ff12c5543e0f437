"""Contact, consent and subscription metrics."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, and_, exists, select

from smartcomm.kit.i18n import lazy
from smartcomm.models import Customer, MailingCategory, PushToken, Subscription
from smartcomm.segments.metrics.base import (
    CompileContext,
    Metric,
    MetricError,
    ParamSpec,
    ValueType,
    compare,
    param,
    param_id,
    registry,
)
from smartcomm.segments.rules import Condition

CONTACTS = lazy("Contacts and consent")
CHANNEL_LABELS = {"email": lazy("E-mail"), "sms": lazy("SMS"), "viber": lazy("Viber"), "push": lazy("Push")}


def _flag(key: str, label: Any, expression: Any) -> Metric:
    def build(condition: Condition, context: CompileContext) -> ColumnElement[bool]:
        return compare(expression, metric, condition, context)

    metric = Metric(key, label, CONTACTS, ValueType.BOOLEAN, build)
    return registry.register(metric)


_flag("contacts.has_email", lazy("Has an e-mail"), Customer.email.is_not(None))
_flag(
    "contacts.email_valid", lazy("E-mail is valid"), and_(Customer.email.is_not(None), Customer.email_valid)
)
_flag("contacts.has_phone", lazy("Has a phone"), Customer.phone.is_not(None))
_flag("contacts.phone_valid", lazy("Phone is valid"), and_(Customer.phone.is_not(None), Customer.phone_valid))
_flag(
    "contacts.phone_mobile",
    lazy("Phone is a valid mobile"),
    and_(Customer.phone_valid, Customer.phone_type == "mobile"),
)
_flag(
    "contacts.has_push",
    lazy("Has a valid push token"),
    exists(select(PushToken.id).where(PushToken.customer_id == Customer.id, PushToken.is_valid)),
)
CONSENT_LABELS = {
    "email": lazy("E-mail channel allowed"),
    "sms": lazy("SMS channel allowed"),
    "viber": lazy("Viber channel allowed"),
    "push": lazy("Push channel allowed"),
}
for _channel, _label in CONSENT_LABELS.items():
    _flag(f"consent.{_channel}", _label, getattr(Customer, f"allow_{_channel}"))


def _text_metric(key: str, label: Any, column: Any) -> Metric:
    def build(condition: Condition, context: CompileContext) -> ColumnElement[bool]:
        return compare(column, metric, condition, context)

    metric = Metric(key, label, CONTACTS, ValueType.STRING, build)
    return registry.register(metric)


_text_metric("contacts.email", lazy("E-mail address"), Customer.email)
_text_metric("contacts.phone", lazy("Phone number"), Customer.phone)


def _build_subscription(condition: Condition, context: CompileContext) -> ColumnElement[bool]:
    """Subscribed to a mailing category on a channel (a category given by id or code)."""
    category, channel = param(condition, "category", True), param(condition, "channel", True)
    if channel not in CHANNEL_LABELS:
        raise MetricError(f"unknown channel {channel!r}")
    category_id = param_id(condition, "category")
    category_filter = (
        Subscription.category_id == category_id
        if category_id is not None
        else Subscription.category_id.in_(
            select(MailingCategory.id).where(MailingCategory.code == str(category))
        )
    )
    subscribed = exists(
        select(Subscription.customer_id).where(
            Subscription.customer_id == Customer.id,
            category_filter,
            Subscription.channel == channel,
            Subscription.subscribed,
        )
    )
    return compare(subscribed, SUBSCRIPTION, condition, context)


SUBSCRIPTION = registry.register(
    Metric(
        "contacts.subscribed",
        lazy("Subscribed to a mailing category"),
        CONTACTS,
        ValueType.BOOLEAN,
        _build_subscription,
        params=(
            ParamSpec("category", lazy("Mailing category"), "mailing_category", True),
            ParamSpec("channel", lazy("Channel"), "channel", True),
        ),
    )
)
