"""site tracker: abandoned carts and pop-ups

Abandoned carts are read from the cart container and the orders after its last change (no table of their
own); pop-ups are queued per customer and shown by the site tracker.

Revision ID: 2026_12_06_site_tracker
Revises: 2026_12_06_orders
Created: 2026-12-06 13:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "2026_12_06_site_tracker"
down_revision = "2026_12_06_orders"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "popups",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("customer_id", BIG_ID, nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=True),
        sa.Column("image_url", sa.String(length=2000), nullable=True),
        sa.Column("button_text", sa.String(length=100), nullable=True),
        sa.Column("button_url", sa.String(length=2000), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("shown_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("clicked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("source_kind", sa.String(length=32), nullable=True),
        sa.Column("source_id", sa.Integer(), nullable=True),
        sa.Column("source_part", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_popups_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_popups")),
        sa.UniqueConstraint("key", name=op.f("uq_popups_key")),
    )
    op.create_index("ix_popups_customer_status", "popups", ["customer_id", "status"], unique=False)
    # The lost-view triggers read the views of a time window across customers.
    op.create_index("ix_web_events_kind_time", "web_events", ["kind", "occurred_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_web_events_kind_time", table_name="web_events")
    op.drop_index("ix_popups_customer_status", table_name="popups")
    op.drop_table("popups")
