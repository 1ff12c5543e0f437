"""Output shapes of the RFM analysis over the API."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from smartcomm.models import CustomerRfm, RfmCalculation
from smartcomm.rfm.scoring import Thresholds


class CalculationOut(BaseModel):
    """One calculation: its settings, how it went, and the size of the Best and Lost groups."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    trigger: str = Field(description="schedule | manual")
    status: str = Field(description="queued | running | done | failed")
    started_at: datetime
    finished_at: datetime | None
    duration_ms: int | None
    period_days: int
    base_segment_id: int | None = Field(description="None: the whole base")
    scored: int = Field(description="Customers with a purchase in the period (of the base segment)")
    best: int = Field(description="Customers scored R5 F5 M5")
    lost: int = Field(description="Customers scored R1")
    error: str | None


class ScoreRangeOut(BaseModel):
    score: int
    min: Decimal | int
    max: Decimal | int


class CalculationDetailOut(CalculationOut):
    thresholds: dict[str, list[ScoreRangeOut]] = Field(
        description="Per letter (r in days, f in receipts, m in money), the values each score covers"
    )
    cells: dict[str, int] = Field(description='Customers per R-F-M combination, e.g. {"555": 120}')

    @classmethod
    def of(cls, calculation: RfmCalculation) -> CalculationDetailOut:
        thresholds = Thresholds.from_json(calculation.thresholds)
        ranges = {
            letter: [
                ScoreRangeOut(score=i.score, min=i.low, max=i.high)
                for i in thresholds.dimension(letter).ranges
            ]
            for letter in ("r", "f", "m")
        }
        base = CalculationOut.model_validate(calculation).model_dump()
        return cls(**base, thresholds=ranges, cells=dict(calculation.cells or {}))


class CustomerRfmOut(BaseModel):
    """A customer's RFM cell; every score is null when the customer is not scored."""

    external_id: str
    scored: bool
    r: int | None = None
    f: int | None = None
    m: int | None = None
    cell: str | None = Field(default=None, description='"555" for R5 F5 M5')
    recency_days: int | None = Field(default=None, description="Whole days since the last purchase")
    frequency: int | None = Field(default=None, description="Receipts in the period")
    monetary: Decimal | None = Field(default=None, description="Their amount")
    calculation_id: int | None = None
    updated_at: datetime | None = Field(default=None, description="When these scores were computed")

    @classmethod
    def of(cls, external_id: str, scores: CustomerRfm | None) -> CustomerRfmOut:
        if scores is None:
            return cls(external_id=external_id, scored=False)
        return cls(
            external_id=external_id, scored=True, r=scores.r, f=scores.f, m=scores.m,
            cell=f"{scores.r}{scores.f}{scores.m}", recency_days=scores.recency_days,
            frequency=scores.frequency, monetary=scores.monetary,
            calculation_id=scores.calculation_id, updated_at=scores.updated_at,
        )  # fmt: skip
