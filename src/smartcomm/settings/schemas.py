"""Setting groups: each field is one typed key `<group>.<field>` in the settings table."""

from __future__ import annotations

from typing import ClassVar, Literal

import phonenumbers
from babel.numbers import list_currencies
from pydantic import BaseModel, Field, field_validator

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
