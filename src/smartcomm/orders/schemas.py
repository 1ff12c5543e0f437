"""Input and output shapes of orders and order statuses (the REST API's bodies)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from smartcomm.kit.types import InputModel, RowId

Dimension = Literal["general", "delivery", "payment"]
DeliveryType = Literal["courier", "pickup", "pickup_point"]
PaymentType = Literal["card", "cash", "cash_on_delivery"]
StatusCode = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
Text200 = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]
CENT = Decimal("0.01")

FORBID = ConfigDict(extra="forbid", str_strip_whitespace=True)


def _money(default: Decimal | None = Decimal("0"), description: str | None = None) -> Any:
    return Field(default=default, ge=0, max_digits=16, decimal_places=2, description=description)


def _aware(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        raise PydanticCustomError(
            "timezone_required", "needs a time zone offset, e.g. 2026-05-01T10:30:00+03:00"
        )
    return value


class OrderLineIn(InputModel):
    model_config = FORBID

    sku: str = Field(min_length=1, max_length=64)
    name: str | None = Field(
        default=None, max_length=300, description="The product's name as the shop shows it"
    )
    quantity: Decimal = Field(default=Decimal("1"), gt=0, max_digits=15, decimal_places=3)
    price: Decimal = _money(None, "Unit price")
    amount: Decimal | None = _money(None, "Line total; quantity × price − discount when omitted")
    weight: Decimal | None = Field(default=None, ge=0, max_digits=15, decimal_places=3)
    discount: Decimal = _money()
    bonus_accrued: Decimal = _money()
    bonus_redeemed: Decimal = _money()
    cash_part: Decimal | None = _money(None, "Paid in money; the amount less bonus redeemed when omitted")

    def line_amount(self) -> Decimal:
        if self.amount is not None:
            return self.amount
        return max(Decimal("0"), (self.quantity * self.price - self.discount).quantize(CENT))

    def line_cash_part(self) -> Decimal:
        if self.cash_part is not None:
            return self.cash_part
        return max(Decimal("0"), self.line_amount() - self.bonus_redeemed)


class DeliveryIn(InputModel):
    model_config = FORBID

    type: DeliveryType | None = None
    carrier: str | None = Field(default=None, max_length=200)
    country: str | None = Field(default=None, max_length=100)
    city: str | None = Field(default=None, max_length=200)
    street: str | None = Field(default=None, max_length=500)
    delivery_at: datetime | None = Field(default=None, description="When the order is to be delivered")
    customer_note: str | None = Field(default=None, max_length=2000)

    @field_validator("delivery_at")
    @classmethod
    def _zone(cls, value: datetime | None) -> datetime | None:
        return _aware(value)


class PaymentIn(InputModel):
    model_config = FORBID

    type: PaymentType | None = None
    provider: str | None = Field(default=None, max_length=200)


class StatusesIn(InputModel):
    """The order's status code in each dimension (Settings → Order statuses); absent: no status."""

    model_config = FORBID

    general: StatusCode | None = None
    delivery: StatusCode | None = None
    payment: StatusCode | None = None


