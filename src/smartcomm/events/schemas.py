"""Input and output shapes of events and web events."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import (
    AliasChoices,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from smartcomm.containers.schemas import ContainerAction
from smartcomm.kit.types import InputModel, JsonObject, RowId

WebEventKind = Literal[
    "visit", "product_view", "category_view", "section_view", "container_change", "login", "order_complete"
]
# Event names of the reference tracker API that map onto our kinds.
REFERENCE_KIND_NAMES = {"user_visit": "visit", "user_login": "login"}


class EventIn(InputModel):
    """A customer event (give the customer) or a system event (no customer: it concerns everyone)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=100, examples=["called_call_centre"])
    customer_external_id: str | None = Field(default=None, min_length=1, max_length=64)
    customer_id: RowId | None = Field(
        default=None, description="Platform id, instead of customer_external_id"
    )
    occurred_at: AwareDatetime | None = Field(default=None, description="With an offset; now when omitted")
    source: str | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        description="Event source code; the system source when omitted",
    )
    context: JsonObject = Field(
        default_factory=dict,
        description="Variables of the event, kept as sent: at most 16 KB as JSON and 5 levels deep",
    )
    message_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=128,
        description="Sender's id of the event; a repeat is ignored",
    )

    @model_validator(mode="after")
    def _one_customer_reference(self) -> EventIn:
        if self.customer_external_id is not None and self.customer_id is not None:
            raise ValueError("give customer_external_id or customer_id, not both")
        return self


class EventBatchIn(InputModel):
    events: list[EventIn] = Field(min_length=1, max_length=1000)


class EventBatchOut(BaseModel):
    accepted: int = Field(description="Events stored")
    duplicates: int = Field(description="Events ignored because their message_id was already stored")


class EventOut(BaseModel):
    id: int
    name: str
    occurred_at: datetime
    source: str | None
    context: dict[str, Any]
    message_id: str | None
    received_at: datetime


class WebEventIn(InputModel):
    """One behaviour on a site or app. The reference tracker's field names are accepted too:
    `name` (with `user_visit`/`user_login`), `client_id`, `date`, `source_id`, `session_id`,
    `product_id`, `category_id`, `container`, `quantity`, `price`."""

    model_config = ConfigDict(
        extra="forbid", str_strip_whitespace=True, populate_by_name=True, coerce_numbers_to_str=True
    )

    kind: WebEventKind = Field(validation_alias=AliasChoices("kind", "name"))
    visitor_id: str | None = Field(
        default=None, min_length=1, max_length=128, description="Anonymous id of the browser or device"
    )
    customer_external_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        validation_alias=AliasChoices("customer_external_id", "client_id"),
    )
    customer_id: RowId | None = Field(
        default=None, description="Platform id, instead of customer_external_id"
    )
    occurred_at: AwareDatetime | None = Field(
        default=None, validation_alias=AliasChoices("occurred_at", "date"), description="Now when omitted"
    )
    source: str | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        validation_alias=AliasChoices("source", "source_id"),
        description="Event source code; the system source when omitted",
    )
    session: str | None = Field(
        default=None,
        min_length=1,
        max_length=128,
        validation_alias=AliasChoices("session", "session_id"),
        description="Session key; without it a visit or login starts a session and other events continue "
        "the visitor's session (30 minutes of inactivity end it)",
    )
    classifier: str | None = Field(
        default=None,
        max_length=64,
        description="Catalogue (classifier) code of the product or category; a tracker classifier named like "
        "the source, else the main catalogue, when omitted",
    )
    sku: str | None = Field(
        default=None, min_length=1, max_length=64, validation_alias=AliasChoices("sku", "product_id")
    )
    category: str | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        validation_alias=AliasChoices("category", "category_id"),
        description="Category code",
    )
    section: str | None = Field(default=None, max_length=200, examples=["promo_spring"])
    container: str | None = Field(default=None, max_length=64, description="Container code, e.g. cart")
    container_action: ContainerAction = "add"
    quantity: Decimal | None = Field(default=None, ge=0, max_digits=15, decimal_places=3)
    price: Decimal | None = Field(default=None, ge=0, max_digits=16, decimal_places=2)
    url: str | None = Field(default=None, max_length=2000)
    context: JsonObject = Field(default_factory=dict, description="At most 16 KB as JSON and 5 levels deep")
    message_id: str | None = Field(default=None, min_length=1, max_length=128)

    @field_validator("kind", mode="before")
    @classmethod
    def _reference_names(cls, value: Any) -> Any:
        return REFERENCE_KIND_NAMES.get(value, value) if isinstance(value, str) else value


class WebEventBatchIn(InputModel):
    web_events: list[WebEventIn] = Field(min_length=1, max_length=1000)


class WebEventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: str
    occurred_at: datetime
    visitor_id: str | None
    session_id: int | None
    source_id: int | None
    product_id: int | None
    category_id: int | None
    section: str | None
    container_code: str | None
    container_action: str | None
    quantity: float | None
    url: str | None
    snapshot: dict[str, Any] = Field(description="The product or category as it was at event time")
    context: dict[str, Any]


class WebSessionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    key: str
    visitor_id: str
    source_id: int | None
    started_at: datetime
    last_event_at: datetime
    event_count: int
