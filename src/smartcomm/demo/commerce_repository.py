"""SQL of the demo's orders and bonus data: the online receipts the orders repeat, their lines, the dated
status history, and the bonus balances the loyalty system would send (see `demo.orders`, `demo.bonuses`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import bindparam, case, delete, func, insert, literal, or_, select, update
from sqlalchemy.orm import Session

from smartcomm.demo.places import ONLINE_STORE_CODE
from smartcomm.models import (
    Customer,
    LoyaltyAccount,
    Order,
    OrderStatusChange,
    Product,
    Receipt,
    ReceiptLine,
    Store,
)

CHUNK = 900


@dataclass(frozen=True)
class OnlineReceipt:
    id: int
    number: str
    customer_id: int
    store_id: int
    purchased_at: datetime
    status: str
    bonus_earned: Decimal
    bonus_spent: Decimal
    city: str | None


@dataclass(frozen=True)
class ReceiptItem:
    product_id: int | None
    category_id: int | None
    sku: str
    name: str | None
    quantity: Decimal
    price: Decimal
    amount: Decimal
    discount: Decimal


class CommerceRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    # --- orders ----------------------------------------------------------------------------------------

    def online_receipts(self, every: int, latest: int) -> list[OnlineReceipt]:
        """Every `every`-th receipt of the online store (by id) and its `latest` newest ones, in id order."""
        online = select(Store.id).where(Store.code == ONLINE_STORE_CODE).scalar_subquery()
        newest = (
            select(Receipt.id)
            .where(Receipt.store_id == online)
            .order_by(Receipt.purchased_at.desc(), Receipt.id.desc())
            .limit(latest)
        )
        statement = (
            select(
                Receipt.id,
                Receipt.number,
                Receipt.customer_id,
                Receipt.store_id,
                Receipt.purchased_at,
                Receipt.status,
                Receipt.bonus_earned,
                Receipt.bonus_spent,
                Customer.city,
            )
            .join(Customer, Customer.id == Receipt.customer_id)
            .where(Receipt.store_id == online)
            .where(or_(Receipt.id % every == 0, Receipt.id.in_(newest)))
            .order_by(Receipt.id)
        )
        return [OnlineReceipt(*row) for row in self.session.execute(statement)]

    def online_count(self) -> int:
        online = select(Store.id).where(Store.code == ONLINE_STORE_CODE).scalar_subquery()
        return int(self.session.scalar(select(func.count()).where(Receipt.store_id == online)) or 0)

    def receipt_items(self, receipt_ids: Sequence[int]) -> dict[int, list[ReceiptItem]]:
        """The lines of these receipts in order, with the product's name."""
        found: dict[int, list[ReceiptItem]] = {}
        for start in range(0, len(receipt_ids), CHUNK):
            part = list(receipt_ids[start : start + CHUNK])
            statement = (
                select(
                    ReceiptLine.receipt_id,
                    ReceiptLine.product_id,
                    ReceiptLine.category_id,
                    ReceiptLine.sku,
                    Product.name,
                    ReceiptLine.quantity,
                    ReceiptLine.price,
                    ReceiptLine.amount,
                    ReceiptLine.discount,
                )
                .outerjoin(Product, Product.id == ReceiptLine.product_id)
                .where(ReceiptLine.receipt_id.in_(part))
                .order_by(ReceiptLine.receipt_id, ReceiptLine.position)
            )
            for row in self.session.execute(statement):
                item = ReceiptItem(row[1], row[2], row[3], row[4], row[5], row[6], row[7], row[8])
                found.setdefault(int(row[0]), []).append(item)
        return found

    def replace_history(self, order_ids: Sequence[int], rows: Sequence[dict[str, Any]]) -> None:
        """The orders' status history as it happened (the writer records one change per dimension, now)."""
        for start in range(0, len(order_ids), CHUNK):
            part = list(order_ids[start : start + CHUNK])
            self.session.execute(delete(OrderStatusChange).where(OrderStatusChange.order_id.in_(part)))
        if rows:  # the table, not the model: one executemany, not a statement per row
            table: Any = OrderStatusChange.__table__
            self.session.execute(insert(table), list(rows))

    def date_orders(self, rows: Sequence[tuple[int, datetime]]) -> None:
        """Each order was last written when its latest status came (order id, moment)."""
        if not rows:
            return
        table: Any = Order.__table__
        statement = update(table).where(table.c.id == bindparam("o_id")).values(updated_at=bindparam("o_at"))
        self.session.execute(statement, [{"o_id": id_, "o_at": at} for id_, at in rows])

    # --- bonuses ---------------------------------------------------------------------------------------

    def write_balances(self, as_of: datetime, sent_at: datetime) -> int:
        """Every card holder's bonus balance, as the loyalty system sends it: the bonuses earned on paid
        receipts of the last year less those spent (earlier ones expired), never below zero; one
        statement. Returns how many customers got a balance."""
        year_ago = as_of - timedelta(days=365)
        net = func.coalesce(func.sum(Receipt.bonus_earned - Receipt.bonus_spent), 0)
        earned = (
            select(Receipt.customer_id, net.label("net"))
            .where(Receipt.status == "paid", Receipt.purchased_at >= year_ago, Receipt.purchased_at < as_of)
            .group_by(Receipt.customer_id)
            .subquery()
        )
        amount = func.coalesce(earned.c.net, 0)
        balance = case((amount > 0, amount), else_=0)
        sent = literal(sent_at, LoyaltyAccount.__table__.c.bonus_updated_at.type)
        source = (
            select(Customer.id, balance, sent, literal(0))
            .outerjoin(earned, earned.c.customer_id == Customer.id)
            .where(Customer.card_status == "active")
        )
        columns = ["customer_id", "bonus_balance", "bonus_updated_at", "points_balance"]
        result = self.session.execute(
            insert(LoyaltyAccount).from_select(columns, source).execution_options(preserve_rowcount=True)
        )
        return int(getattr(result, "rowcount", 0) or 0)

    def balances_at_least(self, minimum: Decimal) -> list[tuple[int, Decimal]]:
        """(customer id, balance) of the customers whose bonus balance is at least `minimum`, by id."""
        statement = (
            select(LoyaltyAccount.customer_id, LoyaltyAccount.bonus_balance)
            .where(LoyaltyAccount.bonus_balance >= minimum)
            .order_by(LoyaltyAccount.customer_id)
        )
        return [(int(id_), Decimal(balance or 0)) for id_, balance in self.session.execute(statement)]
