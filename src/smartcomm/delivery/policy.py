"""The communication-policy gate: one pure function every message passes before it is planned and again
right before it is sent.

`decide(message, facts, rules, now)` answers `Send`, `Defer(until, reason)` or `Suppress(reason)`,
checking in this order: the channel permission, the category subscription, the global control group,
the contact, the exclusion lists, the frequency cap, the send-time window in the recipient's local
time, the lifetime, the IP warm-up allowance, the rate limit.

The global control group comes right after consent: a member who has not opted out is held out whatever
their contact, so the group's bucket counts every reachable member the send excludes — as the control
group of a mailing is drawn before the contact checks — while those who refused the channel or category
stay in the consent buckets whether or not the group is on.

Nothing here reads the database: the caller loads the facts of a whole batch at once
(`delivery.facts.FactsLoader`), and counts what it lets through (`Tally`), so a batch respects the caps,
the warm-up allowance and the rate limits as a whole.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from phonenumbers import timezone as phone_zones

from smartcomm.delivery.ledger import TRANSACTIONAL_SOURCES, Priority, Reason, Source
from smartcomm.settings.schemas import DeliverySettings, clock_minutes

DAY_MINUTES = 24 * 60
CHANNELS = ("email", "sms", "viber", "push")
_UNKNOWN_ZONE = "Etc/Unknown"


# --- decisions --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Send:
    pass


@dataclass(frozen=True, slots=True)
class Defer:
    until: datetime
    reason: str


@dataclass(frozen=True, slots=True)
class Suppress:
    reason: str


Decision = Send | Defer | Suppress
SEND = Send()


# --- what the gate looks at -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Candidate:
    """What the gate needs to know of a message."""

    channel: str
    source_kind: str
    source_id: int | None = None
    customer_id: int | None = None
    category_id: int | None = None
    priority: int = Priority.NORMAL
    expires_at: datetime | None = None
    deliver_immediately: bool = False
    rate_per_minute: int | None = None  # the send's own limit (a mailing's), besides the channel's
    excludes_global_control: bool = False  # the mailing's or campaign's switch (never for transactional)


@dataclass(frozen=True, slots=True)
class Facts:
    """What is true of the recipient right now. `contact_problem` is the reason the contact cannot be
    used (None when it can); `subscribed` is None when the message has no category."""

    allowed: bool = True
    subscribed: bool | None = None
    contact_problem: str | None = None
    excluded: bool = False
    in_global_control: bool = False  # a member of the global control group now
    zone: ZoneInfo = field(default_factory=lambda: ZoneInfo("UTC"))
    recent: int = 0  # messages handed over to this customer on this channel within the cap period
    engaged: bool = False  # opened or clicked lately (loaded only under IP warm-up)


@dataclass(frozen=True, slots=True)
class Window:
    """A daily send-time window in local wall-clock time, [start, end); it may span midnight."""

    start: int  # minutes after midnight
    end: int

    def holds(self, local: datetime) -> bool:
        minute = local.hour * 60 + local.minute
        if self.start < self.end:
            return self.start <= minute < self.end
        return minute >= self.start or minute < self.end

    @property
    def opening(self) -> clock:
        return clock(self.start // 60, self.start % 60)


@dataclass(frozen=True, slots=True)
class ChannelRules:
    window: Window | None
    cap: int  # 0: no cap
    cap_period: timedelta
    rate_per_minute: int  # 0: no limit


@dataclass(frozen=True, slots=True)
class WarmUp:
    """Today's IP warm-up allowance of e-mails, and the project day it is counted in."""

    allowance: int
    day_start: datetime
    next_day: datetime

    def resume_at(self, engaged: bool) -> datetime:
        """When a deferred e-mail is due again: engaged readers' at the day's start, the others' a minute
        later, so that every claim of the new day (earliest due first) takes the engaged ones first."""
        return self.next_day if engaged else self.next_day + timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class Rules:
    """The settings the gate applies, read once per batch."""

    channels: dict[str, ChannelRules]
    lifetime: timedelta
    spare_high_priority: bool = True
    spare_transactional: bool = True
    warm_up: WarmUp | None = None

    @classmethod
    def of(cls, settings: DeliverySettings) -> Rules:
        return cls(
            {channel: channel_rules(settings, channel) for channel in CHANNELS},
            timedelta(hours=settings.message_lifetime_hours),
            settings.caps_spare_high_priority,
            settings.caps_spare_transactional,
        )


