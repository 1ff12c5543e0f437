"""Settings pieces and checks the real-time triggers share: products chosen by id or SKU, a category (with
its subcategories), an event source, and how a product or a money amount is written into a journey's
context (JSON: money and quantities as decimal strings, times as ISO 8601)."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import AfterValidator, Field, StringConstraints
from sqlalchemy.orm import Session

from smartcomm.campaigns.nodes import Settings
from smartcomm.campaigns.triggers import lookups
from smartcomm.kit.i18n import lazy
from smartcomm.kit.types import RowId, no_nul
from smartcomm.models import Category, EventSource, Product

Code = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64), AfterValidator(no_nul)
]
Phrase = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), AfterValidator(no_nul)
]
MAX_CHOSEN = 500
CATEGORY = "product_category_id"
Problems = list[tuple[str, str]]


class ProductChoice(Settings):
    """Products chosen by platform id or by SKU (either list may be empty)."""

    product_ids: list[RowId] = Field(
        default_factory=list, max_length=MAX_CHOSEN, title=lazy("Products (ids)")
    )
    skus: list[Code] = Field(default_factory=list, max_length=MAX_CHOSEN, title=lazy("Products (SKUs)"))

    @property
    def any_product(self) -> bool:
        return not self.product_ids and not self.skus


class SourceChoice(Settings):
    source_id: RowId | None = Field(
        default=None, title=lazy("Event source (id)"), description=lazy("Empty: any event source.")
    )


def category_field(*, required: bool = False) -> Any:
    """A product category of the catalogue, with its subcategories (not named `category_id`: that is a
    mailing category on the canvas)."""
    hint = lazy("With its subcategories.") if required else lazy("Empty: any. With its subcategories.")
    return Field(default=None, title=lazy("Product category (id)"), description=hint)


def product_problems(session: Session, settings: ProductChoice, *, required: bool) -> Problems:
    if required and settings.any_product:
        return [("product_ids", str(lazy("Choose at least one product")))]
    missing = lookups.missing_ids(session, Product, settings.product_ids)
    if missing:
        return [("product_ids", str(lazy("No product with the id %(ids)s")) % {"ids": _ids(missing)})]
    return []


def category_problems(session: Session, category_id: int | None, *, required: bool) -> Problems:
    if category_id is None:
        return [(CATEGORY, str(lazy("Choose a category")))] if required else []
    if not lookups.exists(session, Category, category_id):
        return [(CATEGORY, str(lazy("The category does not exist")))]
    return []


def source_problems(session: Session, source_id: int | None) -> Problems:
    if not lookups.exists(session, EventSource, source_id):
        return [("source_id", str(lazy("The event source does not exist")))]
    return []


def exists_problem(session: Session, model: Any, row_id: int | None, field: str, message: Any) -> Problems:
    return [] if lookups.exists(session, model, row_id) else [(field, str(message))]


def chosen_products(session: Session, settings: ProductChoice) -> set[int]:
    """The platform ids of the chosen products (SKUs resolved in one query)."""
    return lookups.product_ids(session, settings.product_ids, settings.skus)


def money(value: Any) -> str | None:
    return None if value is None else str(Decimal(str(value)))


def moment(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def product_context(found: dict[int, dict[str, Any]], ids: Collection[int | None]) -> dict[str, Any]:
    """The products of an entry in its context: every id, and the first one in full as `product`."""
    known = [each for each in ids if each is not None]
    unique = list(dict.fromkeys(known))
    first = found.get(unique[0]) if unique else None
    return {"product_ids": unique, "product": first}


def _ids(values: Collection[int]) -> str:
    return ", ".join(str(each) for each in sorted(values))
