"""channel providers with encrypted settings

Revision ID: 2026_12_06_channel_providers
Revises: 2026_12_06_message_templates
Created: 2026-12-06 10:04:00
"""

from __future__ import annotations

revision = "2026_12_06_channel_providers"
down_revision = "2026_12_06_message_templates"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
