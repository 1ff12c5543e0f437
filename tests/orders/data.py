"""Random orders for segment tests: every customer 0–4 orders at random times, statuses of every dimension
(or none), lines of catalogue products and of an unknown SKU — written through the orders' writer, then one
status left out of analytics afterwards, so that the flag kept on the orders is exercised both ways."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from smartcomm.audit.actor import Actor
from smartcomm.models import OrderStatus, Product
from smartcomm.models.orders import DIMENSIONS
from smartcomm.orders.book import StatusBook
from smartcomm.orders.schemas import OrderStatusUpdate
from smartcomm.orders.statuses import order_status_service
from smartcomm.orders.writer import LineRecord, OrderRecord, OrderWriter

ACTOR = Actor.system("tests")
UNKNOWN_SKU = "NOT-IN-CATALOGUE"
# Status codes a condition may name (every dimension's, and one nobody has).
STATUS_CODES = (
    "new",
    "confirmed",
    "completed",
    "cancelled",
    "shipped",
    "delivered",
    "paid",
    "refunded",
    "lost",
)


def write_orders(
    session: Session, rng: random.Random, customer_ids: Sequence[int], moment: Callable[[], datetime]
) -> list[int]:
    """Orders of the customers (ids returned); "confirmed" is left out of analytics once they are written."""
    statuses = session.scalars(select(OrderStatus)).all()
    by_dimension = {d: [s.id for s in statuses if s.dimension == d] for d in DIMENSIONS}
    products = [(p.sku, p.id, p.category_id) for p in session.scalars(select(Product).order_by(Product.id))]
    products.append((UNKNOWN_SKU, None, None))
    records = [
        _order(rng, customer_id, number, moment(), by_dimension, products)
        for number, customer_id in enumerate(c for c in customer_ids for _ in range(rng.randint(0, 4)))
    ]
    result = OrderWriter(session, StatusBook(statuses)).write(records, publish_events=False)
    confirmed = next(s for s in statuses if s.code == "confirmed")
    order_status_service.update(session, ACTOR, confirmed.id, OrderStatusUpdate(include_in_analytics=False))
    return result.ids


def _order(
    rng: random.Random,
    customer_id: int,
    number: int,
    at: datetime,
    by_dimension: dict[str, list[int]],
    products: list[tuple[str, int | None, int | None]],
) -> OrderRecord:
    lines = []
    for _ in range(rng.randint(1, 3)):
        sku, product_id, category_id = rng.choice(products)
        price = Decimal(rng.randint(1, 50_000)) / 100
        lines.append(
            LineRecord(sku, Decimal(1), price, price, product_id=product_id, category_id=category_id)
        )
    status_ids = {d: rng.choice([None, *ids]) for d, ids in by_dimension.items()}
    total = sum((line.amount for line in lines), Decimal("0"))
    return OrderRecord(f"RND-{number}", customer_id, at, total, status_ids=status_ids, lines=lines)
