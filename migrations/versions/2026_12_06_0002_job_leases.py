"""leases of running jobs: who runs them and when they last said so

Revision ID: 2026_12_06_job_leases
Revises: 2026_12_06_staff_sessions
Created: 2026-12-06 09:10:00
"""

from __future__ import annotations

revision = "2026_12_06_job_leases"
down_revision = "2026_12_06_staff_sessions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
