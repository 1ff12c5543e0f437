"""The global control group's settings and what its page and the API show of it."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar, Literal

from pydantic import BaseModel, Field, field_validator

from smartcomm.settings.schemas import SettingsGroup

# The per-mailing control group's strata, and the year of registration.
GlobalStratum = Literal["gender", "age_band", "city", "region", "card_status", "buyer", "registration_year"]
MAX_PERCENT = 50.0


class GlobalControlSettings(SettingsGroup):
    """How the global control group is formed: a random share of the base re-drawn every `months`
    months, or a list of customers uploaded as a file."""

    prefix: ClassVar[str] = "global_control"

    enabled: bool = False
    source: Literal["draw", "file"] = "draw"
    percent: float = Field(default=5.0, ge=0.1, le=MAX_PERCENT)
    cap: int | None = Field(default=None, ge=1, le=100_000_000)  # at most this many customers
    months: int = Field(default=3, ge=1, le=36)
    strata: list[GlobalStratum] = Field(default_factory=list, max_length=7)

    @field_validator("cap", mode="before")
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("strata")
    @classmethod
    def _once_each(cls, value: list[GlobalStratum]) -> list[GlobalStratum]:
        return list(dict.fromkeys(value))


class DrawOut(BaseModel):
    id: int
    source: str
    seed: int | None
    percent: float | None
    cap: int | None
    strata: list[str]
    file_name: str | None
    base_size: int
    size: int
    drawn_at: datetime
    drawn_by: str

    model_config = {"from_attributes": True}


class GlobalControlStatus(BaseModel):
    """The settings, the current group (None: there is none now) and when it is drawn again."""

    settings: GlobalControlSettings
    current: DrawOut | None
    members: int  # in the group now
    next_draw_at: datetime | None


class StayOut(BaseModel):
    """A customer's stay in the group."""

    draw_id: int
    entered_at: datetime
    left_at: datetime | None

    model_config = {"from_attributes": True}


class SettingsIn(BaseModel):
    """A change of the settings (the fields left out keep their values)."""

    enabled: bool | None = None
    source: Literal["draw", "file"] | None = None
    percent: float | None = None
    cap: int | None = None
    months: int | None = None
    strata: list[GlobalStratum] | None = None


class DrawIn(BaseModel):
    seed: int | None = Field(default=None, ge=0, lt=2**62, description="Left out: a random seed")
