"""attributed receipts: every qualifying (receipt, touch) pair, the last touch credited

Revision ID: 2026_12_06_attribution
Revises: 2026_12_06_last_name_index
Created: 2026-12-06 10:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "2026_12_06_attribution"
down_revision = "2026_12_06_last_name_index"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "attributed_receipts",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("receipt_id", BIG_ID, nullable=False),
        sa.Column("message_id", BIG_ID, nullable=False),
        sa.Column("customer_id", BIG_ID, nullable=False),
        sa.Column("source_kind", sa.String(length=16), nullable=False),
        sa.Column("source_id", sa.BigInteger(), nullable=True),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("touched_at", WHEN, nullable=False),
        sa.Column("purchased_at", WHEN, nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("credited", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["receipt_id"],
            ["receipts.id"],
            name=op.f("fk_attributed_receipts_receipt_id_receipts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["messages.id"],
            name=op.f("fk_attributed_receipts_message_id_messages"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_attributed_receipts_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attributed_receipts")),
        sa.UniqueConstraint(
            "receipt_id", "message_id", name=op.f("uq_attributed_receipts_receipt_id_message_id")
        ),
    )
    op.create_index(
        "ix_attributed_receipts_source",
        "attributed_receipts",
        ["source_kind", "source_id", "credited", "purchased_at"],
    )
    op.create_index("ix_attributed_receipts_message", "attributed_receipts", ["message_id"])
    op.create_index("ix_attributed_receipts_customer", "attributed_receipts", ["customer_id"])


def downgrade() -> None:
    op.drop_table("attributed_receipts")
