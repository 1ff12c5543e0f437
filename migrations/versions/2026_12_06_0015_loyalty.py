"""loyalty connector: bonus balances, points and accrual requests

Revision ID: 2026_12_06_loyalty
Revises: 2026_12_06_site_tracker
Created: 2026-12-06 13:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "2026_12_06_loyalty"
down_revision = "2026_12_06_site_tracker"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _customer(table: str) -> list[sa.SchemaItem]:
    # Never generated: loyalty_accounts keys its rows by the customer (autoincrement=False, no serial).
    return [
        sa.Column("customer_id", BIG_ID, nullable=False, autoincrement=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f(f"fk_{table}_customer_id_customers"),
            ondelete="CASCADE",
        ),
    ]


def _source() -> list[sa.Column[object]]:
    return [
        sa.Column("source_kind", sa.String(length=32), nullable=False),
        sa.Column("source_id", sa.String(length=64), nullable=True),
        sa.Column("part", sa.String(length=64), nullable=True),
        sa.Column("key", sa.String(length=200), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "loyalty_accounts",
        *_customer("loyalty_accounts"),
        sa.Column("bonus_balance", sa.BigInteger(), nullable=True),
        sa.Column("bonus_updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("points_balance", sa.BigInteger(), nullable=False),
        sa.Column("points_updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("customer_id", name=op.f("pk_loyalty_accounts")),
    )
    op.create_table(
        "bonus_expirations",
        sa.Column("id", BIG_ID, nullable=False),
        *_customer("bonus_expirations"),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bonus_expirations")),
    )
    op.create_index("ix_bonus_expirations_customer", "bonus_expirations", ["customer_id", "expires_on"])
    op.create_index("ix_bonus_expirations_expires_on", "bonus_expirations", ["expires_on", "customer_id"])
    op.create_table(
        "points_entries",
        sa.Column("id", BIG_ID, nullable=False),
        *_customer("points_entries"),
        sa.Column("points", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=True),
        *_source(),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_points_entries")),
        sa.UniqueConstraint("key", name=op.f("uq_points_entries_key")),
    )
    op.create_index("ix_points_entries_customer", "points_entries", ["customer_id", "created_at"])
    op.create_table(
        "loyalty_requests",
        sa.Column("id", BIG_ID, nullable=False),
        *_customer("loyalty_requests"),
        sa.Column("operation", sa.String(length=16), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("comment", sa.String(length=500), nullable=True),
        *_source(),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_by", sa.String(length=200), nullable=True),
        sa.Column("response_status", sa.Integer(), nullable=True),
        sa.Column("error", sa.String(length=1000), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_loyalty_requests")),
        sa.UniqueConstraint("key", name=op.f("uq_loyalty_requests_key")),
    )
    op.create_index("ix_loyalty_requests_due", "loyalty_requests", ["status", "next_attempt_at"])
    op.create_index("ix_loyalty_requests_customer", "loyalty_requests", ["customer_id", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_loyalty_requests_customer", table_name="loyalty_requests")
    op.drop_index("ix_loyalty_requests_due", table_name="loyalty_requests")
    op.drop_table("loyalty_requests")
    op.drop_index("ix_points_entries_customer", table_name="points_entries")
    op.drop_table("points_entries")
    op.drop_index("ix_bonus_expirations_expires_on", table_name="bonus_expirations")
    op.drop_index("ix_bonus_expirations_customer", table_name="bonus_expirations")
    op.drop_table("bonus_expirations")
    op.drop_table("loyalty_accounts")
