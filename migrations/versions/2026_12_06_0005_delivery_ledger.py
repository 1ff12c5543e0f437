"""the send ledger: messages, their events, contents and tracked links

Revision ID: 2026_12_06_delivery_ledger
Revises: 2026_12_06_channel_providers
Created: 2026-12-06 10:05:00
"""

from __future__ import annotations

revision = "2026_12_06_delivery_ledger"
down_revision = "2026_12_06_channel_providers"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
