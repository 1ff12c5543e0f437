"""Order triggers (the orders module switched on): order created, order status changed (in one of the
three status dimensions), item ordered, item from a category ordered.

From `order.created` (every new order of a batch, with its statuses as codes) and `order.status_changed`
(every change of a write: order, dimension, from and to codes, when). An order enters a customer once; a
status change once per change (the same order may come back to a status later, and enter again then).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import Field
from sqlalchemy.orm import Session

from smartcomm.campaigns.nodes import Settings, register
from smartcomm.campaigns.triggers import lookups
from smartcomm.campaigns.triggers.base import Entry, Trigger
from smartcomm.campaigns.triggers.common import (
    Code,
    ProductChoice,
    category_field,
    category_problems,
    chosen_products,
    product_context,
    product_problems,
)
from smartcomm.kit.bulk import chunked
from smartcomm.kit.i18n import lazy
from smartcomm.kit.outbox import Event
from smartcomm.kit.types import RowId
from smartcomm.orders.repository import ordered_items

ORDER_CREATED = "order.created"
STATUS_CHANGED = "order.status_changed"
Dimension = Literal["general", "delivery", "payment"]


def new_orders(events: Sequence[Event]) -> dict[int, dict[str, Any]]:
    """The new orders the events carry, by id."""
    found: dict[int, dict[str, Any]] = {}
    for event in events:
        for order in event.payload.get("orders") or ():
            if order.get("customer_id") is not None:
                found[int(order["id"])] = order
    return found


def order_context(order: dict[str, Any]) -> dict[str, Any]:
    return {
        "order_id": order["id"],
        "order_number": order.get("number"),
        "order_total": order.get("total"),
        "order_created_at": order.get("created_at"),
        "store_id": order.get("store_id"),
        "statuses": {dimension: order.get(dimension) for dimension in ("general", "delivery", "payment")},
    }


def _occurrence(order: dict[str, Any]) -> str:
    return f"order:{order['id']}"


class OrderSettings(Settings):
    store_ids: list[RowId] = Field(default_factory=list, max_length=500)
    minimum_total: Annotated[Decimal, Field(ge=0, max_digits=14, decimal_places=2)] | None = Field(
        default=None, title=lazy("Minimum order total")
    )


class _OrderTrigger(Trigger):
    family = "orders"
    needs = "orders"
    listens = frozenset({ORDER_CREATED})


@register
class OrderCreated(_OrderTrigger):
    name = "trigger.order_created"
    label = lazy("Order created")
    description = lazy("Each new order of a customer (optionally from a minimum total or in chosen stores)")
    icon = "ti-package"
    settings_model = OrderSettings

    def entries(self, session: Session, settings: Any, events: Sequence[Event]) -> list[Entry]:
        return [
            Entry(int(order["customer_id"]), _occurrence(order), order_context(order))
            for order in new_orders(events).values()
            if _order_matches(settings, order)
        ]


def _order_matches(settings: OrderSettings, order: dict[str, Any]) -> bool:
    total = Decimal(str(order.get("total") or 0))
    if settings.minimum_total is not None and total < settings.minimum_total:
        return False
    return not settings.store_ids or order.get("store_id") in settings.store_ids


class StatusSettings(Settings):
    dimension: Dimension = Field(default="general", title=lazy("Status dimension"))
    status: Code = Field(title=lazy("New status (code)"))
    from_status: Code | None = Field(
        default=None, title=lazy("Previous status (code)"), description=lazy("Empty: from any status.")
    )


@register
class OrderStatusChanged(_OrderTrigger):
    name = "trigger.order_status_changed"
    label = lazy("Order status changed")
    description = lazy("An order moved into the chosen status (general, delivery or payment)")
    icon = "ti-truck-delivery"
    settings_model = StatusSettings
    listens = frozenset({STATUS_CHANGED})

    def check(self, settings: Any, context: Any) -> list[tuple[str, str]]:
        unknown = str(lazy("No status with this code in this dimension (see Settings → Order statuses)"))
        problems = []
        for field in ("status", "from_status"):
            code = getattr(settings, field)
            if code is not None and not lookups.status_exists(context.session, settings.dimension, code):
                problems.append((field, unknown))
        return problems

    def entries(self, session: Session, settings: Any, events: Sequence[Event]) -> list[Entry]:
        changes = [
            change
            for event in events
            for change in event.payload.get("changes") or ()
            if change.get("customer_id") is not None and _change_matches(settings, change)
        ]
        orders = lookups.orders_brief(session, [int(change["order_id"]) for change in changes])
        return [
            Entry(int(change["customer_id"]), _change_occurrence(change), _change_context(change, orders))
            for change in changes
        ]


def _change_matches(settings: StatusSettings, change: dict[str, Any]) -> bool:
    if change.get("dimension") != settings.dimension or change.get("to") != settings.status:
        return False
    return settings.from_status is None or change.get("from") == settings.from_status


def _change_occurrence(change: dict[str, Any]) -> str:
    return (
        f"order_status:{change['order_id']}:{change['dimension']}:{change['to']}:{change.get('changed_at')}"
    )


def _change_context(change: dict[str, Any], orders: dict[int, Any]) -> dict[str, Any]:
    order = orders.get(int(change["order_id"]))
    return {
        "order_id": change["order_id"],
        "order_number": order.number if order is not None else None,
        "order_total": str(order.total) if order is not None else None,
        "store_id": order.store_id if order is not None else None,
        "dimension": change.get("dimension"),
        "from_status": change.get("from"),
        "to_status": change.get("to"),
        "changed_at": change.get("changed_at"),
    }


class CategorySettings(Settings):
    product_category_id: RowId | None = category_field(required=True)


class _ItemsTrigger(_OrderTrigger):
    """A trigger on the lines of new orders (`ordered_items`: one query for the batch)."""

    def _wanted(self, session: Session, settings: Any) -> tuple[set[int], set[int]]:
        """The chosen products and categories."""
        raise NotImplementedError

    def entries(self, session: Session, settings: Any, events: Sequence[Event]) -> list[Entry]:
        orders = new_orders(events)
        if not orders:
            return []
        products, categories = self._wanted(session, settings)
        lines: dict[int, list[tuple[int | None, int | None]]] = {}
        for part in chunked(sorted(orders)):  # an IN list of bounded length
            lines |= ordered_items(session, part)
        matched = {
            order_id: [p for p, c in items if p in products or c in categories]
            for order_id, items in lines.items()
        }
        matched = {order_id: found for order_id, found in matched.items() if found}
        found = lookups.products(session, (p for ids in matched.values() for p in ids))
        return [
            Entry(
                int(orders[o]["customer_id"]),
                _occurrence(orders[o]),
                order_context(orders[o]) | product_context(found, ids),
            )
            for o, ids in matched.items()
        ]


@register
class ItemOrdered(_ItemsTrigger):
    name = "trigger.item_ordered"
    label = lazy("Item ordered")
    description = lazy("A new order with one of the chosen products")
    icon = "ti-shopping-cart"
    settings_model = ProductChoice

    def check(self, settings: Any, context: Any) -> list[tuple[str, str]]:
        return product_problems(context.session, settings, required=True)

    def _wanted(self, session: Session, settings: Any) -> tuple[set[int], set[int]]:
        return chosen_products(session, settings), set()


@register
class CategoryOrdered(_ItemsTrigger):
    name = "trigger.category_ordered"
    label = lazy("Item from a category ordered")
    description = lazy("A new order with a product of the chosen category or of its subcategories")
    icon = "ti-category-2"
    settings_model = CategorySettings

    def check(self, settings: Any, context: Any) -> list[tuple[str, str]]:
        return category_problems(context.session, settings.product_category_id, required=True)

    def _wanted(self, session: Session, settings: Any) -> tuple[set[int], set[int]]:
        return set(), lookups.subtree_ids(session, settings.product_category_id)
