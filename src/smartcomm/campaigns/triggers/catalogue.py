"""Catalogue triggers: prices and stock of products customers have shown interest in.

They are real-time: the catalogue's write path publishes `product.changed` (`product_ids`, `fields` —
"price", "stock" — and each product's `changes` as [before, after]) in the transaction of the change, and
these triggers answer that event with one query for the products it names. Scheduling them would mean
scanning every cart and every recent view for products that did not change.

- Product in cart is low on stock: the stock of a product in customers' carts changed and is below the
  threshold. Occurrence: the product and the moment it was put into the cart, so a customer is told once
  per cart item however often the stock moves afterwards.
- The price of the viewed product has changed: the price fell at least X % below the price the customer
  saw (the product snapshot every view keeps) in the last N days of views. Occurrence: the product and its
  new price.
- Product price has changed: the price went down (or up, or either) by at least X %; whoever has the
  product in one of the chosen containers or viewed it in the last N days. Occurrence: product and price.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints
from sqlalchemy import Float, Integer, cast, func, select, type_coerce, union
from sqlalchemy.orm import Session

from smartcomm.campaigns.nodes import Settings, register
from smartcomm.campaigns.triggers.base import Entry, Trigger
from smartcomm.kit.i18n import lazy
from smartcomm.kit.outbox import Event
from smartcomm.models import Container, ContainerItem, Product, WebEvent
from smartcomm.models.containers import CART_CODE

PRODUCT_CHANGED = "product.changed"
CENT = Decimal("0.01")


@dataclass(frozen=True)
class PriceChange:
    product_id: int
    before: Decimal | None
    after: Decimal | None
    at: datetime  # when the change was published

    @property
    def percent(self) -> Decimal | None:
        """The change in percent of the old price (negative: cheaper)."""
        if self.before is None or self.after is None or self.before == 0:
            return None
        return (self.after - self.before) * 100 / self.before


def changed(events: Sequence[Event], field: str) -> dict[int, PriceChange]:
    """Per product the events changed `field` of: the value before the first change and after the last."""
    found: dict[int, PriceChange] = {}
    for event in events:
        for change in event.payload.get("changes") or ():
            if field not in change or "product_id" not in change:
                continue
            before, after = (_decimal(value) for value in change[field])
            known = found.get(int(change["product_id"]))
            first = known.before if known is not None else before
            found[int(change["product_id"])] = PriceChange(
                int(change["product_id"]), first, after, event.occurred_at
            )
    return found


def _decimal(value: Any) -> Decimal | None:
    try:
        return None if value is None else Decimal(str(value))
    except InvalidOperation:
        return None


def units(column: Any) -> Any:
    """A `Money` column as its stored minor units (compared with other amounts in SQL)."""
    return type_coerce(column, Integer)


class CatalogueTrigger(Trigger):
    family = "catalogue"
    icon = "ti-tag"
    listens = frozenset({PRODUCT_CHANGED})


# --- low stock -----------------------------------------------------------------------------------------


class LowStockSettings(Settings):
    threshold: Annotated[Decimal, Field(ge=0, max_digits=15, decimal_places=3, title=lazy("Stock below"))] = (
        Decimal("5")
    )


@register
class LowStock(CatalogueTrigger):
    name = "trigger.low_stock"
    label = lazy("Product in cart is low on stock")
    description = lazy("The stock of a product in the customer's cart fell below a threshold")
    icon = "ti-packages"
    settings_model = LowStockSettings

    def entries(self, session: Session, settings: Any, events: Sequence[Event]) -> list[Entry]:
        product_ids = sorted(changed(events, "stock"))
        if not product_ids:
            return []
        statement = (
            select(ContainerItem.customer_id, ContainerItem.added_at, Product.id, Product.sku, Product.stock)
            .join(Product, Product.id == ContainerItem.product_id)
            .join(Container, Container.id == ContainerItem.container_id)
            .where(
                Container.code == CART_CODE,
                Product.id.in_(product_ids),
                Product.stock.is_not(None),
                Product.stock < settings.threshold,
            )
            .order_by(Product.stock, ContainerItem.customer_id)  # the scarcest first: one entry per customer
        )
        return [
            Entry(
                customer_id,
                f"low_stock:{product_id}:{added_at.isoformat(timespec='seconds')}",
                {"product_id": product_id, "sku": sku, "stock": str(stock)},
            )
            for customer_id, added_at, product_id, sku, stock in session.execute(statement)
        ]


# --- the price of a viewed product ---------------------------------------------------------------------


class ViewedPriceSettings(Settings):
    drop_percent: Annotated[int, Field(ge=1, le=99, title=lazy("Price drop, at least %"))] = 10
    days: Annotated[int, Field(ge=1, le=90, title=lazy("Views of the last days"))] = 14


@register
class ViewedPriceChanged(CatalogueTrigger):
    name = "trigger.viewed_price_changed"
    label = lazy("The price of the viewed product has changed")
    description = lazy("A product the customer viewed lately is now cheaper than when they saw it")
    icon = "ti-discount"
    settings_model = ViewedPriceSettings
    needs = "tracker"

    def entries(self, session: Session, settings: Any, events: Sequence[Event]) -> list[Entry]:
        changes = changed(events, "price")
        if not changes:
            return []
        since = max(change.at for change in changes.values()) - timedelta(days=settings.days)
        seen = func.max(cast(WebEvent.snapshot["price"].as_string(), Float))
        current = units(Product.price)
        statement = (
            select(WebEvent.customer_id, Product.id, seen.label("seen"), Product.price)
            .join(Product, Product.id == WebEvent.product_id)
            .where(
                WebEvent.kind == "product_view",
                WebEvent.customer_id.is_not(None),
                WebEvent.product_id.in_(sorted(changes)),
                WebEvent.occurred_at >= since,
                Product.price.is_not(None),
            )
            .group_by(WebEvent.customer_id, Product.id, Product.price)
            # Minor units now against the price seen: at most (100 − X) % of it, and below it.
            .having(current <= seen * (100 - settings.drop_percent), current < seen * 100)
            .order_by(((seen * 100 - current) / seen).desc(), WebEvent.customer_id)  # the deepest drop first
        )
        return [
            Entry(
                customer_id,
                f"viewed_price:{product_id}:{price}",
                {"product_id": product_id, "old_price": _money(seen_price), "new_price": str(price)},
            )
            for customer_id, product_id, seen_price, price in session.execute(statement)
        ]


def _money(value: float) -> str:
    return str(Decimal(str(value)).quantize(CENT))


# --- product price has changed -------------------------------------------------------------------------

ContainerCode = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]


class PriceSettings(Settings):
    direction: Annotated[Literal["down", "up", "any"], Field(title=lazy("Direction"))] = "down"
    change_percent: Annotated[int, Field(ge=0, le=1000, title=lazy("Change, at least %"))] = 0
    container_codes: Annotated[
        list[ContainerCode], Field(max_length=20, title=lazy("Containers (codes)"))
    ] = Field(default_factory=lambda: [CART_CODE])
    viewed_days: Annotated[int, Field(ge=0, le=90, title=lazy("Or viewed in the last days"))] = 7


@register
class ProductPriceChanged(CatalogueTrigger):
    name = "trigger.product_price_changed"
    label = lazy("Product price has changed")
    description = lazy("The price of a product the customer keeps in a container or viewed lately changed")
    settings_model = PriceSettings

    def entries(self, session: Session, settings: Any, events: Sequence[Event]) -> list[Entry]:
        changes = {
            pid: change for pid, change in changed(events, "price").items() if _wanted(settings, change)
        }
        if not changes:
            return []
        product_ids = sorted(changes)
        interested: Any = (
            select(ContainerItem.customer_id, ContainerItem.product_id)
            .join(Container, Container.id == ContainerItem.container_id)
            .where(Container.code.in_(settings.container_codes), ContainerItem.product_id.in_(product_ids))
        )
        if settings.viewed_days:
            since = max(change.at for change in changes.values()) - timedelta(days=settings.viewed_days)
            viewers = select(WebEvent.customer_id, WebEvent.product_id).where(
                WebEvent.kind == "product_view",
                WebEvent.customer_id.is_not(None),
                WebEvent.product_id.in_(product_ids),
                WebEvent.occurred_at >= since,
            )
            interested = union(interested, viewers)
        rows = interested.subquery("interested")
        statement = select(rows.c.customer_id, rows.c.product_id).order_by(
            rows.c.customer_id, rows.c.product_id
        )
        return [
            Entry(
                customer_id, f"price:{product_id}:{changes[product_id].after}", _context(changes[product_id])
            )
            for customer_id, product_id in session.execute(statement)
        ]


def _wanted(settings: PriceSettings, change: PriceChange) -> bool:
    percent = change.percent
    if percent is None or percent == 0:
        return False
    if (settings.direction == "down" and percent > 0) or (settings.direction == "up" and percent < 0):
        return False
    return abs(percent) >= settings.change_percent


def _context(change: PriceChange) -> dict[str, Any]:
    return {"product_id": change.product_id, "old_price": str(change.before), "new_price": str(change.after)}
