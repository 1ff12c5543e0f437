"""Segment e-commerce events (spec v2) as web events: product and category views and cart changes.

Product Viewed                  → product_view of the product (`sku`, else `product_id`)
Product List Viewed,
Category Viewed                 → category_view of the category (`category_id`, else `category`)
Product Added / Product Removed → container_change of the cart: add `quantity` (1 when omitted) / take
                                  away `quantity` (the whole product when omitted)
Product Added to Wishlist, …    → the same for the wishlist
Cart Viewed                     → the cart made equal to `products` (the whole cart, as the spec sends it):
                                  a `set` for each product whose quantity differs, a `remove` for each
                                  product no longer listed, a `clear` for an empty list; nothing when the
                                  cart already matches, so only real changes move its last-change time
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from smartcomm.models.containers import CART_CODE

# Segment e-commerce events that are also web events: kind, container, container action.
PRODUCT_EVENTS: dict[str, tuple[str, str | None, str]] = {
    "Product Viewed": ("product_view", None, "add"),
    "Product Added": ("container_change", CART_CODE, "add"),
    "Product Removed": ("container_change", CART_CODE, "remove"),
    "Product Added to Wishlist": ("container_change", "wishlist", "add"),
    "Product Removed from Wishlist": ("container_change", "wishlist", "remove"),
}
CATEGORY_EVENTS = frozenset({"Product List Viewed", "Category Viewed"})
CART_VIEWED = "Cart Viewed"

WebEventValues = dict[str, Any]
# The customer's cart now, by SKU: quantity (read only for a Cart Viewed of a known customer).
CartReader = Callable[[], Mapping[str, Decimal]]


def maps_to_web_events(event: str) -> bool:
    return event in PRODUCT_EVENTS or event in CATEGORY_EVENTS or event == CART_VIEWED


def web_events_of(event: str, properties: dict[str, Any], cart: CartReader) -> list[WebEventValues]:
    """The web events (kind-specific values) of one e-commerce event; none when it names no product or
    category (the customer event alone is kept then)."""
    if event in PRODUCT_EVENTS:
        return _product_event(event, properties)
    if event in CATEGORY_EVENTS:
        return _category_view(properties)
    if event == CART_VIEWED:
        return _cart_viewed(properties, cart)
    return []


def product_sku(product: Mapping[str, Any]) -> str | None:
    sku = product.get("sku") or product.get("product_id")
    return None if sku is None or str(sku).strip() == "" else str(sku).strip()


def _product_event(event: str, properties: dict[str, Any]) -> list[WebEventValues]:
    kind, container, action = PRODUCT_EVENTS[event]
    sku = product_sku(properties)
    if sku is None:
        return []
    return [
        {
            "kind": kind,
            "sku": sku,
            "container": container,
            "container_action": action,
            "quantity": properties.get("quantity"),
            "price": properties.get("price"),
            "url": properties.get("url"),
        }
    ]


def _category_view(properties: dict[str, Any]) -> list[WebEventValues]:
    category = properties.get("category_id") or properties.get("category")
    if category is None or str(category).strip() == "":
        return []
    return [{"kind": "category_view", "category": str(category).strip(), "url": properties.get("url")}]


def _cart_viewed(properties: dict[str, Any], cart: CartReader) -> list[WebEventValues]:
    products = properties.get("products")
    if not isinstance(products, list):
        return []  # a cart view without its contents changes nothing
    current = cart()
    if not products:
        return [_cart_change("clear", None, None, None)] if current else []
    listed = _listed(products)
    if not listed:
        return []  # products without SKUs: nothing to compare
    changes = [
        _cart_change("set", sku, quantity, price)
        for sku, (quantity, price) in listed.items()
        if _quantity(quantity) != current.get(sku)
    ]
    changes += [_cart_change("remove", sku, None, None) for sku in current if sku not in listed]
    return changes


def _listed(products: list[Any]) -> dict[str, tuple[Any, Any]]:
    """The products of the cart by SKU: quantity (repeats added up) and price."""
    listed: dict[str, tuple[Any, Any]] = {}
    for product in products:
        if not isinstance(product, dict) or (sku := product_sku(product)) is None:
            continue
        quantity = product.get("quantity", 1)
        if sku in listed:
            before = _quantity(listed[sku][0])
            now = _quantity(quantity)
            quantity = before + now if before is not None and now is not None else quantity
        listed[sku] = (quantity, product.get("price"))
    return listed


def _cart_change(action: str, sku: str | None, quantity: Any, price: Any) -> WebEventValues:
    return {
        "kind": "container_change",
        "container": CART_CODE,
        "container_action": action,
        "sku": sku,
        "quantity": quantity,
        "price": price,
    }


def _quantity(value: Any) -> Decimal | None:
    """A quantity as the container stores it (3 decimals), or None when it is not a number (the web
    event's validation then names the field)."""
    try:
        return Decimal(str(value)).quantize(Decimal("0.001"))
    except (InvalidOperation, ValueError):
        return None
