"""Bulk writing beside the ORM: blocks of pre-built tuples straight into the driver.

SQLite gets `executemany` on the raw connection, PostgreSQL gets text `COPY` through psycopg 3. Values
arrive in the text form each backend stores (see `formats.py`). A block's ids start at 0; the writer
adds the ids written before it. Receipts arrive staged, naming a pre-drawn basket: they go into a
temporary table and the database expands them into receipts and receipt lines with two
INSERT … SELECT statements, so the lines (three per receipt) never cross the driver row by row.
PostgreSQL sequences are moved past the ids written at the end.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, ForeignKeyConstraint, Index, Table, func, inspect, select, text
from sqlalchemy.orm import Session
from sqlalchemy.schema import AddConstraint, DropConstraint

from smartcomm.demo.progress import Progress
from smartcomm.demo.shop import BASKET_COLUMNS, BASKET_LINE_COLUMNS, STAGED_RECEIPT_COLUMNS
from smartcomm.demo.world import BLOCK_COLUMNS, Block

Row = tuple[Any, ...]
# Tables whose ids the writer shifts by the rows written before the block: column -> id of which table.
ID_COLUMNS: dict[str, dict[int, str]] = {
    "events": {0: "events"},
    "push_tokens": {0: "push_tokens"},
    "web_sessions": {0: "web_sessions"},
    "web_events": {0: "web_events", 5: "web_sessions"},
}
# SQLite settings during the load (journal_mode stays WAL, so readers and a crash stay safe).
_BULK_PRAGMAS = {"synchronous": "OFF", "foreign_keys": "OFF"}
SORT_CACHE_SIZE = -20_000  # KiB of SQLite page cache while indexes are built (see _sort_settings)
# {i}: the integer type, {t}: the type of an instant as the backend takes it from the staged text.
_STAGING_TABLES = {
    "demo_baskets": "id {i} PRIMARY KEY, total {i}, discount {i}, items {i}",
    "demo_basket_lines": "basket {i}, position {i}, product_id {i}, category_id {i}, sku VARCHAR(64), "
    "quantity {i}, price {i}, amount {i}, discount {i}, PRIMARY KEY (basket, position)",
    "demo_receipts": "id {i} PRIMARY KEY, number VARCHAR(64), store_id {i}, customer_id {i}, "
    "purchased_at {t}, status VARCHAR(16), basket {i}, first_line {i}, bonus_earned {i}, bonus_spent {i}",
}
_RECEIPTS_FROM_STAGE = """
INSERT INTO receipts (id, number, store_id, customer_id, purchased_at, status, total, discount,
    bonus_earned, bonus_spent, item_count, custom, created_at, updated_at)
SELECT r.id + :receipts, r.number, r.store_id, r.customer_id, r.purchased_at, r.status, b.total,
    b.discount, r.bonus_earned, r.bonus_spent, b.items, {empty}, r.purchased_at, r.purchased_at
FROM demo_receipts r JOIN demo_baskets b ON b.id = r.basket
ORDER BY r.id
"""
_LINES_FROM_STAGE = """
INSERT INTO receipt_lines (id, receipt_id, customer_id, purchased_at, is_purchase, position,
    product_id, category_id, sku, quantity, price, amount, discount, custom)
SELECT r.first_line + l.position - 1 + :lines, r.id + :receipts, r.customer_id, r.purchased_at,
    r.status = 'paid', l.position, l.product_id, l.category_id, l.sku, l.quantity, l.price, l.amount,
    l.discount, {empty}
