"""leases of running jobs: who runs them and when they last said so

Revision ID: 2026_12_06_job_leases
Revises: 2026_12_06_staff_sessions
Created: 2026-12-06 09:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "2026_12_06_job_leases"
down_revision = "2026_12_06_staff_sessions"
branch_labels = None
depends_on = None

LEASED_TABLES = ("import_jobs", "audience_imports", "segment_builds", "rfm_calculations")
RUNNING_BUILDS = sa.text("status = 'running'")


def upgrade() -> None:
    for table in LEASED_TABLES:
        op.add_column(table, sa.Column("lease_owner", sa.String(length=200), nullable=True))
        op.add_column(table, sa.Column("lease_heartbeat_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("import_jobs", sa.Column("classifier", sa.String(length=64), nullable=True))
    op.create_index(
        "ix_segment_builds_running",
        "segment_builds",
        ["status"],
        sqlite_where=RUNNING_BUILDS,
        postgresql_where=RUNNING_BUILDS,
    )


def downgrade() -> None:
    op.drop_index("ix_segment_builds_running", table_name="segment_builds")
    with op.batch_alter_table("import_jobs") as batch:
        batch.drop_column("classifier")
    for table in LEASED_TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("lease_heartbeat_at")
            batch.drop_column("lease_owner")
