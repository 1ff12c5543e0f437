"""Shapes of the loyalty connector: bonus data as they arrive, points and accrual requests as shown."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from smartcomm.kit.types import InputModel, Text

# Bonus amounts are money: at most 16 digits with the kopecks (the column holds minor units).
BonusAmount = Annotated[Decimal, Field(max_digits=16, decimal_places=2)]
MAX_EXPIRING_PORTIONS = 100
MAX_KEY_LENGTH = 200
MAX_TEXT_LENGTH = 500
# Points awarded at once, either way: far below what the balance column holds.
MAX_POINTS = 10**12


class ExpiringBonusIn(InputModel):
    """A portion of the customer's bonuses that expires on a day."""

    model_config = ConfigDict(extra="forbid")

    amount: BonusAmount = Field(gt=0, description="Bonuses that expire, e.g. 250.00")
    expires_on: date = Field(description="The day they expire, YYYY-MM-DD")


class ExpiringBonusOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    amount: Decimal
    expires_on: date


@dataclass(frozen=True)
class BonusUpdate:
    """What the loyalty system sent about one customer's bonuses; None: that part was not sent. A sent
    balance of None clears it; sent portions replace the stored ones as a whole ([] clears them)."""

    balance_sent: bool = False
    balance: Decimal | None = None
    expiring: tuple[tuple[Decimal, date], ...] | None = None

    @property
    def is_empty(self) -> bool:
        return not self.balance_sent and self.expiring is None


@dataclass(frozen=True)
class Source:
    """What asks for points or an accrual: `kind` (user, api, campaign …), its id, and the part of it
    (a campaign's node); stored with the entry or request."""

    kind: str
    id: str | None = None
    part: str | None = None


class BonusesOut(BaseModel):
    """The customer's bonus data as the loyalty system last sent them, and smartcomm's points."""

    bonus_balance: Decimal | None
    bonus_updated_at: datetime | None
    expiring_bonuses: list[ExpiringBonusOut]
    points_balance: int


class PointsAwardIn(InputModel):
    """Points to award (negative: take back)."""

    model_config = ConfigDict(extra="forbid")

    points: int = Field(ge=-MAX_POINTS, le=MAX_POINTS, description="Non-zero; negative takes points back")
    reason: Text | None = Field(default=None, max_length=MAX_TEXT_LENGTH)
    key: Text | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_KEY_LENGTH - 4,
        description="Awards once per key; defaults to the Idempotency-Key header (one of them is required)",
    )


class PointsEntryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    points: int
    reason: str | None
    source_kind: str
    source_id: str | None
    part: str | None
    key: str
    created_at: datetime


class PointsOut(BaseModel):
    """The customer's points balance and a page of entries, the latest first."""

    balance: int
    items: list[PointsEntryOut]
    total: int
    page: int
    size: int
    pages: int


class LoyaltyRequestOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    operation: str
    amount: Decimal
    comment: str | None
    source_kind: str
    source_id: str | None
    part: str | None
    key: str
    status: str = Field(description="pending, delivered or failed")
    attempts: int
    next_attempt_at: datetime
    response_status: int | None
    error: str | None
    created_at: datetime
    delivered_at: datetime | None


class AccrualForm(InputModel):
    """The profile's "Accrue bonuses" dialog."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    amount: BonusAmount = Field(gt=0)
    comment: Text | None = Field(default=None, max_length=MAX_TEXT_LENGTH)
    key: str = Field(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9-]+$")


class PointsForm(InputModel):
    """The profile's "Award points" dialog."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    points: int = Field(ge=-MAX_POINTS, le=MAX_POINTS)
    reason: Text | None = Field(default=None, max_length=MAX_TEXT_LENGTH)
    key: str = Field(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9-]+$")
