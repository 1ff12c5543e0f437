"""the send ledger: messages, their events, contents and tracked links

Revision ID: 2026_12_06_delivery_ledger
Revises: 2026_12_06_channel_providers
Created: 2026-12-06 10:05:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "2026_12_06_delivery_ledger"
down_revision = "2026_12_06_channel_providers"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
WHEN = sa.DateTime(timezone=True)

MESSAGE_INDEXES = {
    "ix_messages_status_priority_due": ["status", "priority", "next_attempt_at"],
    "ix_messages_customer_created": ["customer_id", "created_at"],
    "ix_messages_provider_message_id": ["provider_message_id"],
    "ix_messages_source": ["source_kind", "source_id"],
    "ix_messages_cascade_of": ["cascade_of"],
    "ix_messages_recipient": ["recipient"],
    "ix_messages_customer_channel_handed": ["customer_id", "channel", "handed_over_at"],
}


def upgrade() -> None:
    _messages()
    _message_events()
    _message_contents()
    _tracked_links()


def _messages() -> None:
    op.create_table(
        "messages",
        sa.Column("id", BigId, nullable=False),
        sa.Column("idempotency_key", sa.String(length=64), nullable=False),
        sa.Column("source_kind", sa.String(length=16), nullable=False),
        sa.Column("source_id", sa.BigInteger(), nullable=True),
        sa.Column("customer_id", BigId, nullable=True),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("category_id", sa.Integer(), nullable=True),
        sa.Column("template_version_id", sa.Integer(), nullable=True),
        sa.Column("recipient", sa.String(length=512), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=True),
        sa.Column("detail", sa.String(length=1000), nullable=True),
        sa.Column("provider_id", sa.Integer(), nullable=True),
        sa.Column("provider_message_id", sa.String(length=200), nullable=True),
        sa.Column("is_sandbox", sa.Boolean(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", WHEN, nullable=False),
        sa.Column("expires_at", WHEN, nullable=True),
        sa.Column("priority", sa.SmallInteger(), nullable=False),
        sa.Column("options", sa.JSON(), nullable=False),
        sa.Column("cascade_of", sa.BigInteger(), nullable=True),
        sa.Column("owner", sa.String(length=200), nullable=True),
        sa.Column("claimed_at", WHEN, nullable=True),
        sa.Column("handed_over_at", WHEN, nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("sent_at", WHEN, nullable=True),
        sa.Column("delivered_at", WHEN, nullable=True),
        sa.Column("opened_at", WHEN, nullable=True),
        sa.Column("clicked_at", WHEN, nullable=True),
        sa.Column("failed_at", WHEN, nullable=True),
        sa.Column("opens", sa.Integer(), nullable=False),
        sa.Column("clicks", sa.Integer(), nullable=False),
        sa.Column("machine_opens", sa.Integer(), nullable=False),
        sa.Column("machine_clicks", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_messages_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["category_id"],
            ["mailing_categories.id"],
            name=op.f("fk_messages_category_id_mailing_categories"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["template_version_id"],
            ["message_template_versions.id"],
            name=op.f("fk_messages_template_version_id_message_template_versions"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["provider_id"],
            ["channel_providers.id"],
            name=op.f("fk_messages_provider_id_channel_providers"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_messages")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_messages_idempotency_key")),
        sqlite_autoincrement=True,
    )
    for name, columns in MESSAGE_INDEXES.items():
        op.create_index(name, "messages", columns)


def _message_events() -> None:
    op.create_table(
        "message_events",
        sa.Column("id", BigId, nullable=False),
        sa.Column("message_id", BigId, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("occurred_at", WHEN, nullable=False),
        sa.Column("is_machine", sa.Boolean(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["messages.id"],
            name=op.f("fk_message_events_message_id_messages"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_message_events")),
    )
    op.create_index("ix_message_events_message", "message_events", ["message_id", "id"])


def _message_contents() -> None:
    op.create_table(
        "message_contents",
        sa.Column("message_id", BigId, nullable=False),
        sa.Column("source", sa.JSON(), nullable=True),
        sa.Column("content", sa.JSON(), nullable=True),
        sa.Column("headers", sa.JSON(), nullable=False),
        sa.Column("rendered_at", WHEN, nullable=True),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["messages.id"],
            name=op.f("fk_message_contents_message_id_messages"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("message_id", name=op.f("pk_message_contents")),
    )


def _tracked_links() -> None:
    op.create_table(
        "tracked_links",
        sa.Column("id", BigId, nullable=False),
        sa.Column("url_hash", sa.String(length=64), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tracked_links")),
        sa.UniqueConstraint("url_hash", name=op.f("uq_tracked_links_url_hash")),
    )


def downgrade() -> None:
    op.drop_table("tracked_links")
    op.drop_table("message_contents")
    op.drop_index("ix_message_events_message", table_name="message_events")
    op.drop_table("message_events")
    for name in MESSAGE_INDEXES:
        op.drop_index(name, table_name="messages")
    op.drop_table("messages")
