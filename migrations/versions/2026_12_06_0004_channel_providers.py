"""channel providers with encrypted settings

Revision ID: 2026_12_06_channel_providers
Revises: 2026_12_06_message_templates
Created: 2026-12-06 10:04:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "2026_12_06_channel_providers"
down_revision = "2026_12_06_message_templates"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "channel_providers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("settings", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_channel_providers")),
    )
    op.create_index("ix_channel_providers_channel_active", "channel_providers", ["channel", "is_active"])


def downgrade() -> None:
    op.drop_index("ix_channel_providers_channel_active", table_name="channel_providers")
    op.drop_table("channel_providers")
