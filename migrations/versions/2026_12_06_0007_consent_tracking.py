"""unsubscribe reasons given, opt-in confirmations, watchers and webhooks

Revision ID: 2026_12_06_consent_tracking
Revises: 2026_12_06_domain_events
Created: 2026-12-06 10:07:00
"""

from __future__ import annotations

revision = "2026_12_06_consent_tracking"
down_revision = "2026_12_06_domain_events"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
