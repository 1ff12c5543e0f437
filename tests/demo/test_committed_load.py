"""A committing load (the command line's): a commit per block, aggregates right, interruptions safe."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import inspect, select

from smartcomm.customers.repository import CustomerRepository
from smartcomm.demo import DemoOptions, NotEmpty, generate, generator
from smartcomm.demo.bulk import BulkWriter
from smartcomm.kit.db import Database, pinned_session, session_scope, set_database
from smartcomm.models import Customer, Receipt, ReceiptLine
from tests.conftest import migrated_database
from tests.demo.conftest import AGGREGATES, AS_OF, checksums, count


def load(customers: int, **options: int) -> None:
    with pinned_session() as session:
        options = {"chunk_size": 25, "processes": 0} | options
        demo = DemoOptions(customers=customers, seed=3, as_of=AS_OF, **options)
        generate(session, demo, checkpoint=session.commit)


def test_a_committing_load_gives_the_data_of_a_single_transaction(
    live_database: Database, new_database_url: Callable[[str], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(generator, "BULK_CUSTOMERS", 1)  # indexes dropped and rebuilt, as for a big load
    load(90)
    with live_database.session() as session:
        committed = checksums(session)
        generated = session.execute(select(*AGGREGATES).order_by(Customer.id)).all()
        CustomerRepository(session).refresh_aggregates([row.id for row in generated])
        assert session.execute(select(*AGGREGATES).order_by(Customer.id)).all() == generated
        assert count(session, Customer) == 90 and count(session, ReceiptLine) > count(session, Receipt) > 90

    monkeypatch.setattr(generator, "BULK_CUSTOMERS", 5_000)
    other = migrated_database(new_database_url("single"))
    previous = set_database(other)
    try:
        with session_scope() as session:
            generate(session, DemoOptions(customers=90, seed=3, as_of=AS_OF, chunk_size=90, processes=0))
        with session_scope(read_only=True) as session:
            assert checksums(session) == committed
    finally:
        set_database(previous)
        other.dispose()


def test_an_interrupted_load_keeps_whole_blocks_its_indexes_and_refuses_a_rerun(
    live_database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(generator, "BULK_CUSTOMERS", 1)
    indexes_before = _indexes(live_database)
    write = BulkWriter.write
    written = []

    def write_two_blocks_then_fail(writer: BulkWriter, block: generator.Block) -> None:
        if len(written) == 2:
            raise KeyboardInterrupt
        write(writer, block)
        written.append(block.first)

    monkeypatch.setattr(BulkWriter, "write", write_two_blocks_then_fail)
    with pytest.raises(KeyboardInterrupt):
        load(100)
    monkeypatch.setattr(BulkWriter, "write", write)

    with live_database.session() as session:
        assert count(session, Customer) == 50  # two blocks of 25, committed
        lines = count(session, ReceiptLine)
    assert _indexes(live_database) == indexes_before
    with pytest.raises(NotEmpty, match="already holds 50 customers"):
        load(100)
    with live_database.session() as session:
        assert (count(session, Customer), count(session, ReceiptLine)) == (50, lines)


def _indexes(database: Database) -> dict[str, list[str]]:
    with database.engine.connect() as connection:
        inspector = inspect(connection)
        return {
            table: sorted(str(index["name"]) for index in inspector.get_indexes(table))
            + sorted(str(key["name"]) for key in inspector.get_foreign_keys(table))
            for table in ("customers", "receipts", "receipt_lines", "events", "web_events")
        }
