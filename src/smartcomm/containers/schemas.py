"""Input and output shapes of containers."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from smartcomm.kit.types import InputModel

ContainerAction = Literal["add", "remove", "set", "clear"]


class ContainerItemIn(InputModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    sku: str = Field(min_length=1, max_length=64, description="Product SKU in the main catalogue")
    quantity: Decimal | None = Field(
        default=None,
        ge=0,
        max_digits=15,
        decimal_places=3,
        description="add: how many to add (1 when omitted); remove: how many to take away (all when "
        "omitted); set: the new quantity (0 removes the product)",
    )
    price: Decimal | None = Field(
        default=None, ge=0, max_digits=16, decimal_places=2, description="Price when added to the list"
    )


class ContainerChangeIn(InputModel):
    """A change of one container: add, remove or set products, or clear the whole list."""

    model_config = ConfigDict(extra="forbid")

    action: ContainerAction
    items: list[ContainerItemIn] = Field(default_factory=list, max_length=1000)


class ContainerItemOut(BaseModel):
    sku: str
    name: str
    price: Decimal | None
    quantity: Decimal
    added_at: datetime


class ContainerOut(BaseModel):
    code: str
    name: str
    changed_at: datetime
    item_count: int
    items: list[ContainerItemOut]
