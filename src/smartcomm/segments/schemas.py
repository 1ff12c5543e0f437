"""Input and output shapes of segments."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from smartcomm.kit.types import InputModel
from smartcomm.segments.rules import SegmentRules


class SegmentIn(InputModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=1000)
    rules: SegmentRules


class SegmentUpdate(InputModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=1000)
    rules: SegmentRules | None = None


class SegmentMetrics(BaseModel):
    """The five figures of a segment: size, share of the base and of revenue, average receipt, LTV."""

    members: int
    base_share: float
    revenue_share: float
    average_receipt: Decimal
    ltv: Decimal


class PreviewOut(BaseModel):
    count: int
    base: int
    base_share: float


class SegmentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    description: str | None
    rules: dict[str, Any]
    member_count: int
    base_share: float
    revenue_share: float
    average_receipt: Decimal
    ltv: Decimal
    last_built_at: datetime | None
    last_build_status: str | None
    last_build_ms: int | None
    created_at: datetime
    updated_at: datetime


class BuildOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    segment_id: int
    trigger: str
    status: str
    started_at: datetime
    finished_at: datetime | None
    duration_ms: int | None
    members: int
    entered: int
    exited: int
    error: str | None


class OperatorOut(BaseModel):
    key: str
    label: str


class ParamOut(BaseModel):
    """A parameter of a metric; `kind` says which widget or value it takes (period, product, category …)."""

    name: str
    label: str
    kind: str
    required: bool


class ChoiceOut(BaseModel):
    value: str
    label: str


class MetricOut(BaseModel):
    """One entry of the metric catalogue: what a condition may test and how."""

    key: str
    label: str
    group: str
    value_type: str
    operators: list[OperatorOut]
    params: list[ParamOut]
    choices: list[ChoiceOut]
    unit: str | None


class OptionOut(BaseModel):
    """A choice offered for a parameter (a product, a category, a store …): the value stored in the rules."""

    value: str
    label: str
    hint: str | None = None


class SegmentMemberOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    external_id: str
    last_name: str | None
    first_name: str | None
    email: str | None
    phone: str | None
    entered_at: datetime


class CustomerSegmentOut(BaseModel):
    """A segment the customer is in (as of its last build), and since when."""

    id: int
    name: str
    entered_at: datetime


class BuildQueuedOut(BaseModel):
    segment_id: int
    status: str
