"""unsubscribe reasons given, opt-in confirmations, watchers and webhooks

Revision ID: 2026_12_06_consent_tracking
Revises: 2026_12_06_domain_events
Created: 2026-12-06 10:07:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "2026_12_06_consent_tracking"
down_revision = "2026_12_06_domain_events"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.add_column("customers", sa.Column("confirmed_email", sa.String(length=254), nullable=True))
    op.add_column("customers", sa.Column("email_confirmed_at", WHEN, nullable=True))
    _unsubscribe_records()
    _email_confirmations()
    _watcher_groups()


def _unsubscribe_records() -> None:
    op.create_table(
        "unsubscribe_records",
        sa.Column("id", BigId, nullable=False),
        sa.Column("customer_id", BigId, nullable=False),
        sa.Column("message_id", BigId, nullable=True),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("category_id", sa.Integer(), nullable=True),
        sa.Column("scope", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("reason_code", sa.String(length=64), nullable=True),
        sa.Column("reason_text", sa.String(length=1000), nullable=True),
        sa.Column("ip_address", sa.String(length=64), nullable=True),
        sa.Column("user_agent", sa.String(length=300), nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_unsubscribe_records_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["messages.id"],
            name=op.f("fk_unsubscribe_records_message_id_messages"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["category_id"],
            ["mailing_categories.id"],
            name=op.f("fk_unsubscribe_records_category_id_mailing_categories"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_unsubscribe_records")),
    )
    op.create_index("ix_unsubscribe_records_customer", "unsubscribe_records", ["customer_id", "created_at"])
    op.create_index("ix_unsubscribe_records_created", "unsubscribe_records", ["created_at"])


def _email_confirmations() -> None:
    op.create_table(
        "email_confirmations",
        sa.Column("id", BigId, nullable=False),
        sa.Column("customer_id", BigId, nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("message_id", BigId, nullable=True),
        sa.Column("requested_at", WHEN, nullable=False),
        sa.Column("confirmed_at", WHEN, nullable=True),
        sa.Column("ip_address", sa.String(length=64), nullable=True),
        sa.Column("user_agent", sa.String(length=300), nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_email_confirmations_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["messages.id"],
            name=op.f("fk_email_confirmations_message_id_messages"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_email_confirmations")),
    )
    op.create_index("ix_email_confirmations_customer", "email_confirmations", ["customer_id", "email"])


def _watcher_groups() -> None:
    op.create_table(
        "watcher_groups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("emails", sa.JSON(), nullable=False),
        sa.Column("phones", sa.JSON(), nullable=False),
        sa.Column("push_ids", sa.JSON(), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_watcher_groups")),
        sa.UniqueConstraint("name", name=op.f("uq_watcher_groups_name")),
    )


def downgrade() -> None:
    op.drop_table("watcher_groups")
    op.drop_index("ix_email_confirmations_customer", table_name="email_confirmations")
    op.drop_table("email_confirmations")
    op.drop_index("ix_unsubscribe_records_created", table_name="unsubscribe_records")
    op.drop_index("ix_unsubscribe_records_customer", table_name="unsubscribe_records")
    op.drop_table("unsubscribe_records")
    with op.batch_alter_table("customers") as batch:
        batch.drop_column("email_confirmed_at")
        batch.drop_column("confirmed_email")
