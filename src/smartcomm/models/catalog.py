"""The product catalogue: classifiers (catalogue versions), category trees, products, stores."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from smartcomm.kit.models import Base, BigId, Money, Quantity, TimestampMixin
from smartcomm.kit.time import utcnow

SYSTEM_CLASSIFIER_CODE = "default"


class Classifier(Base):
    """A version of the product catalogue (e.g. online shop vs stores); a system one always exists."""

    __tablename__ = "classifiers"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    is_system: Mapped[bool] = mapped_column(default=False)
    for_tracker: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Category(Base):
    """A node of a classifier's category tree; `path` (/1/5/9/) finds a whole subtree with one prefix."""

    __tablename__ = "categories"
    __table_args__ = (
        UniqueConstraint("classifier_id", "code"),
        Index("ix_categories_path", "path"),
        Index("ix_categories_parent", "parent_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    classifier_id: Mapped[int] = mapped_column(ForeignKey("classifiers.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id", ondelete="SET NULL"))
    path: Mapped[str] = mapped_column(String(512), default="/")
    custom: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Product(TimestampMixin, Base):
    __tablename__ = "products"
    __table_args__ = (UniqueConstraint("classifier_id", "sku"), Index("ix_products_category", "category_id"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    classifier_id: Mapped[int] = mapped_column(ForeignKey("classifiers.id", ondelete="CASCADE"))
    sku: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(300))
    price: Mapped[Decimal | None] = mapped_column(Money)
    stock: Mapped[Decimal | None] = mapped_column(Quantity)
    category_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id", ondelete="SET NULL"))
    url: Mapped[str | None] = mapped_column(String(1000))
    image_url: Mapped[str | None] = mapped_column(String(1000))
    is_active: Mapped[bool] = mapped_column(default=True)
    custom: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class Store(TimestampMixin, Base):
    __tablename__ = "stores"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    city: Mapped[str | None] = mapped_column(String(100))
    region: Mapped[str | None] = mapped_column(String(100))
    address: Mapped[str | None] = mapped_column(String(300))
    time_zone: Mapped[str | None] = mapped_column(String(64))
    is_online: Mapped[bool] = mapped_column(default=False)
    is_active: Mapped[bool] = mapped_column(default=True)
