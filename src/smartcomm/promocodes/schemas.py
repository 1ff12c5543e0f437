"""Input and output shapes of promo code groups and codes."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from smartcomm.kit.types import InputModel, RowId

MAX_QUANTITY = 1_000_000
MAX_API_CODES = 10_000  # codes in one API request (a file goes through the page)
MAX_RECEIPT_CODES = 20

GroupCode = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$"),
]
CodeText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
CodeStatus = Literal["active", "issued", "redeemed", "blocked"]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)]


class GroupFields(InputModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=200)
    code: GroupCode = Field(description="The name templates use: client.promocode('SPRING')")
    description: str | None = Field(default=None, max_length=2000)
    nominal: ShortText | None = Field(default=None, description="What the code is worth: 500 ₽, 15 %")
    offer: str | None = Field(default=None, max_length=2000, description="What the code gives")
    valid_from: date | None = None
    valid_to: date | None = Field(default=None, description="After this day the group issues no codes")
    low_threshold: int | None = Field(
        default=None, ge=0, le=MAX_QUANTITY, description="Warn when this few active codes remain"
    )

    @model_validator(mode="after")
    def _dates_in_order(self) -> Self:
        if self.valid_from and self.valid_to and self.valid_to < self.valid_from:
            raise ValueError("valid_to is before valid_from")
        return self


class GroupCreate(GroupFields):
    """A new group of codes."""


class GroupUpdate(InputModel):
    """Fields to change; fields not sent stay."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str | None = Field(default=None, min_length=1, max_length=200)
    code: GroupCode | None = None
    description: str | None = Field(default=None, max_length=2000)
    nominal: ShortText | None = None
    offer: str | None = Field(default=None, max_length=2000)
    valid_from: date | None = None
    valid_to: date | None = None
    low_threshold: int | None = Field(default=None, ge=0, le=MAX_QUANTITY)


class CodeCounts(BaseModel):
    """Codes of a group by state: active (not issued yet), issued, redeemed, blocked."""

    total: int = 0
    active: int = 0
    issued: int = 0
    redeemed: int = 0
    blocked: int = 0


class GenerationOut(BaseModel):
    """A large generation in the background: how far it is, and why it stopped short if it did."""

    format: str
    quantity: int
    added: int
    started_at: datetime
    error: str | None = None

    @property
    def running(self) -> bool:
        return self.error is None

    @property
    def percent(self) -> int:
        return min(100, self.added * 100 // max(self.quantity, 1))


class GroupOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    code: str
    name: str
    description: str | None
    nominal: str | None
    offer: str | None
    valid_from: date | None
    valid_to: date | None
    low_threshold: int | None
    blocked: bool
    last_format: str | None
    created_at: datetime
    counts: CodeCounts = CodeCounts()
    stock: Literal["ok", "low", "exhausted", "empty"] = "empty"
    generation: GenerationOut | None = None


class CodeOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    group_id: int
    code: str
    status: str
    blocked: bool
    customer_id: int | None
    message_id: int | None
    issued_at: datetime | None
    redeemed_at: datetime | None
    receipt_id: int | None
    added_at: datetime


class CodesIn(InputModel):
    codes: list[str] = Field(min_length=1, max_length=MAX_API_CODES, description="The codes, each added once")


class GenerateIn(InputModel):
    model_config = ConfigDict(extra="forbid")

    format: str = Field(
        min_length=1,
        max_length=500,
        description="Fixed text and parts {string('<characters>', <length>)}, "
        "e.g. {string('A-Z', 3)}-{string('0-9', 4)}",
    )
    quantity: int = Field(ge=1, le=MAX_QUANTITY)


class AddedOut(BaseModel):
    added: int
    counts: CodeCounts
    queued: int = Field(default=0, description="Codes left to a background generation (large quantities)")


class IssueIn(InputModel):
    """The customer to give a code to: the loyalty system's id or the platform's."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    customer_external_id: str | None = Field(default=None, min_length=1, max_length=64)
    customer_id: RowId | None = None

    @model_validator(mode="after")
    def _one_customer(self) -> Self:
        if (self.customer_external_id is None) == (self.customer_id is None):
            raise ValueError("give exactly one of customer_external_id or customer_id")
        return self


class CodeIn(InputModel):
    model_config = ConfigDict(extra="forbid")

    code: CodeText


class RedeemIn(CodeIn):
    receipt_id: RowId | None = Field(default=None, description="The receipt the code was presented with")


class FormatPreview(BaseModel):
    examples: list[str]
    space: int
    error: str | None = None
