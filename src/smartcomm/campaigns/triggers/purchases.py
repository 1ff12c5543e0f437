"""Purchase triggers, from `receipt.written`: a cheque (receipt) issued, an item purchased, an item of a
category purchased — each entered once per receipt (a corrected receipt sent again is not a new purchase).

The item triggers read the lines of the batch's receipts in one query; the context names the receipt, the
products that matched (the first one in full, for templates) and their quantity and amount.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from decimal import Decimal
from typing import Annotated, Any

from pydantic import Field
from sqlalchemy.orm import Session

from smartcomm.campaigns.nodes import Settings, register
from smartcomm.campaigns.triggers import lookups
from smartcomm.campaigns.triggers.base import Entry, Trigger
from smartcomm.campaigns.triggers.common import (
    ProductChoice,
    category_field,
    category_problems,
    money,
    product_context,
    product_problems,
)
from smartcomm.kit.i18n import lazy
from smartcomm.kit.outbox import Event
from smartcomm.kit.types import RowId

RECEIPT_WRITTEN = "receipt.written"
Quantity = Annotated[Decimal, Field(gt=0, max_digits=14, decimal_places=3)]


class ChequeSettings(Settings):
    minimum_total: Annotated[Decimal, Field(ge=0, max_digits=14, decimal_places=2)] | None = None
    store_ids: list[int] = Field(default_factory=list, max_length=500)


@register
class ChequeIssued(Trigger):
    name = "trigger.cheque_issued"
    family = "purchases"
    label = lazy("Cheque issued")
    description = lazy("Each new receipt of a customer (optionally from a minimum total or in chosen stores)")
    icon = "ti-receipt"
    settings_model = ChequeSettings
    listens = frozenset({RECEIPT_WRITTEN})

    def entries(self, session: Session, settings: Any, events: Sequence[Event]) -> list[Entry]:
        return [
            Entry(int(receipt["customer_id"]), _occurrence(receipt), receipt_context(receipt))
            for receipt in new_receipts(events).values()
            if _matches(settings, receipt)
        ]


def new_receipts(events: Sequence[Event]) -> dict[int, dict[str, Any]]:
    """The new receipts of customers the events carry, by id (a corrected receipt is not a new purchase)."""
    found: dict[int, dict[str, Any]] = {}
    for event in events:
        for receipt in event.payload.get("receipts") or ():
            if not receipt.get("replaced") and receipt.get("customer_id") is not None:
                found[int(receipt["id"])] = receipt
    return found


def receipt_context(receipt: dict[str, Any]) -> dict[str, Any]:
    return {
        "receipt_id": receipt["id"],
        "receipt_number": receipt.get("number"),
        "receipt_total": receipt.get("total"),
        "store_id": receipt.get("store_id"),
    }


def _occurrence(receipt: dict[str, Any]) -> str:
    return f"receipt:{receipt['id']}"


def _matches(settings: ChequeSettings, receipt: dict[str, Any]) -> bool:
    if (
        settings.minimum_total is not None
        and Decimal(str(receipt.get("total") or 0)) < settings.minimum_total
    ):
        return False
    return not settings.store_ids or receipt.get("store_id") in settings.store_ids


class ItemSettings(ProductChoice):
    # The chosen products' quantity in the receipt must reach this (all of them together).
    minimum_quantity: Quantity | None = Field(default=None, title=lazy("Minimum quantity"))


class CategorySettings(Settings):
    product_category_id: RowId | None = category_field(required=True)
    minimum_quantity: Quantity | None = Field(default=None, title=lazy("Minimum quantity"))


class _LinesTrigger(Trigger):
    """A trigger on the lines of new receipts: `_lines` reads the matching ones in one query."""

    family = "purchases"
    listens = frozenset({RECEIPT_WRITTEN})

    def _lines(self, session: Session, settings: Any, receipt_ids: list[int]) -> list[Any]:
        raise NotImplementedError

    def entries(self, session: Session, settings: Any, events: Sequence[Event]) -> list[Entry]:
        receipts = new_receipts(events)
        lines = self._lines(session, settings, list(receipts)) if receipts else []
        by_receipt: dict[int, list[Any]] = defaultdict(list)
        for line in lines:
            by_receipt[line.receipt_id].append(line)
        found = lookups.products(session, (line.product_id for line in lines))
        entries = []
        for receipt_id, matched in by_receipt.items():
            quantity = sum((Decimal(str(line.quantity)) for line in matched), Decimal(0))
            if settings.minimum_quantity is not None and quantity < settings.minimum_quantity:
                continue
            receipt = receipts[receipt_id]
            context = receipt_context(receipt) | _lines_context(found, matched, quantity)
            entries.append(Entry(int(receipt["customer_id"]), _occurrence(receipt), context))
        return entries


def _lines_context(found: dict[int, dict[str, Any]], lines: list[Any], quantity: Decimal) -> dict[str, Any]:
    amount = sum((Decimal(str(line.amount)) for line in lines), Decimal(0))
    products = product_context(found, [line.product_id for line in lines])
    if products["product"] is None:  # a product the catalogue does not know: its SKU at least
        products["product"] = {"sku": lines[0].sku}
    skus = list(dict.fromkeys(line.sku for line in lines))
    return products | {"skus": skus, "quantity": money(quantity), "amount": money(amount)}


@register
class ItemPurchased(_LinesTrigger):
    name = "trigger.item_purchased"
    label = lazy("Item purchased")
    description = lazy("A receipt with one of the chosen products (optionally from a minimum quantity)")
    icon = "ti-shopping-bag"
    settings_model = ItemSettings

    def check(self, settings: Any, context: Any) -> list[tuple[str, str]]:
        return product_problems(context.session, settings, required=True)

    def _lines(self, session: Session, settings: Any, receipt_ids: list[int]) -> list[Any]:
        return lookups.purchased_lines(session, receipt_ids, settings.product_ids, settings.skus)


@register
class CategoryPurchased(_LinesTrigger):
    name = "trigger.category_purchased"
    label = lazy("Item from a category purchased")
    description = lazy("A receipt with a product of the chosen category or of its subcategories")
    icon = "ti-category"
    settings_model = CategorySettings

    def check(self, settings: Any, context: Any) -> list[tuple[str, str]]:
        return category_problems(context.session, settings.product_category_id, required=True)

    def _lines(self, session: Session, settings: Any, receipt_ids: list[int]) -> list[Any]:
        if settings.product_category_id is None:
            return []
        return lookups.purchased_lines(session, receipt_ids, category_id=settings.product_category_id)
