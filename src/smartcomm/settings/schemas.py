"""Setting groups: each field is one typed key `<group>.<field>` in the settings table."""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

import phonenumbers
from babel.numbers import list_currencies
from pydantic import BaseModel, Field, StringConstraints, ValidationInfo, field_validator

from smartcomm.kit.time import known_time_zones


class SettingsGroup(BaseModel):
    prefix: ClassVar[str]


class GeneralSettings(SettingsGroup):
    prefix: ClassVar[str] = "general"

    company_name: str = Field(default="My company", min_length=1, max_length=200)
    logo_file_id: int | None = None
    time_zone: str = "Europe/Moscow"
    currency: str = "RUB"
    default_language: Literal["en", "ru"] = "en"
    # Completes phone numbers given without a country code (ISO 3166 alpha-2).
    sms_default_country: str = "RU"
    # The optional orders module (menu, profile tab, API, metrics); switched in Settings → Order statuses.
    orders_enabled: bool = False
    # The custom customer field holding the e-mail of the customer's manager (campaigns' "Notify manager").
    manager_email_field: str | None = Field(default=None, max_length=64)

    @field_validator("manager_email_field", mode="before")
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        if value not in known_time_zones():
            raise ValueError(f"unknown time zone {value!r}")
        return value

    @field_validator("sms_default_country")
    @classmethod
    def _known_country(cls, value: str) -> str:
        code = value.strip().upper()
        if code not in phonenumbers.SUPPORTED_REGIONS:
            raise ValueError(f"unknown country code {value!r}")
        return code

    @field_validator("currency")
    @classmethod
    def _known_currency(cls, value: str) -> str:
        code = value.strip().upper()
        if code not in list_currencies():
            raise ValueError(f"unknown currency code {value!r}")
        return code


class SegmentSettings(SettingsGroup):
    prefix: ClassVar[str] = "segments"

    # Every segment is rebuilt on this schedule; single customers are refreshed on each receipt or event.
    rebuild_interval_hours: int = Field(default=6, ge=1, le=168)


class RfmSettings(SettingsGroup):
    prefix: ClassVar[str] = "rfm"

    period_days: int = Field(default=365, ge=30, le=1825)
    base_segment_id: int | None = None  # None: the whole base
    runs_per_day: int = Field(default=4, ge=1, le=24)


class TrackingSettings(SettingsGroup):
    prefix: ClassVar[str] = "tracking"

    # A tracker `track` call with this event name is a purchase: it becomes a receipt.
    purchase_event: str = Field(default="Order Completed", min_length=1, max_length=100)
    # A cart unchanged this long with no order since is abandoned; it is kept on the profile (and for
    # campaigns) this many days after that, unless the customer orders first.
    abandoned_cart_minutes: int = Field(default=60, ge=1, le=43_200)
    abandoned_cart_keep_days: int = Field(default=30, ge=1, le=365)


class PromoCodeSettings(SettingsGroup):
    prefix: ClassVar[str] = "promocodes"

    # A group with this few active codes left is shown as running low (unless it sets its own threshold).
    low_threshold: int = Field(default=100, ge=0, le=1_000_000)


COLOUR = r"^#[0-9a-fA-F]{6}$"
PageTitle = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] | None
PageText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=1000)] | None


