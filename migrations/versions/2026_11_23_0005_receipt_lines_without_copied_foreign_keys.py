"""receipt lines keep only their receipt as a foreign key

The customer, product and category of a line are copies taken by the writers from the receipt and the
catalogue; checking each of them per line was most of a bulk import's time on PostgreSQL.

Revision ID: 2026_11_23_receipt_lines
Revises: 2026_11_23_segment_rows
Created: 2026-11-23 21:00:00
"""

from __future__ import annotations

from alembic import op

revision = "2026_11_23_receipt_lines"
down_revision = "2026_11_23_segment_rows"
branch_labels = None
depends_on = None

# column -> (parent table, what deleting the parent did)
COPIED = {
    "customer_id": ("customers", "CASCADE"),
    "product_id": ("products", "SET NULL"),
    "category_id": ("categories", "SET NULL"),
}


def upgrade() -> None:
    with op.batch_alter_table("receipt_lines") as batch_op:
        for column, (parent, _) in COPIED.items():
            batch_op.drop_constraint(f"fk_receipt_lines_{column}_{parent}", type_="foreignkey")


def downgrade() -> None:
    with op.batch_alter_table("receipt_lines") as batch_op:
        for column, (parent, on_delete) in COPIED.items():
            batch_op.create_foreign_key(
                f"fk_receipt_lines_{column}_{parent}", parent, [column], ["id"], ondelete=on_delete
            )
