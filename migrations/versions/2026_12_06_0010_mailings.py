"""mass mailings and the control-group members of each

Revision ID: 2026_12_06_mailings
Revises: 2026_12_06_attribution
Created: 2026-12-06 11:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "2026_12_06_mailings"
down_revision = "2026_12_06_attribution"
branch_labels = None
depends_on = None

WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    _mailings()
    op.create_table(
        "mailing_control_members",
        sa.Column("mailing_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.BigInteger(), nullable=False),
        sa.Column("drawn_at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(
            ["mailing_id"],
            ["mailings.id"],
            name="fk_mailing_control_members_mailing_id_mailings",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("mailing_id", "customer_id", name="pk_mailing_control_members"),
    )


def _mailings() -> None:
    op.create_table(
        "mailings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("category_id", sa.Integer(), nullable=True),
        sa.Column("template_version_id", sa.Integer(), nullable=True),
        sa.Column("sms_template_version_id", sa.Integer(), nullable=True),
        sa.Column("sender", sa.JSON(), nullable=False),
        sa.Column("segment_id", sa.Integer(), nullable=True),
        sa.Column("include_audience_ids", sa.JSON(), nullable=False),
        sa.Column("exclude_audience_ids", sa.JSON(), nullable=False),
        sa.Column("control_percent", sa.Double(), nullable=False),
        sa.Column("control_seed", sa.BigInteger(), nullable=False),
        sa.Column("lifetime_hours", sa.Integer(), nullable=True),
        sa.Column("scheduled_at", WHEN, nullable=True),
        sa.Column("rate_per_minute", sa.Integer(), nullable=True),
        sa.Column("deliver_immediately", sa.Boolean(), nullable=False),
        sa.Column("utm", sa.JSON(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.Column("started_at", WHEN, nullable=True),
        sa.Column("collect_checkpoint", sa.BigInteger(), nullable=True),
        sa.Column("collected_at", WHEN, nullable=True),
        sa.Column("finished_at", WHEN, nullable=True),
        sa.Column("pause_reason", sa.String(length=500), nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        _foreign_key("category_id", "mailing_categories"),
        _foreign_key("template_version_id", "message_template_versions"),
        _foreign_key("sms_template_version_id", "message_template_versions"),
        _foreign_key("segment_id", "segments"),
        _foreign_key("created_by_id", "users"),
        _foreign_key("updated_by_id", "users"),
        sa.PrimaryKeyConstraint("id", name="pk_mailings"),
    )
    op.create_index("ix_mailings_channel_created", "mailings", ["channel", "created_at"])
    op.create_index("ix_mailings_status_scheduled", "mailings", ["status", "scheduled_at"])


def _foreign_key(column: str, table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{table}.id"], name=f"fk_mailings_{column}_{table}", ondelete="SET NULL"
    )


def downgrade() -> None:
    op.drop_table("mailing_control_members")
    op.drop_index("ix_mailings_status_scheduled", table_name="mailings")
    op.drop_index("ix_mailings_channel_created", table_name="mailings")
    op.drop_table("mailings")
