"""Containers: named per-customer product lists (cart, favourites, wishlist, notify on arrival, …)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from smartcomm.kit.models import Base, Money, Quantity
from smartcomm.kit.time import utcnow

CART_CODE = "cart"


class Container(Base):
    """A kind of list defined in Settings → Containers."""

    __tablename__ = "containers"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(String(500))
    is_system: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ContainerState(Base):
    """One customer's list of one kind, with the time of its last change."""

    __tablename__ = "container_states"
    __table_args__ = (Index("ix_container_states_changed", "container_id", "changed_at"),)

    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True)
    container_id: Mapped[int] = mapped_column(
        ForeignKey("containers.id", ondelete="CASCADE"), primary_key=True
    )
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    item_count: Mapped[int] = mapped_column(default=0)


class ContainerItem(Base):
    __tablename__ = "container_items"
    __table_args__ = (Index("ix_container_items_product", "product_id"),)

    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True)
    container_id: Mapped[int] = mapped_column(
        ForeignKey("containers.id", ondelete="CASCADE"), primary_key=True
    )
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"), primary_key=True)
    quantity: Mapped[Decimal] = mapped_column(Quantity, default=Decimal("1"))
    price: Mapped[Decimal | None] = mapped_column(Money)
    added_at: Mapped[datetime] = mapped_column(default=utcnow)
