"""IP warm-up: an optional daily ramp of e-mail volume for a new sending IP or domain.

Mailbox providers judge a new sender by its first weeks: a sudden large volume looks like a spammer's,
a steady ramp to engaged readers builds reputation. When warm-up is on, day N of the ramp (counted in
project days from the start date) allows the schedule's N-th number of e-mails; after the last number
there is no limit. The communication-policy gate enforces it (`delivery.policy`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any, ClassVar

from pydantic import Field, ValidationInfo, field_validator

from smartcomm.kit.errors import InvalidInput
from smartcomm.kit.time import start_of_day, to_zone
from smartcomm.settings.schemas import SettingsGroup

UNLIMITED_FROM = 1_000_000  # a day allowing this many is as good as no limit
MAX_DAYS = 60


def default_schedule() -> list[int]:
    """50, 100, 500 … 100,000 over ten days, then half as much again each day until a million a day."""
    schedule = [50, 100, 500, 1_000, 5_000, 10_000, 20_000, 40_000, 70_000, 100_000]
    while schedule[-1] * 3 // 2 < UNLIMITED_FROM:
        schedule.append(schedule[-1] * 3 // 2)
    return schedule


class WarmUpSettings(SettingsGroup):
    prefix: ClassVar[str] = "email_warm_up"

    enabled: bool = False
    start_date: date | None = None
    schedule: list[int] = Field(default_factory=default_schedule, min_length=1, max_length=MAX_DAYS)

    @field_validator("start_date")
    @classmethod
    def _start_when_enabled(cls, value: date | None, info: ValidationInfo) -> date | None:
        if value is None and info.data.get("enabled"):
            raise ValueError("Enter the day the warm-up starts")
        return value

    @field_validator("schedule")
    @classmethod
    def _positive(cls, value: list[int]) -> list[int]:
        if any(not 1 <= number <= 100_000_000 for number in value):
            raise ValueError("Each day allows from 1 to 100,000,000 e-mails")
        return value

    def allowance(self, day: date) -> int | None:
        """The e-mails day `day` allows; None when there is no limit (off, or past the ramp). Days before
        the start count as its first day: the IP is new until then."""
        if not self.enabled or self.start_date is None:
            return None
        index = max((day - self.start_date).days, 0)
        return self.schedule[index] if index < len(self.schedule) else None


def parse_schedule(text: object) -> list[int]:
    """The schedule typed as numbers separated by commas, spaces or new lines (thousands may be grouped
    with a space or an underscore), or an error naming the field."""
    words = str(text or "").replace(";", ",").replace("\n", ",").split(",")
    numbers: list[int] = []
    for word in (w.strip().replace(" ", "").replace("\u00a0", "").replace("_", "") for w in words):
        if not word:
            continue
        if not word.isdigit():
            raise InvalidInput.for_field("schedule", "Enter whole numbers of e-mails, one per day")
        numbers.append(int(word))
    if not numbers:
        raise InvalidInput.for_field("schedule", "Enter at least one day's number of e-mails")
    return numbers


def project_day(now: datetime, zone: str) -> tuple[date, datetime, datetime]:
    """Today in the project's time zone, and the UTC instants it starts and ends."""
    today = to_zone(now, zone).date()
    return today, start_of_day(today, zone), start_of_day(today + timedelta(days=1), zone)


def form_values(form: Mapping[str, Any]) -> dict[str, Any]:
    """The warm-up settings as typed into the form, or an error naming the field (nothing is stored)."""
    enabled = str(form.get("enabled") or "") in ("on", "true", "1")
    start_text = str(form.get("start_date") or "").strip()
    try:
        start_date = date.fromisoformat(start_text) if start_text else None
    except ValueError:
        raise InvalidInput.for_field("start_date", "Enter a date as YYYY-MM-DD") from None
    if enabled and start_date is None:
        raise InvalidInput.for_field("start_date", "Enter the day the warm-up starts")
    schedule = parse_schedule(form.get("schedule"))
    if len(schedule) > MAX_DAYS or any(not 1 <= number <= 100_000_000 for number in schedule):
        raise InvalidInput.for_field("schedule", "At most 60 days, each from 1 to 100,000,000 e-mails")
    return {"enabled": enabled, "start_date": start_date, "schedule": schedule}
