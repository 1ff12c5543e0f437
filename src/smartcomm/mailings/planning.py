"""From a mailing and a batch of its audience to ledger requests: the control-group split, the requests
themselves (the content of a variant), planning them (the Viber → SMS cascade in two steps), and judging
them without writing (the messaging volume). The draws themselves are in `draws`.

A customer's message of a mailing is keyed by the mailing and the customer only (not the variant), so no
customer can ever get two messages of one mailing; a resend to those not reached adds its round.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from smartcomm.channels.email.warm_up import WarmUpSettings
from smartcomm.delivery.facts import FactsLoader
from smartcomm.delivery.ledger import (
    EXCLUDES_GLOBAL_CONTROL,
    FINAL,
    ISSUE_KEY,
    Bucket,
    Priority,
    Source,
    bucket_of,
    issue_key_of,
)
from smartcomm.delivery.policy import Suppress, decide
from smartcomm.delivery.schemas import PlanRequest
from smartcomm.delivery.service import PlanContext, candidate_of, delivery_service
from smartcomm.models import Mailing, MessageTemplateVersion
from smartcomm.personalization.renderer import VersionSource
from smartcomm.settings.service import settings_service

CASCADE = "sms_viber"
CASCADE_PART = "cascade-sms"


@dataclass(frozen=True)
class Content:
    """What one variant of a mailing sends (the mailing's own content when it has no variants)."""

    template_version_id: int | None
    sms_template_version_id: int | None
    subject: str | None
    sender: dict[str, Any]
    variant: int | None = None


def content_of(mailing: Mailing, variant: int | None = None) -> Content:
    """The content of a variant: what the variant sets, the mailing's own settings for the rest."""
    own = Content(mailing.template_version_id, mailing.sms_template_version_id, None, dict(mailing.sender))
    if variant is None or not mailing.variants or variant >= len(mailing.variants):
        return own
    chosen = mailing.variants[variant]
    return Content(
        chosen.get("template_version_id") or own.template_version_id,
        chosen.get("sms_template_version_id") or own.sms_template_version_id,
        chosen.get("subject"),
        {**own.sender, **(chosen.get("sender") or {})},
        variant,
    )


def template_texts(session: Session, mailing: Mailing) -> list[str]:
    """Every text the mailing's messages are rendered from: its templates' parts (each variant's, the SMS
    leg's) and the variants' own subjects."""
    contents = [content_of(mailing, index) for index in range(len(mailing.variants))] or [content_of(mailing)]
    version_ids = {i for c in contents for i in (c.template_version_id, c.sms_template_version_id) if i}
    versions = session.scalars(
        select(MessageTemplateVersion).where(MessageTemplateVersion.id.in_(version_ids))
    )
    texts = [text for version in versions for text in VersionSource.of(version).parts.values() if text]
    return texts + [c.subject for c in contents if c.subject]


def split_control(customer_ids: Sequence[int], drawn: Collection[int] | None) -> tuple[list[int], list[int]]:
    """(recipients, control-group members) of a batch of the audience, the group drawn beforehand (None:
    the mailing has none)."""
    if not drawn:
        return list(customer_ids), []
    recipients: list[int] = []
    control: list[int] = []
    for customer_id in customer_ids:
        (control if customer_id in drawn else recipients).append(customer_id)
    return recipients, control


def first_leg_channel(mailing: Mailing) -> str:
    return "viber" if mailing.channel == CASCADE else mailing.channel


def occurrence_of(customer_id: int, resend_round: int = 0) -> str:
    """What makes the message new: the customer (one message for ever), and the round of a resend."""
    return str(customer_id) if resend_round == 0 else f"{customer_id}:resend-{resend_round}"


def requests_for(
    mailing: Mailing,
    customer_ids: Sequence[int],
    now: datetime,
    content: Content | None = None,
    resend_round: int = 0,
) -> list[PlanRequest]:
    """The mailing's message to each customer (the Viber message of a cascade): one per customer and round
    for ever."""
    content = content or content_of(mailing)
    expires_at = now + timedelta(hours=mailing.lifetime_hours) if mailing.lifetime_hours else None
    options = _options(mailing, content)
    requests = [
        PlanRequest(
            source_kind=Source.MAILING,
            source_id=mailing.id,
            channel=first_leg_channel(mailing),
            customer_id=customer_id,
            occurrence=occurrence_of(customer_id, resend_round),
            category_id=mailing.category_id,
            template_version_id=content.template_version_id,
            priority=Priority.LOW,  # a mass send gives way to triggered and transactional messages
            expires_at=expires_at,
            options=options,
        )
        for customer_id in customer_ids
    ]
    return [_issuing_as_first_round(request) for request in requests] if resend_round else requests


def _issuing_as_first_round(request: PlanRequest) -> PlanRequest:
    """A resent message issues what the first round's message issued (the same promo code): what it
    issues is keyed by the first round's message key."""
    first = replace(request, occurrence=occurrence_of(request.customer_id or 0))
    return replace(request, options={**request.options, ISSUE_KEY: delivery_service.key_of(first)})


def _options(mailing: Mailing, content: Content) -> dict[str, Any]:
    options: dict[str, Any] = {"deliver_immediately": mailing.deliver_immediately}
    if mailing.exclude_global_control:
        options[EXCLUDES_GLOBAL_CONTROL] = True
    if mailing.rate_per_minute:
        options["rate_per_minute"] = mailing.rate_per_minute
    if mailing.utm:
        options["utm"] = dict(mailing.utm)
    if content.sender:
        options["sender"] = dict(content.sender)
    if content.subject:
        options["subject"] = content.subject
    if content.variant is not None:
        options["variant"] = content.variant
    return options


def plan(
    session: Session,
    mailing: Mailing,
    customer_ids: Sequence[int],
    now: datetime,
    content: Content | None = None,
    resend_round: int = 0,
) -> int:
    """Record the mailing's messages to these customers (those recorded before are left as they are);
    returns how many messages were new."""
    if first_leg_channel(mailing) == "email" and settings_service.read(session, WarmUpSettings).enabled:
        # Under warm-up each day's allowance goes to engaged readers first: planned (and so claimed,
        # which goes by message id) in that order.
        customer_ids = delivery_service.most_engaged_first(session, customer_ids, now)
    content = content or content_of(mailing)
    requests = requests_for(mailing, customer_ids, now, content, resend_round)
    if mailing.channel != CASCADE:  # nothing follows from the messages: no need to load them
        return len(delivery_service.plan_new(session, requests, now, read_back=False)[1])
    messages, new_ids = delivery_service.plan_new(session, requests, now)
    legs = [
        replace(
            request,
            channel="sms",
            template_version_id=content.sms_template_version_id,
            cascade_of=message.id,
            part=CASCADE_PART,
            # The SMS stands in for the Viber message: it shows what that one issued.
            options={**request.options, ISSUE_KEY: issue_key_of(message.idempotency_key, message.options)},
        )
        for request, message in zip(requests, messages, strict=True)
    ]
    _, new_legs = delivery_service.plan_new(session, legs, now)
    lost = [message.id for message in messages if message.status in FINAL]
    if lost:  # Viber will never arrive (no consent, a landline): the SMS goes at once
        delivery_service.release_cascade(session, lost)
    return len(new_ids) + len(new_legs)


def judge(session: Session, mailing: Mailing, customer_ids: Sequence[int], now: datetime) -> Counter[str]:
    """The report buckets these customers would fall in if the mailing were planned for them now (the
    gate's own decision on the same facts, nothing written). A cascade's customer counts as the Viber
    message's bucket when it may go, else as the SMS leg's."""
    context = PlanContext(session, now)
    loader = FactsLoader(session, context.rules, context.project_zone, now)
    requests = requests_for(mailing, customer_ids, now)
    buckets = [
        _bucket(context, request, judged)
        for request, judged in zip(requests, loader.load(requests), strict=True)
    ]
    if mailing.channel == CASCADE:
        legs = [replace(request, channel="sms") for request in requests]
        for index, judged in enumerate(loader.load(legs)):
            if buckets[index] != Bucket.GOOD:
                buckets[index] = _bucket(context, legs[index], judged)
    return Counter(buckets)


def _bucket(context: PlanContext, request: PlanRequest, judged: Any) -> str:
    decision = decide(
        candidate_of(request, context.expiry(request)), judged.facts, context.rules, context.now
    )
    return bucket_of(decision.reason if isinstance(decision, Suppress) else None)
