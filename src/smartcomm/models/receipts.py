"""Purchase receipts and their lines. A receipt is unique by (store, number): re-sending one replaces it."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from smartcomm.kit.models import Base, BigId, Money, Quantity, TimestampMixin

# Statuses that count as a purchase in the customer's aggregates, RFM and segments.
PURCHASE_STATUSES = ("paid",)
RECEIPT_STATUSES = ("paid", "returned", "cancelled")


class Receipt(TimestampMixin, Base):
    __tablename__ = "receipts"
    __table_args__ = (
        UniqueConstraint("store_id", "number"),
        # Covers the per-customer aggregates and RFM: they read the index alone, in customer order.
        Index("ix_receipts_customer_purchased", "customer_id", "purchased_at", "status", "total"),
        Index("ix_receipts_purchased_at", "purchased_at"),
        Index("ix_receipts_number", "number"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    number: Mapped[str] = mapped_column(String(64))
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    purchased_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16), default="paid")
    total: Mapped[Decimal] = mapped_column(Money)
    discount: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    bonus_earned: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    bonus_spent: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    item_count: Mapped[Decimal] = mapped_column(Quantity, default=Decimal("0"))
    custom: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Promo codes presented at the till (redeemed when the receipt is written); None when there were none.
    promo_codes: Mapped[list[str] | None] = mapped_column(JSON)


class ReceiptLine(Base):
    """A receipt line. Customer, time, status and category are copied from the receipt and the product
    at purchase time, so "bought X in the last N days" is answered from this table alone.

    Only the receipt is a foreign key. The copied customer, product and category ids are not: every
    writer takes them from the receipt and the catalogue it has just looked up, and a check per line and
    reference cost bulk loads most of their time on PostgreSQL. A line keeps the ids it was sold with."""

    __tablename__ = "receipt_lines"
    __table_args__ = (
        Index("ix_receipt_lines_receipt", "receipt_id"),
        Index("ix_receipt_lines_customer_purchased", "customer_id", "purchased_at"),
        Index("ix_receipt_lines_product_purchased", "product_id", "purchased_at"),
        Index("ix_receipt_lines_category_purchased", "category_id", "purchased_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    receipt_id: Mapped[int] = mapped_column(ForeignKey("receipts.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(default=1)
    customer_id: Mapped[int]
    purchased_at: Mapped[datetime]
    is_purchase: Mapped[bool] = mapped_column(default=True)
    product_id: Mapped[int | None]
    category_id: Mapped[int | None]
    sku: Mapped[str] = mapped_column(String(64))
    quantity: Mapped[Decimal] = mapped_column(Quantity)
    price: Mapped[Decimal] = mapped_column(Money)
    amount: Mapped[Decimal] = mapped_column(Money)
    discount: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    custom: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
