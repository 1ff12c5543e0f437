"""global control group: its draws and its members' stays

Revision ID: 2026_12_07_global_control
Revises: 2026_12_06_campaigns
Created: 2026-12-07 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "2026_12_07_global_control"
down_revision = "2026_12_06_campaigns"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
OPEN = sa.text("left_at IS NULL")


def upgrade() -> None:
    op.create_table(
        "global_control_draws",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=8), nullable=False),
        sa.Column("seed", sa.BigInteger(), nullable=True),
        sa.Column("percent", sa.Double(), nullable=True),
        sa.Column("cap", sa.Integer(), nullable=True),
        sa.Column("strata", sa.JSON(), nullable=False),
        sa.Column("file_name", sa.String(length=255), nullable=True),
        sa.Column("base_size", sa.Integer(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("drawn_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("drawn_by", sa.String(length=255), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_global_control_draws")),
    )
    op.create_table(
        "global_control_members",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("draw_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.BigInteger(), nullable=False),
        sa.Column("entered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("left_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["draw_id"],
            ["global_control_draws.id"],
            name=op.f("fk_global_control_members_draw_id_global_control_draws"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_global_control_members")),
    )
    op.create_index(
        "ix_global_control_members_open",
        "global_control_members",
        ["customer_id"],
        unique=True,
        sqlite_where=OPEN,
        postgresql_where=OPEN,
    )
    op.create_index(
        "ix_global_control_members_customer", "global_control_members", ["customer_id", "entered_at"]
    )
    op.create_index("ix_global_control_members_draw", "global_control_members", ["draw_id"])


def downgrade() -> None:
    op.drop_table("global_control_members")
    op.drop_table("global_control_draws")
