"""From a mailing and a batch of its audience to ledger requests: the control-group draw, the requests
themselves, planning them (the Viber → SMS cascade in two steps), and judging them without writing (the
messaging volume).

The control group is drawn per customer from a hash of the mailing's seed and the customer id: the same
seed always draws the same members, whatever the batches, the order or the number of workers, so a
collect interrupted and resumed draws exactly what one uninterrupted run would have.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from smartcomm.delivery.facts import FactsLoader
from smartcomm.delivery.ledger import FINAL, Bucket, Priority, Source, bucket_of
from smartcomm.delivery.policy import Suppress, decide
from smartcomm.delivery.schemas import PlanRequest
from smartcomm.delivery.service import PlanContext, candidate_of, delivery_service
from smartcomm.models import Mailing

CASCADE = "sms_viber"
CASCADE_PART = "cascade-sms"
_SCALE = 2**64


def in_control_group(seed: int, customer_id: int, percent: float) -> bool:
    """Whether the customer is drawn into the control group of a mailing with this seed and share."""
    if percent <= 0:
        return False
    digest = hashlib.sha256(f"{seed}:{customer_id}".encode("ascii")).digest()
    return int.from_bytes(digest[:8], "big") / _SCALE * 100 < percent


def split_control(mailing: Mailing, customer_ids: Sequence[int]) -> tuple[list[int], list[int]]:
    """(recipients, control-group members) of a batch of the audience."""
    recipients: list[int] = []
    control: list[int] = []
    for customer_id in customer_ids:
        drawn = in_control_group(mailing.control_seed, customer_id, mailing.control_percent)
        (control if drawn else recipients).append(customer_id)
    return recipients, control


def first_leg_channel(mailing: Mailing) -> str:
    return "viber" if mailing.channel == CASCADE else mailing.channel


def requests_for(mailing: Mailing, customer_ids: Sequence[int], now: datetime) -> list[PlanRequest]:
    """The mailing's message to each customer (the Viber message of a cascade): one per customer for ever,
    the customer id being its occurrence."""
    expires_at = now + timedelta(hours=mailing.lifetime_hours) if mailing.lifetime_hours else None
    options = _options(mailing)
    return [
        PlanRequest(
            source_kind=Source.MAILING,
            source_id=mailing.id,
            channel=first_leg_channel(mailing),
            customer_id=customer_id,
            occurrence=str(customer_id),
            category_id=mailing.category_id,
            template_version_id=mailing.template_version_id,
            priority=Priority.LOW,  # a mass send gives way to triggered and transactional messages
            expires_at=expires_at,
            options=options,
        )
        for customer_id in customer_ids
    ]


def _options(mailing: Mailing) -> dict[str, Any]:
    options: dict[str, Any] = {"deliver_immediately": mailing.deliver_immediately}
    if mailing.rate_per_minute:
        options["rate_per_minute"] = mailing.rate_per_minute
    if mailing.utm:
        options["utm"] = dict(mailing.utm)
    if mailing.sender:
        options["sender"] = dict(mailing.sender)
    return options


def plan(session: Session, mailing: Mailing, customer_ids: Sequence[int], now: datetime) -> int:
    """Record the mailing's messages to these customers (those recorded before are left as they are);
    returns how many messages were new."""
    requests = requests_for(mailing, customer_ids, now)
    messages, new_ids = delivery_service.plan_new(session, requests, now)
    if mailing.channel != CASCADE:
        return len(new_ids)
    legs = [
        replace(
            request,
            channel="sms",
            template_version_id=mailing.sms_template_version_id,
            cascade_of=message.id,
            part=CASCADE_PART,
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
