"""The SQL behind render contexts: everything a batch of recipients needs, in a fixed number of queries.

A mass mailing renders a hundred thousand messages, so nothing here runs per customer: each query
takes the whole batch (ids in chunks of `CHUNK`), and the last receipts of every customer come from
one window-function query that reads the (customer, time) index.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from smartcomm.models import (
    Container,
    ContainerItem,
    ContainerState,
    Customer,
    CustomerRfm,
    FieldDefinition,
    Product,
    Receipt,
    ReceiptLine,
    Store,
)

CHUNK = 1000  # ids per IN list: far below the parameter limits of SQLite (32,766) and PostgreSQL


def chunked(ids: Sequence[int]) -> Iterator[list[int]]:
    for start in range(0, len(ids), CHUNK):
        yield list(ids[start : start + CHUNK])


class ContextRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def customers(self, ids: Sequence[int]) -> list[Customer]:
        return list(self.session.scalars(select(Customer).where(Customer.id.in_(ids))))

    def rfm(self, ids: Sequence[int]) -> list[CustomerRfm]:
        return list(self.session.scalars(select(CustomerRfm).where(CustomerRfm.customer_id.in_(ids))))

    def last_receipts(self, ids: Sequence[int], per_customer: int) -> list[Any]:
        """The newest `per_customer` receipts of each customer, with the store's name."""
        ranked = self._ranked_receipts(ids).subquery()
        statement = (
            select(ranked).where(ranked.c.rank <= per_customer).order_by(ranked.c.customer_id, ranked.c.rank)
        )
        return list(self.session.execute(statement))

    def lines_of_last_receipts(self, ids: Sequence[int], per_customer: int) -> list[Any]:
        """The lines of those receipts with their product's name, image and link, in receipt order."""
        ranked = self._ranked_receipts(ids).subquery()
        chosen = select(ranked.c.id).where(ranked.c.rank <= per_customer)
        statement = (
            select(
                ReceiptLine.receipt_id,
                ReceiptLine.position,
                ReceiptLine.sku,
                ReceiptLine.quantity,
                ReceiptLine.price,
                ReceiptLine.amount,
                ReceiptLine.discount,
                Product.name,
                Product.image_url,
                Product.url,
            )
            .outerjoin(Product, Product.id == ReceiptLine.product_id)
            .where(ReceiptLine.receipt_id.in_(chosen))
            .order_by(ReceiptLine.receipt_id, ReceiptLine.position, ReceiptLine.id)
        )
        return list(self.session.execute(statement))

    def _ranked_receipts(self, ids: Sequence[int]) -> Any:
        rank = (
            func.row_number()
            .over(partition_by=Receipt.customer_id, order_by=(Receipt.purchased_at.desc(), Receipt.id.desc()))
            .label("rank")
        )
        return (
            select(
                Receipt.id,
                Receipt.customer_id,
                Receipt.number,
                Receipt.purchased_at,
                Receipt.status,
                Receipt.total,
                Receipt.discount,
                Receipt.bonus_earned,
                Receipt.bonus_spent,
                Receipt.item_count,
                Receipt.custom,
                Store.name.label("store"),
                rank,
            )
            .join(Store, Store.id == Receipt.store_id)
            .where(Receipt.customer_id.in_(ids))
        )

    def containers(self) -> list[Container]:
        return list(self.session.scalars(select(Container).order_by(Container.id)))

    def container_states(self, ids: Sequence[int]) -> list[ContainerState]:
        return list(self.session.scalars(select(ContainerState).where(ContainerState.customer_id.in_(ids))))

    def container_products(self, ids: Sequence[int]) -> list[Any]:
        """Every product in the customers' containers, most recently added first."""
        statement = (
            select(
                ContainerItem.customer_id,
                ContainerItem.container_id,
                ContainerItem.quantity,
                ContainerItem.price.label("item_price"),
                Product.sku,
                Product.name,
                Product.price,
                Product.image_url,
                Product.url,
            )
            .join(Product, Product.id == ContainerItem.product_id)
            .where(ContainerItem.customer_id.in_(ids))
            .order_by(ContainerItem.customer_id, ContainerItem.added_at.desc(), Product.id)
        )
        return list(self.session.execute(statement))

    def custom_fields(self) -> list[FieldDefinition]:
        """The customer's custom fields (codes and types): what `client.custom` can hold."""
        statement = select(FieldDefinition).where(
            FieldDefinition.object == "customer", FieldDefinition.is_system.is_(False)
        )
        return list(self.session.scalars(statement.order_by(FieldDefinition.profile_order)))

    def sample_products(self, limit: int) -> list[Product]:
        """A few active products with pictures, for the test customer's receipts and containers."""
        statement = (
            select(Product)
            .where(Product.is_active.is_(True), Product.price.is_not(None))
            .order_by(Product.image_url.is_(None), Product.id)
            .limit(limit)
        )
        return list(self.session.scalars(statement))
