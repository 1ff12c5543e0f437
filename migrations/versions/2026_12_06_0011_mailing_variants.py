"""mailings: A/B variants and their draw, control group by audience or strata, attribution rule, watchers,
self-pause after provider failures, resend rounds

Revision ID: 2026_12_06_mailing_variants
Revises: 2026_12_06_mailings
Created: 2026-12-06 13:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "2026_12_06_mailing_variants"
down_revision = "2026_12_06_mailings"
branch_labels = None
depends_on = None

WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("mailings") as batch:
        batch.add_column(sa.Column("control_audience_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("control_strata", sa.JSON(), nullable=False, server_default="[]"))
        batch.add_column(sa.Column("variants", sa.JSON(), nullable=False, server_default="[]"))
        batch.add_column(sa.Column("ab_test", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("winner_variant", sa.SmallInteger(), nullable=True))
        batch.add_column(sa.Column("winner_chosen_at", WHEN, nullable=True))
        batch.add_column(sa.Column("winner_reason", sa.JSON(), nullable=True))
        batch.add_column(
            sa.Column("exclude_global_control", sa.Boolean(), nullable=False, server_default=sa.true())
        )
        batch.add_column(sa.Column("attribution_rule", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("watcher_group_ids", sa.JSON(), nullable=False, server_default="[]"))
        batch.add_column(sa.Column("failure_limit", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("failures_in_row", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("resend_round", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(
            sa.Column("collect_phase", sa.String(16), nullable=False, server_default="audience")
        )
        batch.create_foreign_key(
            "fk_mailings_control_audience_id_audiences",
            "audiences",
            ["control_audience_id"],
            ["id"],
            ondelete="SET NULL",
        )
    op.create_table(
        "mailing_assignments",
        sa.Column("mailing_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.BigInteger(), nullable=False),
        sa.Column("variant", sa.SmallInteger(), nullable=True),
        sa.Column("assigned_at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(
            ["mailing_id"],
            ["mailings.id"],
            name="fk_mailing_assignments_mailing_id_mailings",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("mailing_id", "customer_id", name="pk_mailing_assignments"),
    )
    op.create_index("ix_mailing_assignments_variant", "mailing_assignments", ["mailing_id", "variant"])


def downgrade() -> None:
    op.drop_index("ix_mailing_assignments_variant", table_name="mailing_assignments")
    op.drop_table("mailing_assignments")
    with op.batch_alter_table("mailings") as batch:
        batch.drop_constraint("fk_mailings_control_audience_id_audiences", type_="foreignkey")
        for column in (
            "collect_phase",
            "resend_round",
            "failures_in_row",
            "failure_limit",
            "watcher_group_ids",
            "attribution_rule",
            "exclude_global_control",
            "winner_reason",
            "winner_chosen_at",
            "winner_variant",
            "ab_test",
            "variants",
            "control_strata",
            "control_audience_id",
        ):
            batch.drop_column(column)
