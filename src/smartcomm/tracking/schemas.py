"""Messages of the Segment HTTP Tracking API (identify, track, page, screen, alias, group, batch)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from smartcomm.kit.types import InputModel, JsonObject

MessageType = Literal["identify", "track", "page", "screen", "alias", "group"]


class SegmentMessage(InputModel):
    """One message as the Segment SDKs send it (camelCase names; fields of other types are ignored)."""

    model_config = ConfigDict(
        extra="ignore", alias_generator=to_camel, populate_by_name=True, coerce_numbers_to_str=True
    )

    type: MessageType | None = None
    user_id: str | None = Field(default=None, max_length=64, description="The customer's external id")
    anonymous_id: str | None = Field(default=None, max_length=128, description="The visitor's id")
    message_id: str | None = Field(
        default=None, max_length=128, description="A repeat is accepted and ignored"
    )
    timestamp: datetime | None = Field(default=None, description="When it happened; now when omitted")
    context: JsonObject = Field(default_factory=dict)
    traits: JsonObject = Field(default_factory=dict)
    event: str | None = Field(default=None, min_length=1, max_length=100)
    properties: JsonObject = Field(default_factory=dict)
    name: str | None = Field(default=None, max_length=200)
    category: str | None = Field(default=None, max_length=200)
    previous_id: str | None = Field(default=None, max_length=128)
    write_key: str | None = None


class SegmentBatch(InputModel):
    """POST /v1/batch: messages of any type applied in order, in one transaction."""

    model_config = ConfigDict(extra="ignore", alias_generator=to_camel, populate_by_name=True)

    batch: list[SegmentMessage] = Field(max_length=5000)
    write_key: str | None = None
    context: JsonObject = Field(default_factory=dict, description="Merged into every message's context")


class SegmentAnswer(BaseModel):
    success: bool = True
