"""segments audiences rfm

Revision ID: 2026_11_23_segments
Revises: 2026_11_23_customer_data
Created: 2026-11-23 07:33:40.823241
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "2026_11_23_segments"
down_revision = "2026_11_23_customer_data"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('audiences',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('description', sa.String(length=1000), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('member_count', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_audiences_created_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audiences')),
    sa.UniqueConstraint('name', name=op.f('uq_audiences_name'))
    )
    op.create_table('segments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('description', sa.String(length=1000), nullable=True),
    sa.Column('rules', sa.JSON(), nullable=False),
    sa.Column('rules_version', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('member_count', sa.Integer(), nullable=False),
    sa.Column('base_share', sa.Double(), nullable=False),
    sa.Column('revenue_share', sa.Double(), nullable=False),
    sa.Column('average_receipt', sa.BigInteger(), nullable=False),
    sa.Column('ltv', sa.BigInteger(), nullable=False),
    sa.Column('last_built_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_build_status', sa.String(length=16), nullable=True),
    sa.Column('last_build_ms', sa.Integer(), nullable=True),
    sa.Column('last_build_error', sa.Text(), nullable=True),
    sa.Column('rules_revision', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_segments_created_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_segments'))
    )
    op.create_table('audience_members',
    sa.Column('audience_id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('added_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['audience_id'], ['audiences.id'], name=op.f('fk_audience_members_audience_id_audiences'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_audience_members_customer_id_customers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('audience_id', 'customer_id', name=op.f('pk_audience_members'))
    )
    with op.batch_alter_table('audience_members', schema=None) as batch_op:
        batch_op.create_index('ix_audience_members_customer', ['customer_id'], unique=False)

    op.create_table('audience_imports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('file_name', sa.String(length=255), nullable=False),
    sa.Column('file_path', sa.String(length=1000), nullable=False),
    sa.Column('id_type', sa.String(length=16), nullable=False),
    sa.Column('mode', sa.String(length=16), nullable=False),
    sa.Column('audience_id', sa.Integer(), nullable=True),
    sa.Column('audience_name', sa.String(length=200), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('rows_read', sa.Integer(), nullable=False),
    sa.Column('added', sa.Integer(), nullable=False),
    sa.Column('already_members', sa.Integer(), nullable=False),
    sa.Column('audiences_created', sa.Integer(), nullable=False),
    sa.Column('unmatched_total', sa.Integer(), nullable=False),
    sa.Column('unmatched', sa.JSON(), nullable=False),
    sa.Column('audiences', sa.JSON(), nullable=False),
    sa.Column('message', sa.String(length=1000), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['audience_id'], ['audiences.id'], name=op.f('fk_audience_imports_audience_id_audiences'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_audience_imports_created_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audience_imports'))
    )
    with op.batch_alter_table('audience_imports', schema=None) as batch_op:
        batch_op.create_index('ix_audience_imports_created', ['created_at'], unique=False)

    op.create_table('rfm_calculations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('trigger', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('duration_ms', sa.Integer(), nullable=True),
    sa.Column('period_days', sa.Integer(), nullable=False),
    sa.Column('base_segment_id', sa.Integer(), nullable=True),
    sa.Column('scored', sa.Integer(), nullable=False),
    sa.Column('thresholds', sa.JSON(), nullable=False),
    sa.Column('cells', sa.JSON(), nullable=False),
    sa.Column('best', sa.Integer(), nullable=False),
    sa.Column('lost', sa.Integer(), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['base_segment_id'], ['segments.id'], name=op.f('fk_rfm_calculations_base_segment_id_segments'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rfm_calculations'))
    )
    with op.batch_alter_table('rfm_calculations', schema=None) as batch_op:
        batch_op.create_index('ix_rfm_calculations_started', ['started_at'], unique=False)

    op.create_table('segment_builds',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('segment_id', sa.Integer(), nullable=False),
    sa.Column('trigger', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('duration_ms', sa.Integer(), nullable=True),
    sa.Column('members', sa.Integer(), nullable=False),
    sa.Column('entered', sa.Integer(), nullable=False),
    sa.Column('exited', sa.Integer(), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['segment_id'], ['segments.id'], name=op.f('fk_segment_builds_segment_id_segments'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_segment_builds'))
    )
    with op.batch_alter_table('segment_builds', schema=None) as batch_op:
        batch_op.create_index('ix_segment_builds_segment', ['segment_id', 'started_at'], unique=False)

    op.create_table('segment_events',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('segment_id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_segment_events_customer_id_customers'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['segment_id'], ['segments.id'], name=op.f('fk_segment_events_segment_id_segments'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_segment_events'))
    )
    with op.batch_alter_table('segment_events', schema=None) as batch_op:
        batch_op.create_index('ix_segment_events_segment', ['segment_id', 'id'], unique=False)

    op.create_table('segment_memberships',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('segment_id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('entered_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('exited_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_segment_memberships_customer_id_customers'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['segment_id'], ['segments.id'], name=op.f('fk_segment_memberships_segment_id_segments'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_segment_memberships'))
    )
    with op.batch_alter_table('segment_memberships', schema=None) as batch_op:
        batch_op.create_index('ix_segment_memberships_customer', ['customer_id', 'segment_id'], unique=False)
        batch_op.create_index('ix_segment_memberships_exited', ['segment_id', 'exited_at'], unique=False)
        batch_op.create_index('uq_segment_memberships_current', ['segment_id', 'customer_id'], unique=True, sqlite_where=sa.text('exited_at IS NULL'), postgresql_where=sa.text('exited_at IS NULL'))

    op.create_table('customer_rfm',
    sa.Column('customer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('calculation_id', sa.Integer(), nullable=False),
    sa.Column('r', sa.SmallInteger(), nullable=False),
    sa.Column('f', sa.SmallInteger(), nullable=False),
    sa.Column('m', sa.SmallInteger(), nullable=False),
    sa.Column('recency_days', sa.Integer(), nullable=False),
    sa.Column('frequency', sa.Integer(), nullable=False),
    sa.Column('monetary', sa.BigInteger(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    # No foreign keys and no secondary index: every calculation rewrites all rows (see the model).
    sa.PrimaryKeyConstraint('customer_id', name=op.f('pk_customer_rfm'))
    )


    # Covering index: per-customer aggregates and RFM read only the index, in customer order.
    with op.batch_alter_table("receipts", schema=None) as batch_op:
        batch_op.drop_index("ix_receipts_customer_purchased")
        batch_op.create_index(
            "ix_receipts_customer_purchased", ["customer_id", "purchased_at", "status", "total"], unique=False
        )

def downgrade() -> None:
    with op.batch_alter_table("receipts", schema=None) as batch_op:
        batch_op.drop_index("ix_receipts_customer_purchased")
        batch_op.create_index("ix_receipts_customer_purchased", ["customer_id", "purchased_at"], unique=False)
    op.drop_table('customer_rfm')
    with op.batch_alter_table('segment_memberships', schema=None) as batch_op:
        batch_op.drop_index('uq_segment_memberships_current', sqlite_where=sa.text('exited_at IS NULL'), postgresql_where=sa.text('exited_at IS NULL'))
        batch_op.drop_index('ix_segment_memberships_exited')
        batch_op.drop_index('ix_segment_memberships_customer')

    op.drop_table('segment_memberships')
    with op.batch_alter_table('segment_events', schema=None) as batch_op:
        batch_op.drop_index('ix_segment_events_segment')

    op.drop_table('segment_events')
    with op.batch_alter_table('segment_builds', schema=None) as batch_op:
        batch_op.drop_index('ix_segment_builds_segment')

    op.drop_table('segment_builds')
    with op.batch_alter_table('rfm_calculations', schema=None) as batch_op:
        batch_op.drop_index('ix_rfm_calculations_started')

    op.drop_table('rfm_calculations')
    with op.batch_alter_table('audience_members', schema=None) as batch_op:
        batch_op.drop_index('ix_audience_members_customer')

    op.drop_table('audience_members')
    with op.batch_alter_table('audience_imports', schema=None) as batch_op:
        batch_op.drop_index('ix_audience_imports_created')

    op.drop_table('audience_imports')
    op.drop_table('segments')
    op.drop_table('audiences')
