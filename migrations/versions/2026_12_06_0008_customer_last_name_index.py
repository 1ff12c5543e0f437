"""the index the customer search by last name reads

The model has always declared it; databases made by the migrations never had it, so a search by name
read the whole customers table.

Revision ID: 2026_12_06_last_name_index
Revises: 2026_12_06_consent_tracking
Created: 2026-12-06 10:08:00
"""

from __future__ import annotations

from alembic import op
from sqlalchemy import text

revision = "2026_12_06_last_name_index"
down_revision = "2026_12_06_consent_tracking"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_customers_last_name_lower", "customers", [text("lower(last_name)")])


def downgrade() -> None:
    op.drop_index("ix_customers_last_name_lower", table_name="customers")
