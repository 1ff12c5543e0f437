"""orders with lines and three status dimensions, status dictionaries

Revision ID: 2026_12_06_orders
Revises: 2026_12_06_promocodes_polls
Created: 2026-12-06 13:00:00
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "2026_12_06_orders"
down_revision = "2026_12_06_promocodes_polls"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
MONEY = sa.BigInteger()  # kit.models.Money: minor units

# (dimension, code, English name, include in analytics, final). The interface shows the names
# translated while they are still these (orders/display.py).
STARTING_STATUSES = (
    ("general", "new", "New", True, False),
    ("general", "confirmed", "Confirmed", True, False),
    ("general", "in_progress", "In progress", True, False),
    ("general", "completed", "Completed", True, True),
    ("general", "cancelled", "Cancelled", False, True),
    ("delivery", "assembling", "Assembling", True, False),
    ("delivery", "shipped", "Shipped", True, False),
    ("delivery", "at_pickup_point", "At the pickup point", True, False),
    ("delivery", "delivered", "Delivered", True, True),
    ("payment", "invoice_issued", "Invoice issued", True, False),
    ("payment", "awaiting_payment", "Awaiting payment", True, False),
    ("payment", "paid", "Paid", True, True),
    ("payment", "refunded", "Refunded", False, True),
)


def upgrade() -> None:
    statuses = _create_statuses()
    _create_orders()
    _create_lines()
    _create_changes()
    _seed(statuses)


def _create_statuses() -> sa.Table:
    return op.create_table(
        "order_statuses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dimension", sa.String(length=16), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("include_in_analytics", sa.Boolean(), nullable=False),
        sa.Column("is_final", sa.Boolean(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_statuses")),
        sa.UniqueConstraint("dimension", "code", name=op.f("uq_order_statuses_dimension_code")),
    )


def _status_key(column: str) -> sa.Column[int]:
    return sa.Column(column, sa.Integer(), nullable=True)


def _create_orders() -> None:
    op.create_table(
        "orders",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("number", sa.String(length=64), nullable=False),
        sa.Column("customer_id", BIG_ID, nullable=False),
        sa.Column("store_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        _status_key("general_status_id"),
        _status_key("delivery_status_id"),
        _status_key("payment_status_id"),
        sa.Column("in_analytics", sa.Boolean(), nullable=False),
        sa.Column("total", MONEY, nullable=False),
        sa.Column("cash_part", MONEY, nullable=False),
        sa.Column("bonus_part", MONEY, nullable=False),
        sa.Column("delivery_cost", MONEY, nullable=False),
        sa.Column("discount", MONEY, nullable=False),
        sa.Column("delivery_type", sa.String(length=16), nullable=True),
        sa.Column("carrier", sa.String(length=200), nullable=True),
        sa.Column("country", sa.String(length=100), nullable=True),
        sa.Column("city", sa.String(length=200), nullable=True),
        sa.Column("street", sa.String(length=500), nullable=True),
        sa.Column("delivery_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("customer_note", sa.Text(), nullable=True),
        sa.Column("payment_type", sa.String(length=24), nullable=True),
        sa.Column("payment_provider", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_orders_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["store_id"], ["stores.id"], name=op.f("fk_orders_store_id_stores"), ondelete="SET NULL"
        ),
        *(
            sa.ForeignKeyConstraint(
                [f"{dimension}_status_id"],
                ["order_statuses.id"],
                name=op.f(f"fk_orders_{dimension}_status_id_order_statuses"),
                ondelete="RESTRICT",
            )
            for dimension in ("general", "delivery", "payment")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_orders")),
        sa.UniqueConstraint("number", name=op.f("uq_orders_number")),
    )
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.create_index(
            "ix_orders_customer_created", ["customer_id", "created_at", "in_analytics", "total"], unique=False
        )
        batch_op.create_index("ix_orders_created_at", ["created_at"], unique=False)
        for dimension in ("general", "delivery", "payment"):
            batch_op.create_index(
                f"ix_orders_{dimension}_status", [f"{dimension}_status_id", "created_at"], unique=False
            )


def _create_lines() -> None:
    op.create_table(
        "order_lines",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("order_id", BIG_ID, nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("product_id", BIG_ID, nullable=True),
        sa.Column("category_id", sa.Integer(), nullable=True),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=True),
        sa.Column("quantity", sa.BigInteger(), nullable=False),
        sa.Column("price", MONEY, nullable=False),
        sa.Column("amount", MONEY, nullable=False),
        sa.Column("weight", sa.BigInteger(), nullable=True),
        sa.Column("discount", MONEY, nullable=False),
        sa.Column("bonus_accrued", MONEY, nullable=False),
        sa.Column("bonus_redeemed", MONEY, nullable=False),
        sa.Column("cash_part", MONEY, nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_order_lines_order_id_orders"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
            name=op.f("fk_order_lines_product_id_products"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["category_id"],
            ["categories.id"],
            name=op.f("fk_order_lines_category_id_categories"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_lines")),
    )
    with op.batch_alter_table("order_lines", schema=None) as batch_op:
        batch_op.create_index("ix_order_lines_order", ["order_id", "position"], unique=False)
        batch_op.create_index("ix_order_lines_product", ["product_id", "order_id"], unique=False)
        batch_op.create_index("ix_order_lines_category", ["category_id", "order_id"], unique=False)


def _create_changes() -> None:
    op.create_table(
        "order_status_changes",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("order_id", BIG_ID, nullable=False),
        sa.Column("dimension", sa.String(length=16), nullable=False),
        sa.Column("from_code", sa.String(length=64), nullable=True),
        sa.Column("to_code", sa.String(length=64), nullable=True),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders.id"],
            name=op.f("fk_order_status_changes_order_id_orders"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_status_changes")),
    )
    with op.batch_alter_table("order_status_changes", schema=None) as batch_op:
        batch_op.create_index("ix_order_status_changes_order", ["order_id", "changed_at"], unique=False)


def _seed(statuses: sa.Table) -> None:
    now = datetime.now(UTC)
    # SQLite keeps naive UTC (kit.models.UTCDateTime); PostgreSQL takes the aware value.
    stamp = now.replace(tzinfo=None) if op.get_bind().dialect.name == "sqlite" else now
    positions: dict[str, int] = {}
    rows = []
    for dimension, code, name, analytics, final in STARTING_STATUSES:
        positions[dimension] = positions.get(dimension, 0) + 1
        rows.append(
            {
                "dimension": dimension,
                "code": code,
                "name": name,
                "include_in_analytics": analytics,
                "is_final": final,
                "position": positions[dimension],
                "created_at": stamp,
                "updated_at": stamp,
            }
        )
    op.bulk_insert(statuses, rows)


def downgrade() -> None:
    with op.batch_alter_table("order_status_changes", schema=None) as batch_op:
        batch_op.drop_index("ix_order_status_changes_order")
    op.drop_table("order_status_changes")
    with op.batch_alter_table("order_lines", schema=None) as batch_op:
        batch_op.drop_index("ix_order_lines_category")
        batch_op.drop_index("ix_order_lines_product")
        batch_op.drop_index("ix_order_lines_order")
    op.drop_table("order_lines")
    with op.batch_alter_table("orders", schema=None) as batch_op:
        for dimension in ("payment", "delivery", "general"):
            batch_op.drop_index(f"ix_orders_{dimension}_status")
        batch_op.drop_index("ix_orders_created_at")
        batch_op.drop_index("ix_orders_customer_created")
    op.drop_table("orders")
    op.drop_table("order_statuses")
