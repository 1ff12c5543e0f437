"""customer data

Revision ID: 2026_11_23_customer_data
Revises: 2026_11_23_foundation
Created: 2026-11-23 07:21:51.581625
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "2026_11_23_customer_data"
down_revision = "2026_11_23_foundation"
branch_labels = None
depends_on = None


SYSTEM_FIELDS = {
    "customer": [
        ("external_id", "External id", "string", "identity"),
        ("last_name", "Last name", "string", "customer"),
        ("first_name", "First name", "string", "customer"),
        ("middle_name", "Middle name", "string", "customer"),
        ("gender", "Gender", "string", "customer"),
        ("birth_date", "Birth date", "date", "customer"),
        ("email", "E-mail", "string", "contacts"),
        ("phone", "Phone", "string", "contacts"),
        ("country", "Country", "string", "customer"),
        ("region", "Region", "string", "customer"),
        ("city", "City", "string", "customer"),
        ("time_zone", "Time zone", "string", "customer"),
        ("registered_at", "Registration date", "datetime", "customer"),
        ("card_number", "Loyalty card number", "string", "loyalty"),
        ("card_status", "Loyalty card status", "string", "loyalty"),
    ],
    "receipt": [
        ("number", "Number", "string", None),
        ("purchased_at", "Date and time", "datetime", None),
        ("store", "Store", "string", None),
        ("status", "Status", "string", None),
        ("total", "Total", "decimal", None),
        ("discount", "Discount", "decimal", None),
        ("bonus_earned", "Bonus earned", "decimal", None),
        ("bonus_spent", "Bonus spent", "decimal", None),
        ("item_count", "Number of items", "decimal", None),
    ],
    "receipt_line": [
        ("sku", "Product SKU", "string", None),
        ("quantity", "Quantity", "decimal", None),
        ("price", "Price", "decimal", None),
        ("amount", "Amount", "decimal", None),
        ("discount", "Discount", "decimal", None),
    ],
    "product": [
        ("sku", "SKU", "string", None),
        ("name", "Name", "string", None),
        ("price", "Price", "decimal", None),
        ("stock", "Stock", "decimal", None),
        ("category", "Category", "string", None),
    ],
    "category": [
        ("code", "Code", "string", None),
        ("name", "Name", "string", None),
        ("parent", "Parent category", "string", None),
    ],
}


def _seed(created_at: datetime) -> None:
    bind = op.get_bind()
    meta = sa.MetaData()
    meta.reflect(bind, only=["classifiers", "event_sources", "dictionaries", "dictionary_items", "containers",
                            "field_definitions"])
    t = meta.tables
    op.bulk_insert(t["classifiers"], [
        {"code": "default", "name": "Main catalogue", "is_system": True, "for_tracker": True,
         "created_at": created_at},
    ])
    op.bulk_insert(t["event_sources"], [
        {"code": "online-store", "name": "Online store", "domain": None, "is_active": True,
         "is_system": True, "write_key": secrets.token_urlsafe(24), "created_at": created_at},
    ])
    op.bulk_insert(t["dictionaries"], [
        {"code": "unsubscribe_reasons", "name": "Unsubscribe reasons", "is_system": True,
         "created_at": created_at},
    ])
    reasons = bind.execute(sa.text("SELECT id FROM dictionaries WHERE code = 'unsubscribe_reasons'")).scalar_one()
    op.bulk_insert(t["dictionary_items"], [
        {"dictionary_id": reasons, "code": "too_often", "value": "I receive messages too often", "position": 1},
        {"dictionary_id": reasons, "code": "not_relevant", "value": "The messages are not relevant to me",
         "position": 2},
    ])
    op.bulk_insert(t["containers"], [
        {"code": "cart", "name": "Cart", "description": "Products added to the cart", "is_system": True,
         "created_at": created_at},
        {"code": "favourites", "name": "Favourites", "description": None, "is_system": False, "created_at": created_at},
        {"code": "wishlist", "name": "Wishlist", "description": None, "is_system": False, "created_at": created_at},
        {"code": "notify_on_arrival", "name": "Notify on arrival", "description": "Waiting for the product to come back",
         "is_system": False, "created_at": created_at},
    ])
    rows = []
    for obj, fields in SYSTEM_FIELDS.items():
        for order, (code, name, type_, group) in enumerate(fields, start=1):
            rows.append({"object": obj, "code": code, "name": name, "type": type_, "is_system": True, "group": group,
                         "profile_order": order, "builder_order": order, "show_in_profile": True,
                         "created_at": created_at})
    op.bulk_insert(t["field_definitions"], rows)


def upgrade() -> None:
    op.create_table('classifiers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('is_system', sa.Boolean(), nullable=False),
    sa.Column('for_tracker', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_classifiers')),
    sa.UniqueConstraint('code', name=op.f('uq_classifiers_code'))
    )
    op.create_table('containers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('description', sa.String(length=500), nullable=True),
    sa.Column('is_system', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_containers')),
    sa.UniqueConstraint('code', name=op.f('uq_containers_code'))
    )
    op.create_table('customers',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('external_id', sa.String(length=64), nullable=False),
    sa.Column('first_name', sa.String(length=100), nullable=True),
    sa.Column('last_name', sa.String(length=100), nullable=True),
    sa.Column('middle_name', sa.String(length=100), nullable=True),
    sa.Column('gender', sa.String(length=1), nullable=True),
    sa.Column('birth_date', sa.Date(), nullable=True),
    sa.Column('country', sa.String(length=100), nullable=True),
    sa.Column('region', sa.String(length=100), nullable=True),
    sa.Column('city', sa.String(length=100), nullable=True),
    sa.Column('time_zone', sa.String(length=64), nullable=True),
    sa.Column('registered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('card_number', sa.String(length=64), nullable=True),
    sa.Column('card_status', sa.String(length=32), nullable=True),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('email_valid', sa.Boolean(), nullable=False),
    sa.Column('phone', sa.String(length=32), nullable=True),
    sa.Column('phone_valid', sa.Boolean(), nullable=False),
    sa.Column('phone_type', sa.String(length=16), nullable=True),
    sa.Column('allow_email', sa.Boolean(), nullable=False),
    sa.Column('allow_sms', sa.Boolean(), nullable=False),
    sa.Column('allow_viber', sa.Boolean(), nullable=False),
    sa.Column('allow_push', sa.Boolean(), nullable=False),
    sa.Column('custom', sa.JSON(), nullable=False),
    sa.Column('receipt_count', sa.Integer(), nullable=False),
    sa.Column('total_amount', sa.BigInteger(), nullable=False),
    sa.Column('average_receipt', sa.BigInteger(), nullable=False),
    sa.Column('first_purchase_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_purchase_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_customers')),
    sa.UniqueConstraint('external_id', name=op.f('uq_customers_external_id'))
    )
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.create_index('ix_customers_card_number', ['card_number'], unique=False)
        batch_op.create_index('ix_customers_email', ['email'], unique=False)
        batch_op.create_index('ix_customers_last_purchase_at', ['last_purchase_at'], unique=False)
        batch_op.create_index('ix_customers_phone', ['phone'], unique=False)
        batch_op.create_index('ix_customers_registered_at', ['registered_at'], unique=False)

    op.create_table('dictionaries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('is_system', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dictionaries')),
    sa.UniqueConstraint('code', name=op.f('uq_dictionaries_code'))
    )
    op.create_table('event_sources',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('domain', sa.String(length=253), nullable=True),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('is_system', sa.Boolean(), nullable=False),
    sa.Column('write_key', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_event_sources')),
    sa.UniqueConstraint('code', name=op.f('uq_event_sources_code')),
    sa.UniqueConstraint('write_key', name=op.f('uq_event_sources_write_key'))
    )
    op.create_table('field_definitions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('object', sa.String(length=32), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('type', sa.String(length=16), nullable=False),
    sa.Column('is_system', sa.Boolean(), nullable=False),
    sa.Column('group', sa.String(length=64), nullable=True),
    sa.Column('profile_order', sa.Integer(), nullable=False),
    sa.Column('builder_order', sa.Integer(), nullable=False),
    sa.Column('show_in_profile', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_field_definitions')),
    sa.UniqueConstraint('object', 'code', name=op.f('uq_field_definitions_object_code'))
    )
    op.create_table('idempotency_records',
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('request_hash', sa.String(length=64), nullable=False),
    sa.Column('status_code', sa.Integer(), nullable=False),
    sa.Column('response', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_idempotency_records'))
    )
    with op.batch_alter_table('idempotency_records', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_idempotency_records_created_at'), ['created_at'], unique=False)

    op.create_table('mailing_categories',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('description', sa.String(length=1000), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mailing_categories')),
    sa.UniqueConstraint('code', name=op.f('uq_mailing_categories_code'))
    )
    op.create_table('stores',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('city', sa.String(length=100), nullable=True),
    sa.Column('region', sa.String(length=100), nullable=True),
    sa.Column('address', sa.String(length=300), nullable=True),
    sa.Column('time_zone', sa.String(length=64), nullable=True),
    sa.Column('is_online', sa.Boolean(), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stores')),
    sa.UniqueConstraint('code', name=op.f('uq_stores_code'))
    )
    op.create_table('categories',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('classifier_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('path', sa.String(length=512), nullable=False),
    sa.Column('custom', sa.JSON(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['classifier_id'], ['classifiers.id'], name=op.f('fk_categories_classifier_id_classifiers'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['parent_id'], ['categories.id'], name=op.f('fk_categories_parent_id_categories'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_categories')),
    sa.UniqueConstraint('classifier_id', 'code', name=op.f('uq_categories_classifier_id_code'))
    )
    with op.batch_alter_table('categories', schema=None) as batch_op:
        batch_op.create_index('ix_categories_parent', ['parent_id'], unique=False)
        batch_op.create_index('ix_categories_path', ['path'], unique=False)

    op.create_table('container_states',
    sa.Column('customer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('container_id', sa.Integer(), nullable=False),
    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('item_count', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['container_id'], ['containers.id'], name=op.f('fk_container_states_container_id_containers'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_container_states_customer_id_customers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('customer_id', 'container_id', name=op.f('pk_container_states'))
    )
    with op.batch_alter_table('container_states', schema=None) as batch_op:
        batch_op.create_index('ix_container_states_changed', ['container_id', 'changed_at'], unique=False)

    op.create_table('dictionary_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('dictionary_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('value', sa.String(length=500), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['dictionary_id'], ['dictionaries.id'], name=op.f('fk_dictionary_items_dictionary_id_dictionaries'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dictionary_items')),
    sa.UniqueConstraint('dictionary_id', 'code', name=op.f('uq_dictionary_items_dictionary_id_code'))
    )
    op.create_table('events',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('customer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('visitor_id', sa.String(length=128), nullable=True),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('source_id', sa.Integer(), nullable=True),
    sa.Column('context', sa.JSON(), nullable=False),
    sa.Column('message_id', sa.String(length=128), nullable=True),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_events_customer_id_customers'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['source_id'], ['event_sources.id'], name=op.f('fk_events_source_id_event_sources'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_events')),
    sa.UniqueConstraint('message_id', name=op.f('uq_events_message_id'))
    )
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.create_index('ix_events_customer_name_time', ['customer_id', 'name', 'occurred_at'], unique=False)
        batch_op.create_index('ix_events_name_time', ['name', 'occurred_at'], unique=False)
        batch_op.create_index('ix_events_visitor_time', ['visitor_id', 'occurred_at'], unique=False, sqlite_where=sa.text('visitor_id IS NOT NULL'), postgresql_where=sa.text('visitor_id IS NOT NULL'))

    op.create_table('import_jobs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('file_name', sa.String(length=255), nullable=False),
    sa.Column('file_path', sa.String(length=1000), nullable=False),
    sa.Column('valid_rows_only', sa.Boolean(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('total_rows', sa.Integer(), nullable=False),
    sa.Column('processed_rows', sa.Integer(), nullable=False),
    sa.Column('imported_rows', sa.Integer(), nullable=False),
    sa.Column('error_rows', sa.Integer(), nullable=False),
    sa.Column('errors', sa.JSON(), nullable=False),
    sa.Column('message', sa.String(length=1000), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_import_jobs_created_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_import_jobs'))
    )
    op.create_table('push_tokens',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('customer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('token', sa.String(length=512), nullable=False),
    sa.Column('platform', sa.String(length=16), nullable=False),
    sa.Column('app', sa.String(length=100), nullable=True),
    sa.Column('device_id', sa.String(length=128), nullable=True),
    sa.Column('is_valid', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_push_tokens_customer_id_customers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_push_tokens')),
    sa.UniqueConstraint('token', name=op.f('uq_push_tokens_token'))
    )
    with op.batch_alter_table('push_tokens', schema=None) as batch_op:
        batch_op.create_index('ix_push_tokens_customer', ['customer_id'], unique=False)

    op.create_table('receipts',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('number', sa.String(length=64), nullable=False),
    sa.Column('store_id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('purchased_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('total', sa.BigInteger(), nullable=False),
    sa.Column('discount', sa.BigInteger(), nullable=False),
    sa.Column('bonus_earned', sa.BigInteger(), nullable=False),
    sa.Column('bonus_spent', sa.BigInteger(), nullable=False),
    sa.Column('item_count', sa.BigInteger(), nullable=False),
    sa.Column('custom', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_receipts_customer_id_customers'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['store_id'], ['stores.id'], name=op.f('fk_receipts_store_id_stores')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_receipts')),
    sa.UniqueConstraint('store_id', 'number', name=op.f('uq_receipts_store_id_number'))
    )
    with op.batch_alter_table('receipts', schema=None) as batch_op:
        batch_op.create_index('ix_receipts_customer_purchased', ['customer_id', 'purchased_at'], unique=False)
        batch_op.create_index('ix_receipts_number', ['number'], unique=False)
        batch_op.create_index('ix_receipts_purchased_at', ['purchased_at'], unique=False)

    op.create_table('subscriptions',
    sa.Column('customer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('category_id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('subscribed', sa.Boolean(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['category_id'], ['mailing_categories.id'], name=op.f('fk_subscriptions_category_id_mailing_categories'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_subscriptions_customer_id_customers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('customer_id', 'category_id', 'channel', name=op.f('pk_subscriptions'))
    )
    with op.batch_alter_table('subscriptions', schema=None) as batch_op:
        batch_op.create_index('ix_subscriptions_category_channel', ['category_id', 'channel', 'subscribed'], unique=False)

    op.create_table('visitors',
    sa.Column('id', sa.String(length=128), nullable=False),
    sa.Column('customer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('first_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('identified_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_visitors_customer_id_customers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_visitors'))
    )
    with op.batch_alter_table('visitors', schema=None) as batch_op:
        batch_op.create_index('ix_visitors_customer', ['customer_id'], unique=False)

    op.create_table('web_sessions',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('key', sa.String(length=128), nullable=False),
    sa.Column('visitor_id', sa.String(length=128), nullable=False),
    sa.Column('customer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('source_id', sa.Integer(), nullable=True),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_event_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('event_count', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_web_sessions_customer_id_customers'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['source_id'], ['event_sources.id'], name=op.f('fk_web_sessions_source_id_event_sources'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_web_sessions')),
    sa.UniqueConstraint('key', name=op.f('uq_web_sessions_key'))
    )
    with op.batch_alter_table('web_sessions', schema=None) as batch_op:
        batch_op.create_index('ix_web_sessions_customer', ['customer_id', 'started_at'], unique=False)
        batch_op.create_index('ix_web_sessions_visitor', ['visitor_id', 'started_at'], unique=False)

    op.create_table('products',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('classifier_id', sa.Integer(), nullable=False),
    sa.Column('sku', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('price', sa.BigInteger(), nullable=True),
    sa.Column('stock', sa.BigInteger(), nullable=True),
    sa.Column('category_id', sa.Integer(), nullable=True),
    sa.Column('url', sa.String(length=1000), nullable=True),
    sa.Column('image_url', sa.String(length=1000), nullable=True),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('custom', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['category_id'], ['categories.id'], name=op.f('fk_products_category_id_categories'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['classifier_id'], ['classifiers.id'], name=op.f('fk_products_classifier_id_classifiers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_products')),
    sa.UniqueConstraint('classifier_id', 'sku', name=op.f('uq_products_classifier_id_sku'))
    )
    with op.batch_alter_table('products', schema=None) as batch_op:
        batch_op.create_index('ix_products_category', ['category_id'], unique=False)

    op.create_table('container_items',
    sa.Column('customer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('container_id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('quantity', sa.BigInteger(), nullable=False),
    sa.Column('price', sa.BigInteger(), nullable=True),
    sa.Column('added_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['container_id'], ['containers.id'], name=op.f('fk_container_items_container_id_containers'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_container_items_customer_id_customers'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['product_id'], ['products.id'], name=op.f('fk_container_items_product_id_products'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('customer_id', 'container_id', 'product_id', name=op.f('pk_container_items'))
    )
    with op.batch_alter_table('container_items', schema=None) as batch_op:
        batch_op.create_index('ix_container_items_product', ['product_id'], unique=False)

    op.create_table('receipt_lines',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('receipt_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('purchased_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('is_purchase', sa.Boolean(), nullable=False),
    sa.Column('product_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('category_id', sa.Integer(), nullable=True),
    sa.Column('sku', sa.String(length=64), nullable=False),
    sa.Column('quantity', sa.BigInteger(), nullable=False),
    sa.Column('price', sa.BigInteger(), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('discount', sa.BigInteger(), nullable=False),
    sa.Column('custom', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['category_id'], ['categories.id'], name=op.f('fk_receipt_lines_category_id_categories'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_receipt_lines_customer_id_customers'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['product_id'], ['products.id'], name=op.f('fk_receipt_lines_product_id_products'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['receipt_id'], ['receipts.id'], name=op.f('fk_receipt_lines_receipt_id_receipts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_receipt_lines'))
    )
    with op.batch_alter_table('receipt_lines', schema=None) as batch_op:
        batch_op.create_index('ix_receipt_lines_category_purchased', ['category_id', 'purchased_at'], unique=False)
        batch_op.create_index('ix_receipt_lines_customer_purchased', ['customer_id', 'purchased_at'], unique=False)
        batch_op.create_index('ix_receipt_lines_product_purchased', ['product_id', 'purchased_at'], unique=False)
        batch_op.create_index('ix_receipt_lines_receipt', ['receipt_id'], unique=False)

    op.create_table('web_events',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('visitor_id', sa.String(length=128), nullable=True),
    sa.Column('customer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('session_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('source_id', sa.Integer(), nullable=True),
    sa.Column('product_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('category_id', sa.Integer(), nullable=True),
    sa.Column('section', sa.String(length=200), nullable=True),
    sa.Column('container_code', sa.String(length=64), nullable=True),
    sa.Column('container_action', sa.String(length=16), nullable=True),
    sa.Column('quantity', sa.Double(), nullable=True),
    sa.Column('url', sa.String(length=2000), nullable=True),
    sa.Column('snapshot', sa.JSON(), nullable=False),
    sa.Column('context', sa.JSON(), nullable=False),
    sa.Column('message_id', sa.String(length=128), nullable=True),
    sa.ForeignKeyConstraint(['category_id'], ['categories.id'], name=op.f('fk_web_events_category_id_categories'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_web_events_customer_id_customers'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['product_id'], ['products.id'], name=op.f('fk_web_events_product_id_products'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['session_id'], ['web_sessions.id'], name=op.f('fk_web_events_session_id_web_sessions'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['source_id'], ['event_sources.id'], name=op.f('fk_web_events_source_id_event_sources'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_web_events')),
    sa.UniqueConstraint('message_id', name=op.f('uq_web_events_message_id'))
    )
    with op.batch_alter_table('web_events', schema=None) as batch_op:
        batch_op.create_index('ix_web_events_category_time', ['category_id', 'occurred_at'], unique=False)
        batch_op.create_index('ix_web_events_customer_kind_time', ['customer_id', 'kind', 'occurred_at'], unique=False)
        batch_op.create_index('ix_web_events_product_time', ['product_id', 'occurred_at'], unique=False)
        batch_op.create_index('ix_web_events_visitor_time', ['visitor_id', 'occurred_at'], unique=False)


    _seed(datetime.now(UTC))

def downgrade() -> None:
    with op.batch_alter_table('web_events', schema=None) as batch_op:
        batch_op.drop_index('ix_web_events_visitor_time')
        batch_op.drop_index('ix_web_events_product_time')
        batch_op.drop_index('ix_web_events_customer_kind_time')
        batch_op.drop_index('ix_web_events_category_time')

    op.drop_table('web_events')
    with op.batch_alter_table('receipt_lines', schema=None) as batch_op:
        batch_op.drop_index('ix_receipt_lines_receipt')
        batch_op.drop_index('ix_receipt_lines_product_purchased')
        batch_op.drop_index('ix_receipt_lines_customer_purchased')
        batch_op.drop_index('ix_receipt_lines_category_purchased')

    op.drop_table('receipt_lines')
    with op.batch_alter_table('container_items', schema=None) as batch_op:
        batch_op.drop_index('ix_container_items_product')

    op.drop_table('container_items')
    with op.batch_alter_table('products', schema=None) as batch_op:
        batch_op.drop_index('ix_products_category')

    op.drop_table('products')
    with op.batch_alter_table('web_sessions', schema=None) as batch_op:
        batch_op.drop_index('ix_web_sessions_visitor')
        batch_op.drop_index('ix_web_sessions_customer')

    op.drop_table('web_sessions')
    with op.batch_alter_table('visitors', schema=None) as batch_op:
        batch_op.drop_index('ix_visitors_customer')

    op.drop_table('visitors')
    with op.batch_alter_table('subscriptions', schema=None) as batch_op:
        batch_op.drop_index('ix_subscriptions_category_channel')

    op.drop_table('subscriptions')
    with op.batch_alter_table('receipts', schema=None) as batch_op:
        batch_op.drop_index('ix_receipts_purchased_at')
        batch_op.drop_index('ix_receipts_number')
        batch_op.drop_index('ix_receipts_customer_purchased')

    op.drop_table('receipts')
    with op.batch_alter_table('push_tokens', schema=None) as batch_op:
        batch_op.drop_index('ix_push_tokens_customer')

    op.drop_table('push_tokens')
    op.drop_table('import_jobs')
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_index('ix_events_visitor_time', sqlite_where=sa.text('visitor_id IS NOT NULL'), postgresql_where=sa.text('visitor_id IS NOT NULL'))
        batch_op.drop_index('ix_events_name_time')
        batch_op.drop_index('ix_events_customer_name_time')

    op.drop_table('events')
    op.drop_table('dictionary_items')
    with op.batch_alter_table('container_states', schema=None) as batch_op:
        batch_op.drop_index('ix_container_states_changed')

    op.drop_table('container_states')
    with op.batch_alter_table('categories', schema=None) as batch_op:
        batch_op.drop_index('ix_categories_path')
        batch_op.drop_index('ix_categories_parent')

    op.drop_table('categories')
    op.drop_table('stores')
    op.drop_table('mailing_categories')
    with op.batch_alter_table('idempotency_records', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_idempotency_records_created_at'))

    op.drop_table('idempotency_records')
    op.drop_table('field_definitions')
    op.drop_table('event_sources')
    op.drop_table('dictionaries')
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.drop_index('ix_customers_registered_at')
        batch_op.drop_index('ix_customers_phone')
        batch_op.drop_index('ix_customers_last_purchase_at')
        batch_op.drop_index('ix_customers_email')
        batch_op.drop_index('ix_customers_card_number')

    op.drop_table('customers')
    op.drop_table('containers')
    op.drop_table('classifiers')
