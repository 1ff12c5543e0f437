"""Input and output shapes of pop-ups."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic.alias_generators import to_camel

from smartcomm.kit.types import InputModel

PopupAction = Literal["shown", "clicked", "dismissed"]


def _web_address(value: str | None) -> str | None:
    """Only http(s) addresses: the pop-up script puts them into a page as links and images."""
    if value is None or value.strip() == "":
        return None
    value = value.strip()
    if not value.lower().startswith(("https://", "http://")):
        raise ValueError("must be an http:// or https:// address")
    return value


class PopupContent(InputModel):
    """What a pop-up shows: a title, a text, an optional image and an optional button with its link."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    title: str = Field(min_length=1, max_length=200)
    body: str | None = Field(default=None, max_length=2000)
    image_url: str | None = Field(default=None, max_length=2000)
    button_text: str | None = Field(default=None, max_length=100)
    button_url: str | None = Field(default=None, max_length=2000)

    _addresses = field_validator("image_url", "button_url")(_web_address)


class PopupOut(BaseModel):
    """A pending pop-up as the site's pop-up script gets it."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    title: str
    body: str | None
    image_url: str | None
    button_text: str | None
    button_url: str | None
    expires_at: datetime | None


class PopupList(BaseModel):
    popups: list[PopupOut]


class VisitorIn(InputModel):
    """Who the tracker's page belongs to, as analytics.js knows it (camelCase like the Segment spec)."""

    model_config = ConfigDict(
        extra="ignore", alias_generator=to_camel, populate_by_name=True, coerce_numbers_to_str=True
    )

    write_key: str | None = Field(default=None, max_length=64)
    anonymous_id: str = Field(min_length=1, max_length=128, description="The visitor's id (analytics.js)")
    user_id: str | None = Field(default=None, max_length=64, description="The customer's external id")


class PopupAnswer(BaseModel):
    success: bool = True
    status: str = Field(description="The pop-up's status after the report")