class DesignSettings(SettingsGroup):
    """How the public pages (unsubscribe, preferences, e-mail confirmation, thank you) and the confirmation
    e-mail look: a logo (the company's by default), three colours, and each page's title and text in
    English and Russian (empty: the built-in text)."""

    prefix: ClassVar[str] = "design"

    logo_file_id: int | None = None
    primary_color: str = Field(default="#206bc4", pattern=COLOUR)
    background_color: str = Field(default="#f4f6fa", pattern=COLOUR)
    text_color: str = Field(default="#1d273b", pattern=COLOUR)
    unsubscribe_title_en: PageTitle = None
    unsubscribe_text_en: PageText = None
    unsubscribe_title_ru: PageTitle = None
    unsubscribe_text_ru: PageText = None
    preferences_title_en: PageTitle = None
    preferences_text_en: PageText = None
    preferences_title_ru: PageTitle = None
    preferences_text_ru: PageText = None
    confirmation_title_en: PageTitle = None
    confirmation_text_en: PageText = None
    confirmation_title_ru: PageTitle = None
    confirmation_text_ru: PageText = None
    thanks_title_en: PageTitle = None
    thanks_text_en: PageText = None
    thanks_title_ru: PageTitle = None
    thanks_text_ru: PageText = None

    @field_validator("*", mode="before")
    @classmethod
    def _blank_is_default(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value


CLOCK = r"^([01]\d|2[0-3]):[0-5]\d$"  # "HH:MM", 24-hour
MIN_WINDOW_MINUTES = 60


def clock_minutes(value: str) -> int:
    hours, minutes = value.split(":")
    return int(hours) * 60 + int(minutes)


class DeliverySettings(SettingsGroup):
    """How messages go out: send-time windows, lifetime, frequency caps, rate limits, consent."""

    prefix: ClassVar[str] = "delivery"

    # Send-time windows in the recipient's local time: outside its window a message waits for the next
    # one (unless sent with "deliver immediately"). SMS, Viber and push by day; e-mail at any hour.
    email_window: bool = False
    email_window_start: str = Field(default="09:00", pattern=CLOCK)
    email_window_end: str = Field(default="21:00", pattern=CLOCK)
    sms_window: bool = True
    sms_window_start: str = Field(default="09:00", pattern=CLOCK)
    sms_window_end: str = Field(default="21:00", pattern=CLOCK)
    viber_window: bool = True
    viber_window_start: str = Field(default="09:00", pattern=CLOCK)
    viber_window_end: str = Field(default="21:00", pattern=CLOCK)
    push_window: bool = True
    push_window_start: str = Field(default="09:00", pattern=CLOCK)
    push_window_end: str = Field(default="21:00", pattern=CLOCK)
    # A message not sent within its lifetime (waiting for a window, retried) is given up as expired.
    message_lifetime_hours: int = Field(default=72, ge=1, le=720)
    # Frequency caps: at most N messages per customer and channel over the last M hours (0: no cap).
    email_cap: int = Field(default=0, ge=0, le=1000)
    email_cap_hours: int = Field(default=168, ge=1, le=744)
    sms_cap: int = Field(default=0, ge=0, le=1000)
    sms_cap_hours: int = Field(default=168, ge=1, le=744)
    viber_cap: int = Field(default=0, ge=0, le=1000)
    viber_cap_hours: int = Field(default=168, ge=1, le=744)
    push_cap: int = Field(default=0, ge=0, le=1000)
    push_cap_hours: int = Field(default=168, ge=1, le=744)
    # High-priority and transactional messages count towards the caps but are never held back by them.
    caps_spare_high_priority: bool = True
    caps_spare_transactional: bool = True
    # Provider rate limits, messages a minute per channel (0: as fast as the provider takes them).
    email_rate_per_minute: int = Field(default=0, ge=0, le=1_000_000)
    sms_rate_per_minute: int = Field(default=0, ge=0, le=1_000_000)
    viber_rate_per_minute: int = Field(default=0, ge=0, le=1_000_000)
    push_rate_per_minute: int = Field(default=0, ge=0, le=1_000_000)
    # E-mail goes only to addresses confirmed through a signed link (double opt-in).
    double_opt_in: bool = False
    # Attribution: a paid receipt counts for a touch this many days after it (0: not attributed) unless
    # the communication sets a rule of its own; transactional messages always use this one.
    attribution_days: int = Field(default=3, ge=0, le=365)
    # A mailing whose provider fails this many messages in a row pauses itself (unless it sets its own).
    mailing_failure_limit: int = Field(default=50, ge=1, le=100_000)
    # Told of every whole-channel opt-out (the loyalty system's webhook); the body is signed with the secret.
    webhook_url: str | None = Field(default=None, max_length=2000, pattern=r"^https?://\S+$")
    # Stored encrypted (settings.service seals every `*_secret` key); at most 200 characters as typed.
    webhook_secret: str | None = Field(default=None, max_length=1000)

    @field_validator("webhook_secret")
    @classmethod
    def _secret_length(cls, value: str | None) -> str | None:
        if value and not value.startswith("fernet:") and len(value) > 200:
            raise ValueError("at most 200 characters")
        return value

    @field_validator("email_window_end", "sms_window_end", "viber_window_end", "push_window_end")
    @classmethod
    def _long_enough(cls, value: str, info: ValidationInfo) -> str:
        start = info.data.get(info.field_name.replace("_end", "_start") if info.field_name else "")
        if start is None:
            return value  # the start itself was refused
        length = (clock_minutes(value) - clock_minutes(start)) % (24 * 60)
        if length < MIN_WINDOW_MINUTES:
            raise ValueError("the window must be at least an hour long")
        return value


class DashboardSettings(SettingsGroup):
    prefix: ClassVar[str] = "dashboard"

    # The period the Summary dashboard opens with (the reference's "usually 1 year").
    analysis_months: int = Field(default=12, ge=1, le=36)
    # The worker recomputes every stored period this often (the reference's "4 times per 24 hours").
    recompute_hours: int = Field(default=6, ge=1, le=168)