FROM demo_receipts r JOIN demo_basket_lines l ON l.basket = r.basket
ORDER BY r.id, l.position
"""


@dataclass
class Deferred:
    """Secondary indexes and foreign keys dropped for a big load, to be built once at the end."""

    indexes: list[Index] = field(default_factory=list)
    keys: list[ForeignKeyConstraint] = field(default_factory=list)

    @property
    def size(self) -> int:
        return len(self.indexes) + len(self.keys)


class BulkWriter:
    def __init__(self, session: Session, tables: dict[str, Table]) -> None:
        self.session = session
        self.is_sqlite = self.connection.dialect.name == "sqlite"
        driver = self.connection.connection.driver_connection
        assert driver is not None
        self._cache_size: int | None = None
        self._driver: Any = driver  # the same all along: a committing load pins the session's connection
        self.next_ids = {
            name: self.next_id(tables[name]) for name in ("receipts", "receipt_lines", *ID_COLUMNS)
        }

    @property
    def connection(self) -> Connection:
        # Through the session every time: after a checkpoint's commit the session begins the next
        # transaction itself (a statement on the bare connection would begin one the session does
        # not own, and its commit would not commit it).
        return self.session.connection()

    def next_id(self, table: Table) -> int:
        return int(self.connection.scalar(select(func.coalesce(func.max(table.c.id), 0))) or 0) + 1

    def stage(self, baskets: Sequence[Row], lines: Sequence[Row]) -> None:
        """Create the temporary staging tables and fill in the basket pools."""
        kinds = {"i": "INTEGER", "t": "TEXT"} if self.is_sqlite else {"i": "BIGINT", "t": "TIMESTAMPTZ"}
        for name, columns in _STAGING_TABLES.items():
            self.connection.exec_driver_sql(f"DROP TABLE IF EXISTS {name}")
            self.connection.exec_driver_sql(f"CREATE TEMPORARY TABLE {name} ({columns.format(**kinds)})")
        self._insert("demo_baskets", BASKET_COLUMNS, baskets)
        self._insert("demo_basket_lines", BASKET_LINE_COLUMNS, lines)

    def unstage(self) -> None:
        for name in _STAGING_TABLES:
            self.connection.exec_driver_sql(f"DROP TABLE IF EXISTS {name}")

    def write(self, block: Block) -> None:
        """Every row of the block, in the order the foreign keys need."""
        for name, columns in BLOCK_COLUMNS.items():
            rows = block.rows[name]
            if name == "receipts":
                self._receipts(rows)
            elif name in ID_COLUMNS:
                self._insert(name, columns, _shifted(rows, ID_COLUMNS[name], self.next_ids))
            else:
                self._insert(name, columns, rows)
        for name in ID_COLUMNS:
            self.next_ids[name] += block.count(name)
        self.next_ids["receipts"] += block.count("receipts")
        self.next_ids["receipt_lines"] += block.count("receipt_lines")

    def _receipts(self, staged: Sequence[Row]) -> None:
        self.connection.exec_driver_sql(f"{'DELETE FROM' if self.is_sqlite else 'TRUNCATE'} demo_receipts")
        self._insert("demo_receipts", STAGED_RECEIPT_COLUMNS, staged)
        empty = "'{}'" if self.is_sqlite else "CAST('{}' AS JSON)"
        offsets = {"receipts": self.next_ids["receipts"], "lines": self.next_ids["receipt_lines"]}
        self.connection.execute(text(_RECEIPTS_FROM_STAGE.format(empty=empty)), offsets)
        self.connection.execute(text(_LINES_FROM_STAGE.format(empty=empty)), offsets)

    def _insert(self, table: str, columns: Sequence[str], rows: Sequence[Row]) -> None:
        if not rows:
            return
        if self.is_sqlite:
            marks = ", ".join("?" * len(columns))
            statement = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"  # noqa: S608 (our names)
            self._driver.executemany(statement, rows)
            return
        statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
        with self._driver.cursor() as cursor, cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row(row)

    @contextmanager
    def bulk_settings(self) -> Iterator[None]:
        """Connection settings for the load, taken between commits: no fsync per block and, on SQLite,
        no per-row foreign key checks (the generator makes consistent rows; PostgreSQL's keys are
        dropped and checked once when they are added back)."""
        if self.is_sqlite and self._driver.in_transaction:
            yield  # an outer transaction (the tests'): SQLite changes neither setting inside one
            return
        if not self.is_sqlite:
            self.connection.exec_driver_sql("SET synchronous_commit = off")
            try:
                yield
            finally:
                self.connection.exec_driver_sql("RESET synchronous_commit")
            return
        saved = {name: self._driver.execute(f"PRAGMA {name}").fetchone()[0] for name in _BULK_PRAGMAS}
        for name, value in _BULK_PRAGMAS.items():
            self._driver.execute(f"PRAGMA {name}={value}")
        try:
            yield
        finally:
            for name, value in saved.items():
                self._driver.execute(f"PRAGMA {name}={int(value)}")

    def drop_structures(self, tables: Sequence[Table]) -> Deferred:
        """For a big load: drop the secondary indexes of `tables` (and, on PostgreSQL, their foreign keys,
        whose per-row triggers cost more than the rows) so that they are built once at the end."""
        deferred = Deferred(
            [index for table in tables for index in self._existing_indexes(table)],
            [key for table in tables for key in self._existing_foreign_keys(table)],
        )
        for key in deferred.keys:
            self.connection.execute(DropConstraint(key))
        for index in deferred.indexes:
            index.drop(self.connection)
        return deferred

    def build_structures(
        self, deferred: Deferred, progress: Progress, checkpoint: Callable[[], None]
    ) -> None:
        """Build what `drop_structures` dropped, each in its own transaction when the load commits."""
        if not deferred.size:
            return
        self._sort_settings()
        progress.begin("indexes", deferred.size)
        for index in deferred.indexes:
            index.create(self.connection)
            checkpoint()
            progress.advance("indexes", 1)
        for key in deferred.keys:
            self.connection.execute(AddConstraint(key))
            checkpoint()
            progress.advance("indexes", 1)
        progress.end("indexes")

    def _sort_settings(self) -> None:
        if self.is_sqlite:
            # A sort bigger than the cache is cut into runs that helper threads sort and merge: with a
            # small cache even a mid-sized index uses the second core (measured 1.5x faster).
            self._cache_size = self._driver.execute("PRAGMA cache_size").fetchone()[0]
            self._driver.execute("PRAGMA threads=2")
            self._driver.execute(f"PRAGMA cache_size={SORT_CACHE_SIZE}")
        else:  # sort in memory and let PostgreSQL use its parallel index build
            self.connection.exec_driver_sql("SET maintenance_work_mem = '512MB'")

    def reset_sort_settings(self) -> None:
        if self.is_sqlite:
            self._driver.execute("PRAGMA threads=0")
            if self._cache_size is not None:
                self._driver.execute(f"PRAGMA cache_size={int(self._cache_size)}")
        else:
            self.connection.exec_driver_sql("RESET maintenance_work_mem")

    def _existing_foreign_keys(self, table: Table) -> list[ForeignKeyConstraint]:
        if self.is_sqlite:  # constraints are part of SQLite's table definition; its checks are cheap anyway
            return []
        present = {found["name"] for found in inspect(self.connection).get_foreign_keys(table.name)}
        return sorted(
            (key for key in table.foreign_key_constraints if key.name in present), key=lambda k: str(k.name)
        )

    def _existing_indexes(self, table: Table) -> list[Index]:
        """The model's secondary indexes that the database really has (only those are dropped and rebuilt)."""
        present = self._index_names(table)
        return sorted(
            (index for index in table.indexes if index.name in present), key=lambda index: str(index.name)
        )

    def _index_names(self, table: Table) -> set[str]:
        if self.is_sqlite:  # expression indexes are not reflected on SQLite: read its catalogue
            rows = self.connection.exec_driver_sql(
                "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ?", (table.name,)
            )
            return {str(name) for (name,) in rows}
        return {str(found["name"]) for found in inspect(self.connection).get_indexes(table.name)}

    def finish(self, tables: Sequence[Table]) -> None:
        """Move PostgreSQL sequences past the ids written, then refresh the planner statistics."""
        if self.is_sqlite:
            self.connection.exec_driver_sql("PRAGMA analysis_limit=1000")
            for table in tables:
                self.connection.exec_driver_sql(f"ANALYZE {table.name}")
            return
        for table in tables:
            if "id" in table.c and table.c.id.type.python_type is int:
                self.connection.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "  # noqa: S608 (our names)
                        f"(SELECT coalesce(max(id), 0) + 1 FROM {table.name}), false)"
                    )
                )
            self.connection.exec_driver_sql(f"ANALYZE {table.name}")


def _shifted(rows: Sequence[Row], columns: dict[int, str], next_ids: dict[str, int]) -> list[Row]:
    """The rows with their block-local ids turned into the base's (block ids start at 0)."""
    if list(columns) == [0]:
        start = next_ids[columns[0]]
        return [(row[0] + start, *row[1:]) for row in rows]
    shifts = [(column, next_ids[table]) for column, table in columns.items()]
    shifted = []
    for row in rows:
        values = list(row)
        for column, start in shifts:
            values[column] += start
        shifted.append(tuple(values))
    return shifted
