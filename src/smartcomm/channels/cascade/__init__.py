"""Viber → SMS cascade: which legs a message needs, and when the SMS leg goes.

The rule (reference §5.4): SMS text only → SMS; Viber text only → Viber; both → Viber first and, if it is
not delivered within the cascade timeout (3 hours by default), the SMS. A delivered (or read, or
clicked) Viber message cancels the SMS leg. The ledger writes and schedules the legs; these are only
the decisions.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import ClassVar, Literal

from pydantic import Field

from smartcomm.channels.base import Channel
from smartcomm.kit.errors import InvalidInput
from smartcomm.settings.schemas import SettingsGroup

DEFAULT_TIMEOUT_MINUTES = 180
MAX_TIMEOUT_MINUTES = 7 * 24 * 60
# Ledger statuses that prove the Viber message reached the phone.
REACHED = frozenset({"delivered", "opened", "clicked"})
# Ledger statuses after which the Viber message will never be delivered: the SMS goes at once.
LOST = frozenset({"failed", "expired", "suppressed", "cancelled"})


class CascadeSettings(SettingsGroup):
    prefix: ClassVar[str] = "cascade"

    # How long a Viber message may stay undelivered before its SMS goes.
    viber_timeout_minutes: int = Field(default=DEFAULT_TIMEOUT_MINUTES, ge=1, le=MAX_TIMEOUT_MINUTES)

    @property
    def timeout(self) -> timedelta:
        return timedelta(minutes=self.viber_timeout_minutes)


def checked_timeout(value: object) -> int:
    """The cascade timeout typed into the form, in minutes, or an error naming the field."""
    text = str(value or "").strip()
    if not text.isdigit() or not 1 <= int(text) <= MAX_TIMEOUT_MINUTES:
        raise InvalidInput.for_field(
            "viber_timeout_minutes", "Enter a number of minutes from 1 to 10080 (a week)"
        )
    return int(text)


@dataclass(frozen=True, slots=True)
class CascadePlan:
    first: Channel  # the leg sent at once
    fallback: Channel | None = None  # sent only if the first is not delivered in time

    @property
    def legs(self) -> tuple[Channel, ...]:
        return (self.first,) if self.fallback is None else (self.first, self.fallback)


def plan(sms_text: str | None, viber_text: str | None) -> CascadePlan | None:
    """The legs for a content with SMS text and/or Viber text; None when both are empty."""
    has_sms, has_viber = bool(sms_text and sms_text.strip()), bool(viber_text and viber_text.strip())
    if has_viber:
        return CascadePlan(Channel.VIBER, Channel.SMS if has_sms else None)
    return CascadePlan(Channel.SMS) if has_sms else None


def fallback_due_at(viber_sent_at: datetime, settings: CascadeSettings) -> datetime:
    """When the SMS leg goes if the Viber message is still not delivered."""
    return viber_sent_at + settings.timeout


SmsDecision = Literal["cancel", "send", "wait"]


def sms_decision(
    viber_status: str, viber_sent_at: datetime | None, now: datetime, settings: CascadeSettings
) -> SmsDecision:
    """What to do with a waiting SMS leg: "cancel" (Viber arrived), "send" (Viber lost or too late) or
    "wait"."""
    if viber_status in REACHED:
        return "cancel"
    if viber_status in LOST:
        return "send"
    if viber_sent_at is not None and now >= fallback_due_at(viber_sent_at, settings):
        return "send"
    return "wait"
