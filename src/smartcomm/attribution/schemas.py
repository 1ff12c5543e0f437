"""What attribution reports (receipts credited to a communication, in total and per day), and the rule a
communication (a mailing, a campaign) stores: N days after the touch, a date range, or off."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from smartcomm.kit.types import InputModel, RowId

MAX_CRITERIA_ITEMS = 200


class CriteriaIn(InputModel):
    """Which receipts qualify for attribution: every criterion given must hold."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    min_amount: Decimal | None = Field(default=None, ge=0, le=Decimal(10) ** 12)
    min_items: Decimal | None = Field(default=None, ge=0, le=Decimal(10) ** 9)
    skus: list[Annotated[str, StringConstraints(min_length=1, max_length=64)]] = Field(
        default_factory=list, max_length=MAX_CRITERIA_ITEMS
    )
    category_ids: list[RowId] = Field(default_factory=list, max_length=MAX_CRITERIA_ITEMS)


class AttributionRuleIn(InputModel):
    """N days after the touch, a date range (project time zone), or off."""

    model_config = ConfigDict(extra="forbid")

    window: Literal["days", "range", "off"]
    days: int | None = Field(default=None, ge=1, le=365)
    date_from: date | None = None
    date_to: date | None = None
    criteria: CriteriaIn | None = None


class AttributionSummary(BaseModel):
    source_kind: str
    source_id: int | None
    receipts: int  # receipts credited to the communication (its touch was the last before the purchase)
    buyers: int  # the customers who made them
    amount: Decimal  # their total, in the project currency


class AttributionDay(BaseModel):
    day: date  # in the project time zone
    receipts: int
    amount: Decimal
