"""Input and output shapes of the catalogue: classifiers, categories, products and stores."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from smartcomm.kit.time import known_time_zones
from smartcomm.kit.types import InputModel

MAX_BATCH = 1000
CLASSIFIER_HELP = "Classifier code; the main catalogue when omitted"


class ClassifierOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    code: str
    name: str
    is_system: bool
    for_tracker: bool


class CategoryNodeOut(BaseModel):
    """A category of a classifier's tree, listed after its parent (a flat list in tree order)."""

    id: int
    code: str
    name: str
    parent: str | None = Field(description="The parent category's code; null for a top category")
    parent_id: int | None
    level: int = Field(description="1 for a top category, 2 for its children, …")
    path: list[str] = Field(description="Codes from the top of the tree down to this category")
    custom: dict[str, Any]


class CategoryIn(InputModel):
    """A category of a classifier's tree. On update, a parent not sent stays; null makes it a top category."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    code: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=200)
    parent: str | None = Field(
        default=None, max_length=64, description="Parent category code: in this batch or already loaded"
    )
    classifier: str | None = Field(default=None, max_length=64, description=CLASSIFIER_HELP)
    custom: dict[str, Any] = Field(default_factory=dict, description="Custom category fields by code")


class CategoryBatchIn(InputModel):
    categories: list[CategoryIn] = Field(min_length=1, max_length=MAX_BATCH)


class CategoryOutcome(BaseModel):
    id: int
    code: str
    classifier: str
    parent_id: int | None
    path: str = Field(description="Ids from the top of the tree down to this category, e.g. /1/5/9/")
    created: bool


class CategoryBatchOut(BaseModel):
    created: int
    updated: int
    items: list[CategoryOutcome]


class ProductIn(InputModel):
    """A product, unique by classifier and SKU. On update, fields not sent stay unchanged; null clears."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    sku: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=300)
    price: Decimal | None = Field(default=None, ge=0, max_digits=16, decimal_places=2)
    stock: Decimal | None = Field(default=None, max_digits=15, decimal_places=3)
    category: str | None = Field(
        default=None, max_length=64, description="Category code in the same classifier"
    )
    url: str | None = Field(default=None, max_length=1000)
    image_url: str | None = Field(default=None, max_length=1000)
    is_active: bool = True
    classifier: str | None = Field(default=None, max_length=64, description=CLASSIFIER_HELP)
    custom: dict[str, Any] = Field(default_factory=dict, description="Custom product fields by code")


class ProductBatchIn(InputModel):
    products: list[ProductIn] = Field(min_length=1, max_length=MAX_BATCH)


class ProductOutcome(BaseModel):
    id: int
    sku: str
    classifier: str
    created: bool


class ProductBatchOut(BaseModel):
    created: int
    updated: int
    receipt_lines_linked: int = Field(
        description="Earlier receipt lines with these SKUs now tied to the products"
    )
    items: list[ProductOutcome]


class ProductOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    classifier: str
    sku: str
    name: str
    price: Decimal | None
    stock: Decimal | None
    category: str | None
    category_id: int | None
    url: str | None
    image_url: str | None
    is_active: bool
    custom: dict[str, Any]
    created_at: datetime
    updated_at: datetime


class StoreIn(InputModel):
    """A store, unique by code. On update, fields not sent stay unchanged; null clears."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    code: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=200)
    city: str | None = Field(default=None, max_length=100)
    region: str | None = Field(default=None, max_length=100)
    address: str | None = Field(default=None, max_length=300)
    time_zone: str | None = Field(default=None, description="IANA name, e.g. Asia/Yekaterinburg")
    is_online: bool = False
    is_active: bool = True

    @field_validator("time_zone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        if value and value not in known_time_zones():
            raise ValueError(f"unknown time zone {value!r}")
        return value or None


class StoreBatchIn(InputModel):
    stores: list[StoreIn] = Field(min_length=1, max_length=MAX_BATCH)


class StoreOutcome(BaseModel):
    id: int
    code: str
    created: bool


class StoreBatchOut(BaseModel):
    created: int
    updated: int
    items: list[StoreOutcome]


class StoreOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    code: str
    name: str
    city: str | None
    region: str | None
    address: str | None
    time_zone: str | None
    is_online: bool
    is_active: bool
    created_at: datetime
    updated_at: datetime
