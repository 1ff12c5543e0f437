"""What attribution reports: receipts credited to a communication, in total and per day."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from pydantic import BaseModel


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