def channel_rules(settings: DeliverySettings, channel: str) -> ChannelRules:
    window = None
    if getattr(settings, f"{channel}_window"):
        start = clock_minutes(getattr(settings, f"{channel}_window_start"))
        window = Window(start, clock_minutes(getattr(settings, f"{channel}_window_end")))
    return ChannelRules(
        window,
        getattr(settings, f"{channel}_cap"),
        timedelta(hours=getattr(settings, f"{channel}_cap_hours")),
        getattr(settings, f"{channel}_rate_per_minute"),
    )


@dataclass
class Tally:
    """What a batch let through so far, for the caps and rate limits of the rest of the batch; seeded
    with what was handed over in the current minute."""

    per_customer: dict[tuple[int | None, str], int] = field(default_factory=dict)
    per_channel: dict[str, int] = field(default_factory=dict)
    per_source: dict[tuple[str, int], int] = field(default_factory=dict)
    emails_today: int = 0  # handed over since the project day began (IP warm-up), with the batch's

    def count(self, message: Candidate) -> None:
        """A message of the batch was let through."""
        if message.channel == "email":
            self.emails_today += 1
        if message.customer_id is not None:
            key = (message.customer_id, message.channel)
            self.per_customer[key] = self.per_customer.get(key, 0) + 1
        self.per_channel[message.channel] = self.per_channel.get(message.channel, 0) + 1
        if message.source_id is not None:
            source = (message.source_kind, message.source_id)
            self.per_source[source] = self.per_source.get(source, 0) + 1


# --- the gate ---------------------------------------------------------------------------------------


def decide(
    message: Candidate, facts: Facts, rules: Rules, now: datetime, tally: Tally | None = None
) -> Decision:
    """Send, defer or suppress one message (see the module's docstring for the order)."""
    refusal = _refusal(message, facts, rules, tally)
    if refusal is not None:
        return Suppress(refusal)
    if message.expires_at is not None and message.expires_at <= now:
        return Suppress(Reason.EXPIRED)
    later = _later(message, facts, rules, now, tally)
    if later is not None and message.expires_at is not None and later.until >= message.expires_at:
        return Suppress(Reason.EXPIRED)  # it would wait past its lifetime
    return later or SEND


def _refusal(message: Candidate, facts: Facts, rules: Rules, tally: Tally | None) -> str | None:
    if not facts.allowed:
        return Reason.UNSUBSCRIBED_CHANNEL
    if message.category_id is not None and facts.subscribed is not True:
        return Reason.UNSUBSCRIBED_CATEGORY
    if message.excludes_global_control and facts.in_global_control:
        return Reason.GLOBAL_CONTROL
    if facts.contact_problem is not None and not _asks_to_confirm(message, facts):
        return facts.contact_problem
    if facts.excluded:
        return Reason.EXCLUDED
    if _capped(message, facts, rules, tally):
        return Reason.FREQUENCY_CAP
    return None


def _asks_to_confirm(message: Candidate, facts: Facts) -> bool:
    """Double opt-in: the confirmation e-mail goes to the very address it asks to confirm."""
    return facts.contact_problem == Reason.NOT_CONFIRMED and message.source_kind == Source.CONFIRMATION


def _capped(message: Candidate, facts: Facts, rules: Rules, tally: Tally | None) -> bool:
    cap = rules.channels[message.channel].cap
    if cap <= 0 or spared_by_caps(message, rules):
        return False
    in_batch = tally.per_customer.get((message.customer_id, message.channel), 0) if tally else 0
    return facts.recent + in_batch >= cap


def spared_by_caps(message: Candidate, rules: Rules) -> bool:
    if rules.spare_transactional and message.source_kind in TRANSACTIONAL_SOURCES:
        return True
    return rules.spare_high_priority and message.priority >= Priority.HIGH


def _later(
    message: Candidate, facts: Facts, rules: Rules, now: datetime, tally: Tally | None
) -> Defer | None:
    window = rules.channels[message.channel].window
    if window is not None and not message.deliver_immediately:
        opening = next_opening(now, facts.zone, window)
        if opening > now:
            return Defer(opening, Reason.SEND_WINDOW)
    if rules.warm_up is not None and _warming_up(message, rules.warm_up, tally):
        return Defer(rules.warm_up.resume_at(facts.engaged), Reason.WARM_UP)
    if _rate_reached(message, rules, tally):
        return Defer(next_minute(now), Reason.RATE_LIMIT)
    return None


def _warming_up(message: Candidate, warm_up: WarmUp, tally: Tally | None) -> bool:
    """The day's warm-up allowance of e-mails is used up. Transactional e-mail is what the customer asked
    for: it always goes (and counts)."""
    if tally is None or message.channel != "email" or message.source_kind in TRANSACTIONAL_SOURCES:
        return False
    return tally.emails_today >= warm_up.allowance


