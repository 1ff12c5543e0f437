"""Abandoned carts and lost views: the queries the customer profile and campaign triggers share.

A customer's cart (the system container `cart`) is abandoned once it holds products, has not changed for
the inactivity time (setting, default 1 hour), and no purchase came since its last change: no order, no
receipt and no `order_complete` web event. It stays abandoned until an order or a purchase, or until the
retention time (default 30 days) after it became abandoned has passed. Nothing is stored for it: the
cart's state (its last change, kept by every container write) and the purchases after it say it all, so
the profile, the triggers and a message template always agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Literal

from sqlalchemy import (
    ColumnElement,
    Integer,
    Numeric,
    Select,
    SQLColumnExpression,
    and_,
    exists,
    func,
    literal_column,
    or_,
    select,
    type_coerce,
)
from sqlalchemy.orm import Session, aliased

from smartcomm.kit.models import Money
from smartcomm.kit.sqltime import plus_seconds
from smartcomm.kit.time import utcnow
from smartcomm.models import Container, ContainerItem, ContainerState, Order, Product, Receipt, WebEvent
from smartcomm.models.containers import CART_CODE
from smartcomm.settings.schemas import TrackingSettings
from smartcomm.settings.service import settings_service

ViewKind = Literal["product", "category", "any"]
VIEW_KINDS: dict[str, tuple[str, ...]] = {
    "product": ("product_view",),
    "category": ("category_view",),
    "any": ("product_view", "category_view"),
}
# (customer_id, abandoned_at, item_count, total) and (customer_id, product_id, category_id, viewed_at).
CartRows = Select[int, datetime, int, Decimal | None]
ViewRows = Select[int | None, int | None, int | None, datetime]
# Container actions that put a product into the cart.
INTO_CART = ("add", "set")


@dataclass(frozen=True, slots=True)
class CartRules:
    """How long a cart waits before it is abandoned, and how long it is kept once abandoned."""

    inactivity: timedelta
    keep: timedelta


@dataclass(frozen=True, slots=True)
class AbandonedItem:
    product_id: int
    sku: str
    name: str
    price: Decimal | None
    quantity: Decimal

    @property
    def amount(self) -> Decimal | None:
        return None if self.price is None else (self.price * self.quantity).quantize(Decimal("0.01"))


@dataclass(frozen=True, slots=True)
class AbandonedCart:
    customer_id: int
    last_activity: datetime
    abandoned_at: datetime
    expires_at: datetime
    items: list[AbandonedItem]
    total: Decimal

    @property
    def item_count(self) -> int:
        return len(self.items)


def cart_rules(session: Session) -> CartRules:
    settings = settings_service.read(session, TrackingSettings)
    return CartRules(
        timedelta(minutes=settings.abandoned_cart_minutes), timedelta(days=settings.abandoned_cart_keep_days)
    )


def abandoned_between(session: Session, start: datetime, end: datetime) -> CartRows:
    """Carts that became abandoned in [start, end) — their last change plus the inactivity time falls in
    it — and that are still neither ordered nor expired at `end`: rows (customer_id, abandoned_at,
    item_count, total)."""
    return _abandoned(cart_rules(session), start, end)


def abandoned_cart(session: Session, customer_id: int, now: datetime | None = None) -> AbandonedCart | None:
    """The customer's cart if it is abandoned now: its products, last activity and total."""
    now = now or utcnow()
    rules = cart_rules(session)
    # Abandoned now = became abandoned within the retention time before now, and not ordered since.
    statement = _abandoned(rules, now - rules.keep, now).where(ContainerState.customer_id == customer_id)
    row = session.execute(statement).first()
    if row is None:
        return None
    return AbandonedCart(
        customer_id=customer_id,
        last_activity=row.abandoned_at - rules.inactivity,
        abandoned_at=row.abandoned_at,
        expires_at=row.abandoned_at + rules.keep,
        items=_items(session, customer_id),
        total=row.total if row.total is not None else Decimal("0.00"),
    )


