"""message templates and their immutable versions

Revision ID: 2026_12_06_message_templates
Revises: 2026_12_06_job_leases
Created: 2026-12-06 10:03:00
"""

from __future__ import annotations

revision = "2026_12_06_message_templates"
down_revision = "2026_12_06_job_leases"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