class OrderIn(InputModel):
    """An order; the same number sent again replaces the stored order with its lines."""

    model_config = FORBID

    number: str = Field(min_length=1, max_length=64)
    customer_external_id: str | None = Field(default=None, min_length=1, max_length=64)
    customer_id: RowId | None = Field(
        default=None, validate_default=True, description="Platform id, instead of customer_external_id"
    )
    store: str | None = Field(
        default=None, min_length=1, max_length=64, description="Store code (unknown codes create a store)"
    )
    created_at: datetime = Field(description="When the customer placed the order")
    statuses: StatusesIn = Field(default_factory=StatusesIn)
    total: Decimal | None = _money(None, "Order total; the sum of the lines plus delivery when omitted")
    cash_part: Decimal | None = _money(None, "Paid in money; the total less the bonus part when omitted")
    bonus_part: Decimal = _money(description="Paid with bonus points")
    delivery_cost: Decimal = _money()
    discount: Decimal = _money()
    delivery: DeliveryIn = Field(default_factory=DeliveryIn)
    payment: PaymentIn = Field(default_factory=PaymentIn)
    lines: list[OrderLineIn] = Field(
        default_factory=list,
        max_length=1000,
        validate_default=True,
        description="The lines; an order may come without them when it gives `total`",
    )

    @field_validator("created_at")
    @classmethod
    def _zone(cls, value: datetime) -> datetime:
        return _aware(value) or value

    @field_validator("lines")
    @classmethod
    def _lines_or_total(cls, lines: list[OrderLineIn], info: ValidationInfo) -> list[OrderLineIn]:
        if not lines and info.data.get("total") is None:
            raise PydanticCustomError("lines_or_total", "give at least one line, or the order's total")
        return lines

    @field_validator("customer_id")
    @classmethod
    def _one_customer(cls, value: int | None, info: ValidationInfo) -> int | None:
        if (info.data.get("customer_external_id") is None) == (value is None):
            raise PydanticCustomError("customer", "give exactly one of customer_external_id or customer_id")
        return value

    def order_total(self) -> Decimal:
        if self.total is not None:
            return self.total
        return sum((line.line_amount() for line in self.lines), self.delivery_cost)

    def order_cash_part(self) -> Decimal:
        if self.cash_part is not None:
            return self.cash_part
        return max(Decimal("0"), self.order_total() - self.bonus_part)


class OrderBatchIn(InputModel):
    orders: list[OrderIn] = Field(min_length=1, max_length=1000)


class OrderBatchOut(BaseModel):
    created: int
    replaced: int
    ids: list[int]


class StatusChangeIn(InputModel):
    """A new status of one dimension of an order."""

    model_config = FORBID

    dimension: Dimension
    code: StatusCode


class OrderLineOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    position: int
    sku: str
    name: str | None
    product_id: int | None
    category_id: int | None
    quantity: Decimal
    price: Decimal
    amount: Decimal
    weight: Decimal | None
    discount: Decimal
    bonus_accrued: Decimal
    bonus_redeemed: Decimal
    cash_part: Decimal


class StatusChangeOut(BaseModel):
    dimension: str
    from_code: str | None = Field(serialization_alias="from")
    to_code: str | None = Field(serialization_alias="to")
    changed_at: datetime


class StatusesOut(BaseModel):
    general: str | None = None
    delivery: str | None = None
    payment: str | None = None


class DeliveryOut(BaseModel):
    type: str | None
    carrier: str | None
    country: str | None
    city: str | None
    street: str | None
    delivery_at: datetime | None
    customer_note: str | None


class PaymentOut(BaseModel):
    type: str | None
    provider: str | None


class OrderOut(BaseModel):
    id: int
    number: str
    customer_id: int
    store: str | None
    created_at: datetime
    updated_at: datetime
    statuses: StatusesOut
    in_analytics: bool = Field(description="Whether the order counts in the segment builder's order metrics")
    total: Decimal
    cash_part: Decimal
    bonus_part: Decimal
    delivery_cost: Decimal
    discount: Decimal
    delivery: DeliveryOut
    payment: PaymentOut
    lines: list[OrderLineOut] = []
    history: list[StatusChangeOut] | None = Field(
        default=None, description="Status changes, oldest first (only when one order is asked for)"
    )


class OrderStatusIn(InputModel):
    """A new status of a dimension; its code is what the API and imports send."""

    model_config = FORBID

    dimension: Dimension
    code: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=200)
    include_in_analytics: bool = True
    is_final: bool = False


class OrderStatusUpdate(InputModel):
    """Changes to a status; absent fields keep their value. The dimension of a status never changes."""

    model_config = FORBID

    code: str | None = Field(default=None, min_length=1, max_length=64)
    name: str | None = Field(default=None, min_length=1, max_length=200)
    include_in_analytics: bool | None = None
    is_final: bool | None = None
    position: int | None = Field(default=None, ge=0, le=10_000)


class OrderStatusOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    dimension: str
    code: str
    name: str
    include_in_analytics: bool
    is_final: bool
    position: int
    orders: int = Field(default=0, description="Orders in this status now")
