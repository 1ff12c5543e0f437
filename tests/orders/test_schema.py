"""The orders migration creates exactly what the models declare, and starts every installation with the
usual statuses of each dimension."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select
from sqlalchemy.orm import Session

from smartcomm.kit.db import Database
from smartcomm.models import Base, OrderStatus

ORDER_TABLES = ("order_statuses", "orders", "order_lines", "order_status_changes")


def test_the_migrated_tables_match_the_models(database: Database) -> None:
    with database.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    assert [d for d in differences if any(f"'{table}'" in repr(d) for table in ORDER_TABLES)] == []


def test_the_starting_statuses_of_each_dimension(session: Session) -> None:
    rows = session.execute(
        select(
            OrderStatus.dimension, OrderStatus.code, OrderStatus.include_in_analytics, OrderStatus.is_final
        ).order_by(OrderStatus.dimension, OrderStatus.position)
    ).all()
    by_dimension: dict[str, list[str]] = {}
    for dimension, code, _analytics, _final in rows:
        by_dimension.setdefault(dimension, []).append(code)
    assert by_dimension == {
        "delivery": ["assembling", "shipped", "at_pickup_point", "delivered"],
        "general": ["new", "confirmed", "in_progress", "completed", "cancelled"],
        "payment": ["invoice_issued", "awaiting_payment", "paid", "refunded"],
    }
    left_out = {code for _dimension, code, analytics, _final in rows if not analytics}
    final = {code for _dimension, code, _analytics, is_final in rows if is_final}
    assert left_out == {"cancelled", "refunded"}
    assert final == {"completed", "cancelled", "delivered", "paid", "refunded"}
