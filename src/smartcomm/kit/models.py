"""The declarative base and column types shared by every model."""

from __future__ import annotations

from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, ClassVar

from sqlalchemy import BigInteger, DateTime, Integer, MetaData, TypeDecorator
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from smartcomm.kit.time import ensure_utc, utcnow

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every backend (SQLite stores it naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        value = ensure_utc(value)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else ensure_utc(value)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime()}


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


# High-volume tables use 64-bit ids; SQLite needs plain INTEGER to keep its rowid alias (autoincrement).
BigId = BigInteger().with_variant(Integer(), "sqlite")


class FixedPoint(TypeDecorator[Decimal]):
    """An exact decimal stored as a scaled integer (money in minor units), identical on every backend.

    SQLite has no decimal type: storing integers keeps sums exact there too.
    """

    impl = BigInteger
    cache_ok = True

    def __init__(self, scale: int = 2) -> None:
        super().__init__()
        self.scale = scale
        self.factor = Decimal(10) ** scale

    def process_bind_param(self, value: Decimal | int | float | str | None, dialect: Dialect) -> int | None:
        if value is None:
            return None
        return int((Decimal(str(value)) * self.factor).to_integral_value(rounding=ROUND_HALF_UP))

    def process_result_value(self, value: int | Decimal | None, dialect: Dialect) -> Decimal | None:
        return None if value is None else self.from_units(value)

    def from_units(self, value: int | Decimal) -> Decimal:
        """The exact decimal of a stored scaled integer."""
        return (Decimal(value) / self.factor).quantize(Decimal(1).scaleb(-self.scale))

    def coerce_compared_value(self, op: Any, value: Any) -> TypeDecorator[Decimal]:
        return self


Money = FixedPoint(2)
Quantity = FixedPoint(3)
