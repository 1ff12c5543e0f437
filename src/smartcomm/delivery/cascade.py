"""The Viber → SMS cascade in the ledger: both legs are recorded when the message is planned — the Viber
leg goes at once, the SMS leg (`cascade_of` = the Viber message) waits with reason `cascade_wait`. A
delivered (read, clicked) Viber message cancels the SMS leg; one that is lost (failed, expired,
suppressed) releases it at once; one still undelivered after the cascade timeout (3 hours by default,
`channels.cascade.CascadeSettings`, or the send's own `cascade_timeout_minutes`) releases it then.

The decisions are `channels.cascade.sms_decision`'s; here they are applied. Three paths reach them, each
enough on its own: the delivery receipt or failure of the Viber message (`delivery.service`), a delayed
job queued when the Viber message was sent (`delivery.cascade_check`), and a periodic look at every
waiting leg (`delivery.cascades_due`). The dispatcher checks again before an SMS leg goes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from sqlalchemy.orm import Session

from smartcomm.channels.cascade import CascadeSettings, sms_decision
from smartcomm.channels.cascade import plan as legs_for
from smartcomm.delivery.ledger import FINAL, Reason, Status
from smartcomm.delivery.repository import LedgerRepository
from smartcomm.delivery.schemas import PlanRequest
from smartcomm.delivery.service import delivery_service, dispatch_after_commit, event_row
from smartcomm.kit.time import utcnow
from smartcomm.models import Message
from smartcomm.settings.service import settings_service

DUE_BATCH = 1000


def plan_cascade(session: Session, viber: PlanRequest, sms: PlanRequest) -> tuple[list[Message], set[int]]:
    """Record both legs: the Viber message, and the SMS that follows it if Viber is not delivered; also
    tells which of them were recorded now."""
    planned, new_ids = delivery_service.plan_new(session, [viber])
    leg = replace(sms, cascade_of=planned[0].id, part=f"{sms.part or ''}cascade-sms")
    second, more = delivery_service.plan_new(session, [leg])
    if planned[0].status in FINAL:  # Viber will never arrive (no consent, no number): the SMS goes at once
        delivery_service.release_cascade(session, [planned[0].id])
    return planned + second, new_ids | more


def needs_cascade(sms_text: str | None, viber_text: str | None) -> bool:
    """Content with both Viber and SMS text goes as a cascade (reference §5.4)."""
    found = legs_for(sms_text, viber_text)
    return found is not None and found.fallback is not None


def settings_for(defaults: CascadeSettings, leg: Message) -> CascadeSettings:
    minutes = (leg.options or {}).get("cascade_timeout_minutes")
    return CascadeSettings(viber_timeout_minutes=minutes) if minutes else defaults


def settle(session: Session, pairs: Sequence[tuple[Message, Message]], now: datetime | None = None) -> int:
    """Apply the cascade rule to waiting SMS legs (each with its Viber message); returns how many were
    cancelled or released."""
    moment = now or utcnow()
    defaults = settings_service.read(session, CascadeSettings)
    settled = 0
    for leg, viber in pairs:
        if leg.status != Status.PLANNED or leg.reason != Reason.CASCADE_WAIT:
            continue
        decision = sms_decision(viber.status, viber.sent_at, moment, settings_for(defaults, leg))
        if decision == "cancel":
            _cancel(session, leg, moment)
        elif decision == "send":
            leg.reason, leg.next_attempt_at = None, moment
            dispatch_after_commit(session)
        settled += decision != "wait"
    return settled


def _cancel(session: Session, leg: Message, when: datetime) -> None:
    leg.status, leg.reason = Status.CANCELLED, Reason.CASCADE_DELIVERED
    LedgerRepository(session).add_events([event_row(leg.id, "cancelled", when, reason=leg.reason)])


def check(session: Session, viber_ids: Sequence[int]) -> int:
    """The cascades of these Viber messages, looked at now (their timeout has passed)."""
    repository = LedgerRepository(session)
    legs = repository.cascade_legs(list(viber_ids))
    vibers = repository.by_ids([leg.cascade_of for leg in legs if leg.cascade_of is not None])
    pairs = [(leg, vibers[leg.cascade_of]) for leg in legs if leg.cascade_of in vibers]
    return settle(session, pairs)


def check_due(session: Session) -> int:
    """Every waiting SMS leg (the periodic safety net behind the receipts and the delayed checks)."""
    return settle(session, LedgerRepository(session).waiting_legs(DUE_BATCH))
