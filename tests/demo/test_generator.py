"""The demo generator: deterministic by seed, sized as asked, aggregates exactly as the receipts say."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from sqlalchemy import Connection, func, inspect, select
from sqlalchemy.orm import Session

from smartcomm.audit.actor import Actor
from smartcomm.customers.repository import CustomerRepository
from smartcomm.customers.schemas import CustomerIn
from smartcomm.customers.service import customer_service
from smartcomm.demo import NotEmpty, generator
from smartcomm.demo.starters import example_segments
from smartcomm.models import (
    AuditEntry,
    Category,
    ContainerItem,
    Customer,
    Event,
    MailingCategory,
    Product,
    PushToken,
    Receipt,
    ReceiptLine,
    Store,
    Subscription,
    WebEvent,
    WebSession,
)
from tests.demo.conftest import AGGREGATES, checksums, count, digest, make_demo


def test_the_same_seed_gives_the_same_data_and_another_seed_other_data(session: Session) -> None:
    def run(seed: int) -> dict[str, str]:
        savepoint = session.begin_nested()
        make_demo(session, customers=80, seed=seed)
        sums = checksums(session)
        savepoint.rollback()
        return sums

    first, again, other = run(11), run(11), run(12)

    assert first == again
    assert all(first[table] != other[table] for table in first)
    assert count(session, Customer) == 0


def test_sizes_follow_the_options(session: Session) -> None:
    summary = make_demo(session, customers=300, receipts_per_customer=10)

    receipts, lines = count(session, Receipt), count(session, ReceiptLine)
    assert count(session, Customer) == summary.counts["customers"] == 300
    assert summary.counts["receipts"] == receipts
    assert 0.75 * 3000 <= receipts <= 1.3 * 3000
    assert 2.6 <= lines / receipts <= 3.5
    assert count(session, Store) == 32 and count(session, Store, Store.is_online) == 1
    assert count(session, Category, Category.parent_id.is_(None)) == 12
    assert count(session, Category, Category.parent_id.is_not(None)) == 48
    assert count(session, Product) == 48 * 31
    categories = session.execute(
        select(MailingCategory.code, MailingCategory.name).order_by(MailingCategory.code)
    )
    # The demo retailer is a Russian chain: its records are named in Russian like its customers.
    assert [tuple(row) for row in categories] == [
        ("news", "Новости"),
        ("personal_offers", "Персональные предложения"),
        ("promotions", "Акции"),
    ]
    for model in (Event, PushToken, WebSession, WebEvent, ContainerItem, Subscription):
        assert count(session, model) > 0, model.__tablename__


def test_fewer_receipts_per_customer_give_a_smaller_history(session: Session) -> None:
    make_demo(session, customers=200, receipts_per_customer=3)

    assert 0.7 * 600 <= count(session, Receipt) <= 1.4 * 600


def test_aggregates_are_exactly_what_refresh_aggregates_computes(session: Session) -> None:
    make_demo(session, customers=150)
    generated = session.execute(select(*AGGREGATES).order_by(Customer.id)).all()

    CustomerRepository(session).refresh_aggregates([row.id for row in generated])
    recomputed = session.execute(select(*AGGREGATES).order_by(Customer.id)).all()

    assert generated == recomputed
    assert any(row.receipt_count == 0 for row in generated)
    assert sum(row.total_amount for row in generated) > Decimal("1000")
    not_paid = count(session, Receipt, Receipt.status != "paid")
    assert not_paid > 0
    assert sum(row.receipt_count for row in generated) == count(session, Receipt) - not_paid


def test_lines_carry_the_receipt_and_product_facts(session: Session) -> None:
    make_demo(session, customers=100)

    mismatched = session.scalar(
        select(func.count())
        .select_from(ReceiptLine)
        .join(Receipt, Receipt.id == ReceiptLine.receipt_id)
        .join(Product, Product.id == ReceiptLine.product_id)
        .where(
            (ReceiptLine.customer_id != Receipt.customer_id)
            | (ReceiptLine.purchased_at != Receipt.purchased_at)
            | (ReceiptLine.is_purchase != (Receipt.status == "paid"))
            | (ReceiptLine.category_id != Product.category_id)
            | (ReceiptLine.sku != Product.sku)
        )
    )
    assert mismatched == 0
    totals = (
        select(ReceiptLine.receipt_id, func.sum(ReceiptLine.amount).label("amount"))
        .group_by(ReceiptLine.receipt_id)
        .subquery()
    )
    wrong_totals = session.scalar(
        select(func.count())
        .select_from(Receipt)
        .join(totals, totals.c.receipt_id == Receipt.id)
        .where(totals.c.amount != Receipt.total)
    )
    assert wrong_totals == 0


def test_a_base_with_customers_is_refused_and_nothing_is_written(session: Session) -> None:
    customer_service.upsert(
        session, Actor.system("tests"), CustomerIn(external_id="own-1", first_name="Anna")
    )
    session.flush()

    with pytest.raises(NotEmpty, match="already holds 1 customers"):
        make_demo(session, customers=20)

    assert count(session, Customer) == 1
    assert count(session, Receipt) == 0 and count(session, Product) == 0


def test_the_load_is_recorded_in_the_action_history(session: Session) -> None:
    make_demo(session, customers=40)

    entry = session.scalars(select(AuditEntry).where(AuditEntry.object_id == "demo")).one()
    assert (entry.action, entry.object_type, entry.actor_kind) == ("import", "import", "system")
    assert entry.changes["customers"] == [None, 40]
    assert entry.changes["receipts"] == [None, count(session, Receipt)]


def test_a_big_load_rebuilds_indexes_and_keys_and_gives_the_same_data(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    savepoint = session.begin_nested()
    make_demo(session, customers=60, seed=4)
    small = checksums(session)
    savepoint.rollback()
    connection = session.connection()
    before = {table: _structure(connection, table) for table in ("receipts", "receipt_lines", "events")}

    monkeypatch.setattr(generator, "BULK_CUSTOMERS", 1)
    make_demo(session, customers=60, seed=4)

    assert checksums(session) == small
    assert {table: _structure(connection, table) for table in before} == before


def _structure(connection: Connection, table: str) -> tuple[list[str], list[str]]:
    inspector = inspect(connection)
    indexes = sorted(str(index["name"]) for index in inspector.get_indexes(table))
    keys = sorted(str(key["name"]) for key in inspector.get_foreign_keys(table))
    return indexes, keys


def test_blocks_and_worker_processes_never_change_the_data(session: Session) -> None:
    def run(**options: int) -> dict[str, str]:
        savepoint = session.begin_nested()
        make_demo(session, customers=70, seed=9, **options)
        sums = checksums(session) | {"ids": _id_digest(session)}
        savepoint.rollback()
        return sums

    one_block = run(chunk_size=100, processes=0)

    assert run(chunk_size=7, processes=0) == one_block
    assert run(chunk_size=16, processes=2) == one_block


def _id_digest(session: Session) -> str:
    """Ids too: every block continues the ids of the blocks before it."""
    statement = (
        select(Receipt.id, Receipt.number, ReceiptLine.id, ReceiptLine.position, Customer.id)
        .join(ReceiptLine, ReceiptLine.receipt_id == Receipt.id)
        .join(Customer, Customer.id == Receipt.customer_id)
        .order_by(ReceiptLine.id)
    )
    web = select(WebEvent.id, WebEvent.session_id, WebSession.key).join(
        WebSession, WebSession.id == WebEvent.session_id
    )
    return digest(session, statement) + digest(session, web.order_by(WebEvent.id))


def test_the_example_segments_are_named_in_russian_like_the_demo_retailer() -> None:
    segments = example_segments(promotions_id=1)
    assert [segment.name for segment in segments] == [
        "Покупали за последние 90 дней",
        "Спят полгода",
        "Частые покупатели, читающие наши акции",
        "День рождения в ближайшую неделю",
    ]
    assert all(segment.description and re.search("[а-я]", segment.description) for segment in segments)
