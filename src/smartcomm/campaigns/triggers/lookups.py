"""The queries of real-time triggers: what they read of the rows a batch of domain events names (receipt
lines, web events, the segments' stream, poll responses) and of the catalogue, one query per batch.

Also the existence checks their settings need when a graph is validated.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Integer, Select, String, and_, cast, func, literal, not_, or_, select
from sqlalchemy.orm import Session

from smartcomm.campaigns.triggers.schedule import iso_text, json_object
from smartcomm.kit.bulk import chunked
from smartcomm.models import (
    Category,
    Container,
    ContainerItem,
    Customer,
    Order,
    OrderStatus,
    PollResponse,
    Product,
    ReceiptLine,
    SegmentEvent,
    SegmentMembership,
    Visitor,
    WebEvent,
)

# --- the catalogue -------------------------------------------------------------------------------------


def subtree(category_id: int) -> Select[Any]:
    """The ids of a category and of all its descendants (by the materialised path "/<id>/<id>/")."""
    return select(Category.id).where(
        or_(Category.id == category_id, Category.path.contains(f"/{category_id}/"))
    )


def subtree_ids(session: Session, category_id: int | None) -> set[int]:
    if category_id is None:
        return set()
    return set(session.scalars(subtree(category_id)))


def product_ids(session: Session, ids: Collection[int], skus: Collection[str]) -> set[int]:
    """The products chosen by id and by SKU (a SKU names its product in every catalogue that has it)."""
    found = set(ids)
    if skus:
        found |= set(session.scalars(select(Product.id).where(Product.sku.in_(sorted(set(skus))))))
    return found


def products(session: Session, ids: Iterable[int | None]) -> dict[int, dict[str, Any]]:
    """The products as a template shows them: id → {product_id, sku, name, price, url, image_url,
    category_id}."""
    wanted = sorted({each for each in ids if each is not None})
    found: dict[int, dict[str, Any]] = {}
    columns = (Product.id, Product.sku, Product.name, Product.price, Product.url, Product.image_url)
    for part in chunked(wanted):
        statement = select(*columns, Product.category_id).where(Product.id.in_(part))
        for row in session.execute(statement):
            found[row.id] = {
                "product_id": row.id,
                "sku": row.sku,
                "name": row.name,
                "price": None if row.price is None else str(row.price),
                "url": row.url,
                "image_url": row.image_url,
                "category_id": row.category_id,
            }
    return found


def products_by_sku_or_id(session: Session, skus: Collection[str], ids: Collection[int]) -> list[Any]:
    """(id, sku) of the products with these SKUs or platform ids (how a system event names products)."""
    targets = []
    if skus:
        targets.append(Product.sku.in_(sorted(set(skus))))
    if ids:
        targets.append(Product.id.in_(sorted(set(ids))))
    if not targets:
        return []
    return list(session.execute(select(Product.id, Product.sku).where(or_(*targets))))


# --- receipts ------------------------------------------------------------------------------------------


def purchased_lines(
    session: Session,
    receipt_ids: Collection[int],
    chosen_products: Collection[int] = (),
    chosen_skus: Collection[str] = (),
    category_id: int | None = None,
) -> list[Any]:
    """The purchase lines of these receipts with one of the chosen products (by id or SKU) or of the
    category and its subcategories: receipt_id, product_id, sku, category_id, quantity, amount."""
    targets = []
    if chosen_products:
        targets.append(ReceiptLine.product_id.in_(sorted(chosen_products)))
    if chosen_skus:
        targets.append(ReceiptLine.sku.in_(sorted(chosen_skus)))
    if category_id is not None:
        targets.append(ReceiptLine.category_id.in_(subtree(category_id)))
    if not targets or not receipt_ids:
        return []
    columns = (ReceiptLine.receipt_id, ReceiptLine.product_id, ReceiptLine.sku, ReceiptLine.category_id)
    rows: list[Any] = []
    for part in chunked(sorted(set(receipt_ids))):
        statement = (
            select(*columns, ReceiptLine.quantity, ReceiptLine.amount)
            .where(ReceiptLine.receipt_id.in_(part), ReceiptLine.is_purchase.is_(True), or_(*targets))
            .order_by(ReceiptLine.receipt_id, ReceiptLine.position)
        )
        rows.extend(session.execute(statement))
    return rows


# --- web events ----------------------------------------------------------------------------------------


def _attached_later() -> Any:
    """A web event that was anonymous when written and became the customer's when its visitor identified
    later (`customer.identified` attaches the visitor's history): its visitor identified as this customer
    after the event happened. Such history is the customer's now, but it is not new behaviour."""
    return and_(
        WebEvent.visitor_id.is_not(None),
        Visitor.customer_id == WebEvent.customer_id,
        Visitor.identified_at > WebEvent.occurred_at,
    )


def customer_web_events(session: Session, ids: Collection[int], kinds: Collection[str]) -> list[Any]:
    """The web events with these ids and kinds that were a customer's when they happened."""
    columns = (
        WebEvent.id,
        WebEvent.customer_id,
        WebEvent.kind,
        WebEvent.occurred_at,
        WebEvent.source_id,
        WebEvent.product_id,
        WebEvent.category_id,
        WebEvent.section,
        WebEvent.url,
        WebEvent.snapshot,
        WebEvent.context,
    )
    rows: list[Any] = []
    for part in chunked(sorted(set(ids))):
        statement = (
            select(*columns)
            .outerjoin(Visitor, Visitor.id == WebEvent.visitor_id)
            .where(
                WebEvent.id.in_(part),
                WebEvent.kind.in_(sorted(kinds)),
                WebEvent.customer_id.is_not(None),
                not_(func.coalesce(_attached_later(), False)),
            )
            .order_by(WebEvent.id)
        )
        rows.extend(session.execute(statement))
    return rows


def viewers(session: Session, chosen: Collection[int], since: datetime) -> dict[int, set[int]]:
    """Product → the customers who viewed it since then, for these products."""
    statement = select(WebEvent.product_id, WebEvent.customer_id).where(
        WebEvent.product_id.in_(sorted(chosen)),
        WebEvent.occurred_at >= since,
        WebEvent.kind == "product_view",
        WebEvent.customer_id.is_not(None),
    )
    return _by_product(session, statement.distinct(), chosen)


def holders(session: Session, chosen: Collection[int], container_code: str) -> dict[int, set[int]]:
    """Product → the customers who have it in the container now, for these products."""
    statement = (
        select(ContainerItem.product_id, ContainerItem.customer_id)
        .join(Container, Container.id == ContainerItem.container_id)
        .where(Container.code == container_code, ContainerItem.product_id.in_(sorted(chosen)))
    )
    return _by_product(session, statement, chosen)


def _by_product(session: Session, statement: Any, chosen: Collection[int]) -> dict[int, set[int]]:
    found: dict[int, set[int]] = {product_id: set() for product_id in chosen}
    if chosen:
        for product_id, customer_id in session.execute(statement):
            found[product_id].add(customer_id)
    return found


# --- segments, audiences, polls ------------------------------------------------------------------------


def segment_members(session: Session, segment_id: int) -> list[int]:
    statement = select(SegmentMembership.customer_id).where(
        SegmentMembership.segment_id == segment_id, SegmentMembership.exited_at.is_(None)
    )
    return list(session.scalars(statement.order_by(SegmentMembership.customer_id)))


def segment_stream(session: Session, segment_id: int, first_id: int, last_id: int, kind: str) -> list[Any]:
    """The segment's entries or exits (`kind`) recorded with ids first_id..last_id: id, customer_id,
    occurred_at (read through the index on segment and id)."""
    statement = (
        select(SegmentEvent.id, SegmentEvent.customer_id, SegmentEvent.occurred_at)
        .where(
            SegmentEvent.segment_id == segment_id,
            SegmentEvent.id >= first_id,
            SegmentEvent.id <= last_id,
            SegmentEvent.kind == kind,
        )
        .order_by(SegmentEvent.id)
    )
    return list(session.execute(statement))


def segment_stream_entries(segment_id: int, first_id: int, last_id: int, kind: str) -> Select[Any]:
    """The customers of the segment's entries or exits with ids first_id..last_id as a trigger's selection:
    each customer once, by their first row (its id names the occurrence), with the context the one-by-one
    path gives them."""
    first_rows = (
        select(func.min(SegmentEvent.id).label("id"))
        .where(
            SegmentEvent.segment_id == segment_id,
            SegmentEvent.id >= first_id,
            SegmentEvent.id <= last_id,
            SegmentEvent.kind == kind,
        )
        .group_by(SegmentEvent.customer_id)
        .subquery("first_rows")
    )
    context = json_object(
        segment_id=cast(literal(segment_id), Integer),
        change=cast(literal(kind), String),
        changed_at=iso_text(SegmentEvent.occurred_at).concat("+00:00"),
    )
    return select(
        SegmentEvent.customer_id,
        literal("segment_event:").concat(cast(SegmentEvent.id, String)).label("occurrence"),
        context.label("context"),
    ).join(first_rows, first_rows.c.id == SegmentEvent.id)


def poll_responses(session: Session, response_ids: Collection[int], poll_id: int) -> list[Any]:
    """The responses (id, customer_id, completed_at, answers) of these ids to the poll."""
    rows: list[Any] = []
    columns = (PollResponse.id, PollResponse.customer_id, PollResponse.completed_at, PollResponse.answers)
    for part in chunked(sorted(set(response_ids))):
        statement = select(*columns).where(PollResponse.id.in_(part), PollResponse.poll_id == poll_id)
        rows.extend(session.execute(statement.order_by(PollResponse.id)))
    return rows


def customers_matching(session: Session, customer_ids: Collection[int], condition: Any) -> set[int]:
    """Which of these customers a compiled segment-builder condition selects now."""
    found: set[int] = set()
    for part in chunked(sorted(set(customer_ids))):
        found |= set(session.scalars(select(Customer.id).where(Customer.id.in_(part), condition)))
    return found


# --- checks of settings --------------------------------------------------------------------------------


def missing_ids(session: Session, model: Any, ids: Collection[int]) -> list[int]:
    """Those of the ids that no row of the model has."""
    wanted = sorted(set(ids))
    if not wanted:
        return []
    known = set(session.scalars(select(model.id).where(model.id.in_(wanted))))
    return [each for each in wanted if each not in known]


def exists(session: Session, model: Any, row_id: int | None) -> bool:
    return row_id is None or session.get(model, row_id) is not None


def container_exists(session: Session, code: str) -> bool:
    return session.scalar(select(Container.id).where(Container.code == code)) is not None


def orders_brief(session: Session, order_ids: Collection[int]) -> dict[int, Any]:
    """id → (number, total, store_id) of these orders (the context of a status change)."""
    found: dict[int, Any] = {}
    for part in chunked(sorted(set(order_ids))):
        statement = select(Order.id, Order.number, Order.total, Order.store_id).where(Order.id.in_(part))
        found.update((row.id, row) for row in session.execute(statement))
    return found


def status_exists(session: Session, dimension: str, code: str) -> bool:
    statement = select(OrderStatus.id).where(OrderStatus.dimension == dimension, OrderStatus.code == code)
    return session.scalar(statement) is not None
