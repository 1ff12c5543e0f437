"""SQL of what the demo's site visitors did today (see `demo.today`): the carts and views to bring up to
date, and the sessions and web events that tell of them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, exists, insert, or_, select, update
from sqlalchemy.orm import Session

from smartcomm.models import (
    ContainerItem,
    ContainerState,
    Customer,
    Order,
    Product,
    Receipt,
    Visitor,
    WebEvent,
    WebSession,
)


class SiteDemoRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def shoppers_with_cart(self, cart_id: int, quiet_since: datetime) -> list[tuple[int, str]]:
        """(customer id, visitor id) of site visitors with a usable e-mail address whose cart holds
        products and who bought nothing since `quiet_since`, by customer id."""
        statement = (
            select(ContainerState.customer_id, Visitor.id)
            .join(Visitor, Visitor.customer_id == ContainerState.customer_id)
            .join(Customer, Customer.id == ContainerState.customer_id)
            .where(ContainerState.container_id == cart_id, ContainerState.item_count > 0)
            .where(_reachable(), ~_bought_since(ContainerState.customer_id, quiet_since))
            .order_by(ContainerState.customer_id, Visitor.id)
        )
        return _first_visitor(self.session.execute(statement))

    def shoppers_without_cart(self, cart_id: int, quiet_since: datetime) -> list[tuple[int, str]]:
        """(customer id, visitor id) of site visitors with a usable e-mail address and an empty cart who
        bought nothing since `quiet_since`, by customer id."""
        in_cart = exists().where(
            ContainerState.customer_id == Visitor.customer_id,
            ContainerState.container_id == cart_id,
            ContainerState.item_count > 0,
        )
        statement = (
            select(Visitor.customer_id, Visitor.id)
            .join(Customer, Customer.id == Visitor.customer_id)
            .where(Visitor.customer_id.is_not(None), ~in_cart, _reachable())
            .where(~_bought_since(Visitor.customer_id, quiet_since))
            .order_by(Visitor.customer_id, Visitor.id)
        )
        return _first_visitor(self.session.execute(statement))

    def newest_item(self, customer_ids: Sequence[int], cart_id: int) -> dict[int, int]:
        """The product each customer put into the cart last."""
        statement = (
            select(ContainerItem.customer_id, ContainerItem.product_id)
            .where(ContainerItem.customer_id.in_(list(customer_ids)), ContainerItem.container_id == cart_id)
            .order_by(ContainerItem.customer_id, ContainerItem.added_at, ContainerItem.product_id)
        )
        return {int(customer): int(product) for customer, product in self.session.execute(statement)}

    def product_ids(self) -> list[int]:
        """The catalogue's active products, by id."""
        statement = select(Product.id).where(Product.is_active.is_(True)).order_by(Product.id)
        return [int(id_) for id_ in self.session.scalars(statement)]

    def products(self, product_ids: Sequence[int]) -> dict[int, tuple[str, str, Any, int | None]]:
        """(sku, name, price, category id) of these products."""
        statement = select(Product.id, Product.sku, Product.name, Product.price, Product.category_id).where(
            Product.id.in_(list(product_ids))
        )
        return {int(row[0]): (row[1], row[2], row[3], row[4]) for row in self.session.execute(statement)}

    def touch_cart(self, customer_id: int, cart_id: int, product_id: int, at: datetime) -> None:
        """The customer's cart last changed at `at`, when the product went in (again)."""
        self.session.execute(
            update(ContainerState)
            .where(ContainerState.customer_id == customer_id, ContainerState.container_id == cart_id)
            .values(changed_at=at)
        )
        self.session.execute(
            update(ContainerItem)
            .where(
                ContainerItem.customer_id == customer_id,
                ContainerItem.container_id == cart_id,
                ContainerItem.product_id == product_id,
            )
            .values(added_at=at)
        )

    def add_session(self, row: dict[str, Any], events: Sequence[dict[str, Any]]) -> None:
        """A web session with its events; the visitor was last seen at its end."""
        table: Any = WebSession.__table__
        session_id = self.session.execute(insert(table).returning(table.c.id), row).scalar_one()
        self.session.execute(insert(WebEvent), [event | {"session_id": session_id} for event in events])
        self.session.execute(
            update(Visitor).where(Visitor.id == row["visitor_id"]).values(last_seen_at=row["last_event_at"])
        )


def _reachable() -> Any:
    return and_(Customer.email.is_not(None), Customer.email_valid.is_(True), Customer.allow_email.is_(True))


def _bought_since(customer_id: Any, since: datetime) -> Any:
    return or_(
        exists().where(Receipt.customer_id == customer_id, Receipt.purchased_at >= since),
        exists().where(Order.customer_id == customer_id, Order.created_at >= since),
    )


def _first_visitor(rows: Any) -> list[tuple[int, str]]:
    found: dict[int, str] = {}
    for customer_id, visitor_id in rows:
        found.setdefault(int(customer_id), str(visitor_id))
    return list(found.items())
