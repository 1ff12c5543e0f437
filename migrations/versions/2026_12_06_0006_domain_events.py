"""the domain-event outbox and subscriber checkpoints

Revision ID: 2026_12_06_domain_events
Revises: 2026_12_06_delivery_ledger
Created: 2026-12-06 10:06:00
"""

from __future__ import annotations

revision = "2026_12_06_domain_events"
down_revision = "2026_12_06_delivery_ledger"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
