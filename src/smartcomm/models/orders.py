"""Orders (the optional e-commerce module): an order is mutable, unlike a receipt, and carries three
independent status dimensions — general, delivery and payment — whose values come from a dictionary.

An order refers to its statuses by id: the database itself refuses to delete a status still in use, and
a status's code may be corrected without touching a single order. The history of changes keeps the codes
as they were at the time (`OrderStatusChange`), so it reads the same after a code is renamed.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from smartcomm.kit.models import Base, BigId, Money, Quantity, TimestampMixin
from smartcomm.kit.time import utcnow

DIMENSIONS = ("general", "delivery", "payment")
DELIVERY_TYPES = ("courier", "pickup", "pickup_point")
PAYMENT_TYPES = ("card", "cash", "cash_on_delivery")


class OrderStatus(TimestampMixin, Base):
    """One value of one status dimension; the API and imports name it by `code`."""

    __tablename__ = "order_statuses"
    __table_args__ = (UniqueConstraint("dimension", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    dimension: Mapped[str] = mapped_column(String(16))
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    # Orders in a status without this flag are left out of the segment builder's order metrics.
    include_in_analytics: Mapped[bool] = mapped_column(default=True)
    # The order's story ends here (completed, cancelled, delivered, refunded …).
    is_final: Mapped[bool] = mapped_column(default=False)
    position: Mapped[int] = mapped_column(default=0)


class Order(Base):
    """An order, unique by its number in the shop's system; sending it again replaces it."""

    __tablename__ = "orders"
    __table_args__ = (
        UniqueConstraint("number"),
        # The per-customer order metrics read this index alone, customer by customer.
        Index("ix_orders_customer_created", "customer_id", "created_at", "in_analytics", "total"),
        Index("ix_orders_created_at", "created_at"),
        # The list's status filters, and "is this status still in use".
        Index("ix_orders_general_status", "general_status_id", "created_at"),
        Index("ix_orders_delivery_status", "delivery_status_id", "created_at"),
        Index("ix_orders_payment_status", "payment_status_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    number: Mapped[str] = mapped_column(String(64))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    store_id: Mapped[int | None] = mapped_column(ForeignKey("stores.id", ondelete="SET NULL"))
    # When the customer placed the order (as the shop says), and when it was last written here.
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    general_status_id: Mapped[int | None] = mapped_column(
        ForeignKey("order_statuses.id", ondelete="RESTRICT")
    )
    delivery_status_id: Mapped[int | None] = mapped_column(
        ForeignKey("order_statuses.id", ondelete="RESTRICT")
    )
    payment_status_id: Mapped[int | None] = mapped_column(
        ForeignKey("order_statuses.id", ondelete="RESTRICT")
    )
    # False while any of the order's statuses is excluded from analytics; kept on every write and when a
    # status's flag changes, so the segment metrics filter on the order row alone.
    in_analytics: Mapped[bool] = mapped_column(default=True)
    total: Mapped[Decimal] = mapped_column(Money)
    cash_part: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    bonus_part: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    delivery_cost: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    discount: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    delivery_type: Mapped[str | None] = mapped_column(String(16))
    carrier: Mapped[str | None] = mapped_column(String(200))
    country: Mapped[str | None] = mapped_column(String(100))
    city: Mapped[str | None] = mapped_column(String(200))
    street: Mapped[str | None] = mapped_column(String(500))
    delivery_at: Mapped[datetime | None]
    customer_note: Mapped[str | None] = mapped_column(Text)
    payment_type: Mapped[str | None] = mapped_column(String(24))
    payment_provider: Mapped[str | None] = mapped_column(String(200))


class OrderLine(Base):
    """A line of an order: the product when its SKU is in the catalogue (and the product's category at
    the time), the SKU and name as the shop sent them, and the line's amounts."""

    __tablename__ = "order_lines"
    __table_args__ = (
        Index("ix_order_lines_order", "order_id", "position"),
        # "Ordered the product / from the category": lines of the product, then their orders.
        Index("ix_order_lines_product", "product_id", "order_id"),
        Index("ix_order_lines_category", "category_id", "order_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(default=1)
    product_id: Mapped[int | None] = mapped_column(ForeignKey("products.id", ondelete="SET NULL"))
    category_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id", ondelete="SET NULL"))
    sku: Mapped[str] = mapped_column(String(64))
    name: Mapped[str | None] = mapped_column(String(300))
    quantity: Mapped[Decimal] = mapped_column(Quantity)
    price: Mapped[Decimal] = mapped_column(Money)
    amount: Mapped[Decimal] = mapped_column(Money)
    weight: Mapped[Decimal | None] = mapped_column(Quantity)
    discount: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    bonus_accrued: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    bonus_redeemed: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    cash_part: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))


class OrderStatusChange(Base):
    """One change of one status dimension of an order (None: the dimension had, or has, no status)."""

    __tablename__ = "order_status_changes"
    __table_args__ = (Index("ix_order_status_changes_order", "order_id", "changed_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    dimension: Mapped[str] = mapped_column(String(16))
    from_code: Mapped[str | None] = mapped_column(String(64))
    to_code: Mapped[str | None] = mapped_column(String(64))
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)
