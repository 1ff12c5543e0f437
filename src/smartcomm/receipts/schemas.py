"""Input and output shapes of receipts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from smartcomm.kit.types import InputModel, RowId

Money = Decimal
ReceiptStatus = Literal["paid", "returned", "cancelled"]
PromoCodeText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]


class ReceiptLineIn(InputModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    sku: str = Field(min_length=1, max_length=64)
    quantity: Decimal = Field(default=Decimal("1"), gt=0, max_digits=15, decimal_places=3)
    price: Decimal = Field(ge=0, max_digits=16, decimal_places=2)
    amount: Decimal | None = Field(
        default=None,
        ge=0,
        max_digits=16,
        decimal_places=2,
        description="Line total after discount; quantity × price − discount when omitted",
    )
    discount: Decimal = Field(default=Decimal("0"), ge=0, max_digits=16, decimal_places=2)
    custom: dict[str, Any] = Field(default_factory=dict)

    def line_amount(self) -> Decimal:
        if self.amount is not None:
            return self.amount
        return max(Decimal("0"), (self.quantity * self.price - self.discount).quantize(Decimal("0.01")))


class ReceiptIn(InputModel):
    """A receipt; the same (store, number) sent again replaces the stored one."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    number: str = Field(min_length=1, max_length=64)
    store: str = Field(min_length=1, max_length=64, description="Store code (unknown codes create a store)")
    customer_external_id: str | None = Field(default=None, min_length=1, max_length=64)
    customer_id: RowId | None = Field(
        default=None, description="Platform id, instead of customer_external_id"
    )
    purchased_at: datetime
    status: ReceiptStatus = "paid"
    total: Decimal | None = Field(
        default=None,
        ge=0,
        max_digits=16,
        decimal_places=2,
        description="Receipt total after discounts; the sum of the lines when omitted",
    )
    discount: Decimal = Field(default=Decimal("0"), ge=0, max_digits=16, decimal_places=2)
    bonus_earned: Decimal = Field(default=Decimal("0"), ge=0, max_digits=16, decimal_places=2)
    bonus_spent: Decimal = Field(default=Decimal("0"), ge=0, max_digits=16, decimal_places=2)
    lines: list[ReceiptLineIn] = Field(
        default_factory=list,
        max_length=1000,
        validate_default=True,
        description="The lines; a receipt may come without them (its header only) when it gives `total`",
    )
    custom: dict[str, Any] = Field(default_factory=dict)
    promo_codes: list[PromoCodeText] = Field(
        default_factory=list,
        max_length=20,
        description="Promo codes presented with the purchase; each is redeemed once the receipt is stored",
    )

    @field_validator("lines")
    @classmethod
    def _lines_or_total(cls, lines: list[ReceiptLineIn], info: ValidationInfo) -> list[ReceiptLineIn]:
        # A receipt without lines has nothing to sum: only its header can say what was paid.
        if not lines and info.data.get("total") is None:
            raise PydanticCustomError("lines_or_total", "give at least one line, or the receipt's total")
        return lines

    @model_validator(mode="after")
    def _one_customer_reference(self) -> ReceiptIn:
        if (self.customer_external_id is None) == (self.customer_id is None):
            raise ValueError("give exactly one of customer_external_id or customer_id")
        if self.purchased_at.tzinfo is None:
            raise ValueError("purchased_at needs a time zone offset, e.g. 2026-05-01T10:30:00+03:00")
        return self


class ReceiptBatchIn(InputModel):
    receipts: list[ReceiptIn] = Field(min_length=1, max_length=1000)


class ReceiptBatchOut(BaseModel):
    created: int
    replaced: int
    ids: list[int]


class ReceiptLineOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    position: int
    sku: str
    product_id: int | None
    category_id: int | None
    quantity: Decimal
    price: Decimal
    amount: Decimal
    discount: Decimal
    custom: dict[str, Any]


class ReceiptOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    number: str
    store_id: int
    customer_id: int
    purchased_at: datetime
    status: str
    total: Decimal
    discount: Decimal
    bonus_earned: Decimal
    bonus_spent: Decimal
    item_count: Decimal
    custom: dict[str, Any]
    promo_codes: list[str] | None = None
    lines: list[ReceiptLineOut] = []

    @classmethod
    def with_lines(cls, receipt: object, lines: Sequence[object]) -> ReceiptOut:
        """The receipt read from its row, with its lines in order."""
        out = cls.model_validate(receipt)
        out.lines = [ReceiptLineOut.model_validate(line) for line in lines]
        return out
