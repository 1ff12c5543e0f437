"""server-side sessions of staff users

Revision ID: 2026_12_06_staff_sessions
Revises: 2026_11_23_receipt_lines
Created: 2026-12-06 09:00:00
"""

from __future__ import annotations

revision = "2026_12_06_staff_sessions"
down_revision = "2026_11_23_receipt_lines"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
