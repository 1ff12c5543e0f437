"""Around a mailing's sends: a test copy to a tester's address, and pausing the mailing itself when its
provider fails message after message (a broken account, a blocked sender) instead of burning the audience
on retries and failures."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy.orm import Session

from smartcomm.customers.contacts import normalize_email, normalize_phone
from smartcomm.delivery.dispatch import Outcome
from smartcomm.delivery.ledger import Priority, Reason, Source, Status
from smartcomm.delivery.schemas import PlanRequest
from smartcomm.kit.errors import InvalidInput
from smartcomm.mailings import planning
from smartcomm.mailings.repository import MailingRepository
from smartcomm.mailings.schemas import TestSendIn
from smartcomm.models import Customer, Mailing
from smartcomm.settings.schemas import DeliverySettings, GeneralSettings
from smartcomm.settings.service import settings_service

# Outcomes that mean "the provider did not take it": a refusal, or a retry after an error or a 4xx.
PROVIDER_FAILURES = frozenset({Reason.PROVIDER_REFUSED, Reason.RETRY})
TAKEN = frozenset({Status.SENT, Status.DELIVERED})
CLEAN_FOR_SECONDS = 5.0


# --- test sends ---------------------------------------------------------------------------------------


def test_request(session: Session, mailing: Mailing, data: TestSendIn) -> PlanRequest:
    """The test copy of a mailing (a variant's when asked) to the tester's address, rendered with the data
    of the chosen customer (the sample customer when none)."""
    if data.variant is not None and data.variant >= max(len(mailing.variants), 1):
        raise InvalidInput.for_field("variant", "The mailing has no such variant")
    if data.customer_id is not None and session.get(Customer, data.customer_id) is None:
        raise InvalidInput.for_field("customer_id", "There is no such customer")
    channel = planning.first_leg_channel(mailing)
    content = planning.content_of(mailing, data.variant)
    if content.template_version_id is None:
        raise InvalidInput.for_field("template_version_id", "Choose the template to send first")
    options: dict[str, Any] = {"deliver_immediately": True, "test_of": mailing.id}
    if data.customer_id is not None:
        options["render_as"] = data.customer_id
    if content.sender:
        options["sender"] = dict(content.sender)
    if content.subject:
        options["subject"] = content.subject
    if mailing.utm:
        options["utm"] = dict(mailing.utm)
    return PlanRequest(
        source_kind=Source.TEST,
        source_id=mailing.id,
        channel=channel,
        recipient=_recipient(session, channel, data.recipient),
        occurrence=uuid.uuid4().hex,  # every test send is a new message
        category_id=mailing.category_id,
        template_version_id=content.template_version_id,
        priority=Priority.HIGH,
        options=options,
    )


def _recipient(session: Session, channel: str, value: str) -> str:
    if channel == "email":
        email = normalize_email(value)
        if not email.valid:
            raise InvalidInput.for_field("recipient", "Not an e-mail address")
        return str(email.value)
    if channel in ("sms", "viber"):
        country = settings_service.read(session, GeneralSettings).sms_default_country
        phone = normalize_phone(value, country)
        if not phone.valid:
            raise InvalidInput.for_field("recipient", "Not a phone number")
        return str(phone.value)
    return value.strip()


# --- pausing after provider failures ------------------------------------------------------------------

Pause = Callable[[Session, int, str], None]


class FailureWatch:
    """Counts each running mailing's provider failures in a row (any message taken resets it) in the
    transaction that records the outcomes, and pauses the mailing at its limit.

    Resetting is a write per hand-over; a mailing this process has just reset (and seen no failure of
    since) is not reset again for a few seconds, so a healthy send costs one reset now and then, not one
    per message."""

    def __init__(self, pause: Pause, clean_for: float = CLEAN_FOR_SECONDS) -> None:
        self.pause = pause
        self.clean_for = clean_for
        self._clean_until: dict[int, float] = {}

    def __call__(self, session: Session, outcomes: Sequence[Outcome]) -> None:
        runs = _runs_by_mailing(outcomes)
        if not runs:
            return
        now = time.monotonic()
        taken = [
            mailing_id
            for mailing_id, (reset, failures, _) in runs.items()
            if reset and (failures or self._clean_until.get(mailing_id, 0.0) <= now)
        ]
        if taken:
            MailingRepository(session).reset_failures(taken)
        for mailing_id, (_, failures, words) in runs.items():
            if failures:
                self._clean_until.pop(mailing_id, None)
                self._count(session, mailing_id, failures, words)
            elif mailing_id in taken:
                self._clean_until[mailing_id] = now + self.clean_for

    def _count(self, session: Session, mailing_id: int, failures: int, words: str) -> None:
        count, limit = MailingRepository(session).count_failures(mailing_id, failures)
        limit = limit or settings_service.read(session, DeliverySettings).mailing_failure_limit
        if count >= limit:
            reason = f"Paused automatically after {count} provider failures in a row. Last: {words}"
            self.pause(session, mailing_id, reason[:500])


def _runs_by_mailing(outcomes: Sequence[Outcome]) -> dict[int, tuple[bool, int, str]]:
    """Per mailing: whether a message was taken (resetting the count), the failures after the last one
    taken, and the provider's last words."""
    runs: dict[int, tuple[bool, int, str]] = {}
    for outcome in outcomes:
        message = outcome.message
        if message.source_kind != Source.MAILING or message.source_id is None:
            continue
        reset, failures, words = runs.get(message.source_id, (False, 0, ""))
        status, reason = outcome.values.get("status"), outcome.values.get("reason")
        if status in TAKEN and reason is None:
            runs[message.source_id] = (True, 0, words)
        elif reason in PROVIDER_FAILURES:
            runs[message.source_id] = (reset, failures + 1, str(outcome.values.get("detail") or ""))
    return runs
