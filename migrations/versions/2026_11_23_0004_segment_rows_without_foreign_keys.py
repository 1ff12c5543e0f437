"""segment stays and events without row-level foreign keys

Every stay and event of a segment build is checked against `customers` and `segments` by a per-row
trigger on PostgreSQL, which cost a build of a 1 M-customer base seconds. The rows are only ever made
from existing customers of an existing segment, and deleting a segment removes them itself.

Revision ID: 2026_11_23_segment_rows
Revises: 2026_11_23_segments
Created: 2026-11-23 20:05:00
"""

from __future__ import annotations

from alembic import op

revision = "2026_11_23_segment_rows"
down_revision = "2026_11_23_segments"
branch_labels = None
depends_on = None

CONSTRAINTS = {
    "segment_memberships": ("customer_id", "segment_id"),
    "segment_events": ("customer_id", "segment_id"),
}
PARENTS = {"customer_id": "customers", "segment_id": "segments"}


def upgrade() -> None:
    for table, columns in CONSTRAINTS.items():
        with op.batch_alter_table(table) as batch_op:
            for column in columns:
                batch_op.drop_constraint(f"fk_{table}_{column}_{PARENTS[column]}", type_="foreignkey")


def downgrade() -> None:
    for table, columns in CONSTRAINTS.items():
        with op.batch_alter_table(table) as batch_op:
            for column in columns:
                batch_op.create_foreign_key(
                    f"fk_{table}_{column}_{PARENTS[column]}", PARENTS[column], [column], ["id"], ondelete="CASCADE"
                )
