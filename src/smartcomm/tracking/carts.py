"""The customer's cart as the tracker reads it (to compare a Cart Viewed), empties it (on an order) and
takes over what the visitor put in it before signing in."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy.orm import Session

from smartcomm.containers.repository import ContainerRepository
from smartcomm.containers.service import ItemChange, container_change, container_service
from smartcomm.kit.outbox import publish
from smartcomm.models.containers import CART_CODE
from smartcomm.tracking.repository import TrackingRepository


def cart_by_sku(session: Session, customer_id: int | None) -> dict[str, Decimal]:
    """The customer's cart: quantity by SKU (empty for an anonymous visitor, whose cart is not kept)."""
    if customer_id is None:
        return {}
    cart = ContainerRepository(session).by_code(CART_CODE)
    if cart is None:
        return {}
    items = ContainerRepository(session).items_with_sku(customer_id, cart.id)
    return {sku: item.quantity for item, sku in items}


def empty_cart(session: Session, customer_id: int, at: datetime) -> None:
    """After an order the shop's cart is empty: so is the customer's cart container (a cart that is
    already empty is left alone, its last change unmoved)."""
    repository = ContainerRepository(session)
    cart = repository.by_code(CART_CODE)
    state = repository.state(customer_id, cart.id) if cart is not None else None
    if cart is None or state is None or state.item_count == 0:
        return
    container_service.apply(session, customer_id, cart.id, "clear", [], at)
    entry = container_change(customer_id, CART_CODE, "clear", [], at)
    publish(session, "container.changed", customer_id=customer_id, payload={"changes": [entry]})


def anonymous_changes(session: Session, visitor_id: str, since: datetime) -> list[Any]:
    """What the visitor put into (or took out of) lists while anonymous — read before it identifies."""
    return TrackingRepository(session).anonymous_container_changes(visitor_id, since)


def adopt_changes(session: Session, customer_id: int, changes: list[Any]) -> None:
    """Apply a visitor's anonymous container changes to the customer it identified as, in order: the
    cart filled before signing in is the customer's cart (and can be abandoned)."""
    containers = ContainerRepository(session).ids_by_code()
    applied: list[dict[str, Any]] = []
    for row in changes:
        container_id = containers.get(row.container_code)
        if container_id is None:
            continue
        items = [] if row.container_action == "clear" else [_item(row)]
        container_service.apply(
            session, customer_id, container_id, row.container_action, items, row.occurred_at
        )
        applied.append(
            container_change(customer_id, row.container_code, row.container_action, items, row.occurred_at)
        )
    if applied:
        publish(session, "container.changed", customer_id=customer_id, payload={"changes": applied})


def _item(row: Any) -> ItemChange:
    quantity = None if row.quantity is None else Decimal(str(row.quantity))
    return ItemChange(row.product_id, quantity, _price(row.context.get("price")))


def _price(value: Any) -> Decimal | None:
    try:
        return None if value is None else Decimal(str(value))
    except InvalidOperation:
        return None