def viewed_without_cart(session: Session, start: datetime, end: datetime, kind: ViewKind) -> ViewRows:
    """Lost views: customers' product or category views in [start, end) after which the customer put no
    such product into the cart (for a category: no product of it) and bought nothing; rows (customer_id,
    product_id, category_id, viewed_at) — the last such view of each product or category. `product_id` is
    None for a category view."""
    view, added = aliased(WebEvent), aliased(WebEvent)
    same_item = or_(
        and_(view.kind == "product_view", added.product_id == view.product_id),
        and_(view.kind == "category_view", added.category_id == view.category_id),
    )
    put_in_cart = exists().where(
        added.customer_id == view.customer_id,
        added.kind == "container_change",
        added.container_code == CART_CODE,
        added.container_action.in_(INTO_CART),
        added.occurred_at >= view.occurred_at,
        same_item,
    )
    known_item = or_(
        and_(view.kind == "product_view", view.product_id.is_not(None)),
        and_(view.kind == "category_view", view.category_id.is_not(None)),
    )
    return (
        select(
            view.customer_id,
            view.product_id,
            view.category_id,
            func.max(view.occurred_at).label("viewed_at"),
        )
        .where(
            view.kind.in_(VIEW_KINDS[kind]),
            view.customer_id.is_not(None),
            view.occurred_at >= start,
            view.occurred_at < end,
            known_item,
            ~put_in_cart,
            ~_ordered_since(view.customer_id, view.occurred_at, None),
        )
        .group_by(view.customer_id, view.kind, view.product_id, view.category_id)
    )


# --- building blocks ---------------------------------------------------------------------------------


def _abandoned(rules: CartRules, start: datetime, end: datetime) -> CartRows:
    state = ContainerState
    return select(
        state.customer_id,
        plus_seconds(state.changed_at, rules.inactivity).label("abandoned_at"),
        state.item_count,
        _cart_total(state.customer_id, state.container_id).label("total"),
    ).where(
        state.container_id == _cart_id(),
        state.item_count > 0,
        state.changed_at >= start - rules.inactivity,
        state.changed_at < end - rules.inactivity,
        # Expired at `end`: abandoned for the whole retention time already.
        state.changed_at > end - rules.inactivity - rules.keep,
        ~_ordered_since(state.customer_id, state.changed_at, end),
    )


def _cart_id() -> Any:
    return select(Container.id).where(Container.code == CART_CODE).scalar_subquery()


def _ordered_since(
    customer_id: SQLColumnExpression[Any], since: SQLColumnExpression[Any], until: datetime | None
) -> ColumnElement[bool]:
    """Whether the customer bought anything at or after `since` (and before `until`): an order, a receipt
    (from the site, the till or the API) or an `order_complete` web event."""
    checks = [
        (Order.customer_id, Order.created_at, []),
        (Receipt.customer_id, Receipt.purchased_at, []),
        (WebEvent.customer_id, WebEvent.occurred_at, [WebEvent.kind == "order_complete"]),
    ]
    found = []
    for owner, moment, extra in checks:
        conditions = [owner == customer_id, moment >= since, *extra]
        if until is not None:
            conditions.append(moment < until)
        found.append(exists().where(*conditions))
    return or_(*found)


def _cart_total(customer_id: SQLColumnExpression[Any], container_id: SQLColumnExpression[Any]) -> Any:
    """The sum of price × quantity of the cart's products (the price when added, else the catalogue's),
    computed on the stored minor units and rounded to kopecks."""
    price_units = type_coerce(func.coalesce(ContainerItem.price, Product.price), Integer)
    quantity_units = type_coerce(ContainerItem.quantity, Integer)
    # Minor units × thousandths of a unit: divide by 1,000 for minor units again.
    amount = price_units * quantity_units * literal_column("1.0", Numeric()) / 1000
    return (
        select(type_coerce(func.round(func.sum(amount)), Money))
        .select_from(ContainerItem)
        .join(Product, Product.id == ContainerItem.product_id)
        .where(ContainerItem.customer_id == customer_id, ContainerItem.container_id == container_id)
        .scalar_subquery()
    )


def _items(session: Session, customer_id: int) -> list[AbandonedItem]:
    statement = (
        select(ContainerItem, Product.sku, Product.name, Product.price)
        .join(Product, Product.id == ContainerItem.product_id)
        .where(ContainerItem.customer_id == customer_id, ContainerItem.container_id == _cart_id())
        .order_by(ContainerItem.added_at, Product.sku)
    )
    return [
        AbandonedItem(
            product_id=item.product_id,
            sku=sku,
            name=name,
            price=item.price if item.price is not None else catalogue_price,
            quantity=item.quantity,
        )
        for item, sku, name, catalogue_price in session.execute(statement)
    ]