def _rate_reached(message: Candidate, rules: Rules, tally: Tally | None) -> bool:
    if tally is None:
        return False
    channel_rate = rules.channels[message.channel].rate_per_minute
    if channel_rate and tally.per_channel.get(message.channel, 0) >= channel_rate:
        return True
    if message.rate_per_minute and message.source_id is not None:
        return tally.per_source.get((message.source_kind, message.source_id), 0) >= message.rate_per_minute
    return False


def next_minute(now: datetime) -> datetime:
    return now.replace(second=0, microsecond=0) + timedelta(minutes=1)


# --- send-time windows ------------------------------------------------------------------------------


def next_opening(now: datetime, zone: ZoneInfo, window: Window) -> datetime:
    """When a message may go: `now` when the recipient's wall clock is inside the window, else the next
    moment the window opens — when the wall clock reaches its start (the first time, when the clock
    repeats that hour), when the clock jumps past its start (a skipped hour), or when it jumps back
    into the window. Never more than 24 hours away, plus any hour the clock moves back meanwhile."""
    local_now = now.astimezone(zone)
    if window.holds(local_now):
        return now
    today = local_now.date()
    candidates = [
        instant
        for offset in range(-1, 3)
        for instant in _openings_on(today + timedelta(days=offset), zone, window)
        if instant >= now
    ]
    found = min(candidates)
    jump = _clock_change(now, found, zone)
    if jump is not None and window.holds(jump.astimezone(zone)):
        return jump
    return found


def _openings_on(day: date, zone: ZoneInfo, window: Window) -> list[datetime]:
    """The instants at which the wall clock reaches the window's start on a local day: two when the clock
    repeats that time, and the jump itself when the clock skips it (even when it skips the whole window:
    the message then goes as the clock passes the window, not a day later)."""
    local = datetime.combine(day, window.opening)
    instants = {local.replace(tzinfo=zone, fold=fold).astimezone(UTC) for fold in (0, 1)}
    shown = [instant for instant in instants if _shows(instant, zone, local)]
    if shown:
        return shown
    jump = _clock_change(min(instants), max(instants), zone)
    return [jump] if jump is not None else []


def _shows(instant: datetime, zone: ZoneInfo, local: datetime) -> bool:
    return instant.astimezone(zone).replace(tzinfo=None, fold=0) == local


def _clock_change(start: datetime, end: datetime, zone: ZoneInfo) -> datetime | None:
    """The instant in (start, end] at which the zone's clock changes its offset, if it does (a window
    never spans two changes: they are months apart)."""
    before = start.astimezone(zone).utcoffset()
    if end.astimezone(zone).utcoffset() == before:
        return None
    low, high = start, end
    while high - low > timedelta(microseconds=1):
        middle = low + (high - low) / 2
        if middle.astimezone(zone).utcoffset() == before:
            low = middle
        else:
            high = middle
    return high


# --- the recipient's time zone and contact ------------------------------------------------------------


@lru_cache(maxsize=512)
def zone_named(name: str | None) -> ZoneInfo | None:
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


@lru_cache(maxsize=65536)
def phone_zone(phone: str | None, project_zone: str) -> str | None:
    """The time zone of a phone number's country or region; where the country spans several zones, the
    project's when it is one of them, else the first the numbering plan names."""
    if not phone:
        return None
    try:
        zones = phone_zones.time_zones_for_number(phonenumbers.parse(phone, None))
    except phonenumbers.NumberParseException:
        return None
    known = [zone for zone in zones if zone != _UNKNOWN_ZONE]
    if not known:
        return None
    return project_zone if project_zone in known else known[0]


def recipient_zone(customer_zone: str | None, phone: str | None, project_zone: str) -> ZoneInfo:
    """The recipient's local time zone: the customer's own, else the phone's, else the project's."""
    own = zone_named(customer_zone)
    if own is not None:
        return own
    from_phone = zone_named(phone_zone(phone, project_zone))
    return from_phone or zone_named(project_zone) or ZoneInfo("UTC")


def email_problem(address: str | None, valid: bool) -> str | None:
    if not address:
        return Reason.NO_ADDRESS
    return None if valid else Reason.INVALID_ADDRESS


def phone_problem(phone: str | None, valid: bool, phone_type: str | None) -> str | None:
    """SMS and Viber need a valid mobile number (a landline gets no SMS)."""
    if not phone:
        return Reason.NO_ADDRESS
    if not valid:
        return Reason.INVALID_ADDRESS
    return Reason.LANDLINE if phone_type == "landline" else None


def push_problem(valid_tokens: int) -> str | None:
    return None if valid_tokens > 0 else Reason.NO_PUSH_TOKEN
