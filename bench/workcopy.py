"""The working copy the S figures share, and the DuckDB reference loaded from it.

S1–S4 run on one copy of the demo base per backend (made once, dropped at the end), in the order
S1, S2, S3, S4: S2 only reads, S3 builds and then deletes its own segment, S4 adds receipts last. On
PostgreSQL the copy is vacuumed and analysed first, which is where autovacuum keeps an insert-mostly
table (the RFM aggregate is an index-only scan: it needs the visibility map).

The DuckDB reference gets the same rows: the columns S1 and S2 read are exported from the copy to CSV
files (SQLite: Python's `csv`; PostgreSQL: `COPY … TO STDOUT`) and read into an in-memory DuckDB with
`read_csv`. Only the reference's query is timed, never the export or the load.
"""

from __future__ import annotations

import csv
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from bench.databases import BaseDatabase
from bench.run import Run
from smartcomm.kit.db import Database, create_db_engine, session_scope, set_database

# What the references read, as (query on the product's database, DuckDB column types).
EXPORTS: dict[str, tuple[str, dict[str, str]]] = {
    "receipts": (
        "SELECT id, customer_id, purchased_at, status, total FROM receipts",
        {
            "id": "BIGINT",
            "customer_id": "BIGINT",
            "purchased_at": "TIMESTAMP",
            "status": "VARCHAR",
            "total": "BIGINT",
        },
    ),
    "customers": (
        "SELECT id, gender, allow_email FROM customers",
        {"id": "BIGINT", "gender": "VARCHAR", "allow_email": "INTEGER"},
    ),
}
# PostgreSQL writes instants as naive UTC text, the form SQLite stores and DuckDB reads as TIMESTAMP.
PG_EXPORTS = {
    "receipts": "SELECT id, customer_id, purchased_at AT TIME ZONE 'UTC', status, total FROM receipts",
    "customers": "SELECT id, gender, allow_email::int FROM customers",
}


@dataclass
class WorkCopy:
    run: Run
    backend: str
    base: BaseDatabase
    url: str
    database: Database
    prepare_seconds: float = 0.0
    _duck: Any = None
    loaded: dict[str, int] = field(default_factory=dict)  # DuckDB tables -> rows

    @contextmanager
    def session(self, *, read_only: bool = False) -> Iterator[Session]:
        """A unit of work of the product on this copy (commit on success)."""
        previous = set_database(self.database)
        try:
            with session_scope(read_only=read_only) as session:
                yield session
        finally:
            set_database(previous)

    @contextmanager
    def bound(self) -> Iterator[Database]:
        """The product's process-wide database pointed at this copy for the duration."""
        previous = set_database(self.database)
        try:
            yield self.database
        finally:
            set_database(previous)

    def scalar(self, statement: str, parameters: dict[str, Any] | None = None) -> Any:
        with self.database.engine.connect() as connection:
            return connection.execute(text(statement), parameters or {}).scalar()

    def duckdb(self) -> Any:
        """An in-memory DuckDB holding the exported receipts and customers of this copy."""
        if self._duck is None:
            self._duck = _load_duckdb(self)
        return self._duck

    def duckdb_table(
        self, name: str, statement: str, columns: dict[str, str], postgres: str | None = None
    ) -> int:
        """Load one more table of this copy into its DuckDB (a figure's own reference rows); its rows."""
        connection = self.duckdb()
        if name not in self.loaded:
            exported = postgres if postgres and self.backend == "postgres" else statement
            _load_table(self, connection, name, exported, columns)
        return self.loaded[name]

    def close(self) -> None:
        if self._duck is not None:
            self._duck.close()
        self.database.dispose()


@contextmanager
def work_copy(run: Run, backend: str) -> Iterator[WorkCopy]:
    base = run.databases.base(backend, run.tier, run.seed)
    url = run.databases.clone(base)
    copy = WorkCopy(run, backend, base, url, Database(url))
    try:
        started = time.perf_counter()
        if backend == "postgres":
            engine = create_db_engine(url).execution_options(isolation_level="AUTOCOMMIT")
            with engine.connect() as connection:
                connection.exec_driver_sql("VACUUM ANALYZE")
            engine.dispose()
        copy.prepare_seconds = time.perf_counter() - started
        yield copy
    finally:
        copy.close()
        run.databases.drop(url)


def _load_duckdb(copy: WorkCopy) -> Any:
    import duckdb

    connection = duckdb.connect(":memory:")
    for name, (statement, columns) in EXPORTS.items():
        _load_table(
            copy, connection, name, PG_EXPORTS[name] if copy.backend == "postgres" else statement, columns
        )
    return connection


def _load_table(copy: WorkCopy, connection: Any, name: str, statement: str, columns: dict[str, str]) -> None:
    """Export the rows of `statement` from the copy and read them into DuckDB's table `name`."""
    path = copy.run.workdir / f"duck-{copy.backend}-{name}.csv"
    rows = _export(copy, statement, path)
    types = ", ".join(f"'{column}': '{kind}'" for column, kind in columns.items())
    if rows:
        connection.execute(
            f"CREATE TABLE {name} AS SELECT * FROM read_csv('{path}', header = false, "
            f"columns = {{{types}}}, nullstr = '')"
        )
    else:  # DuckDB cannot sniff an empty file
        definition = ", ".join(f"{column} {kind}" for column, kind in columns.items())
        connection.execute(f"CREATE TABLE {name} ({definition})")
    loaded = connection.execute(f"SELECT count(*) FROM {name}").fetchone()
    if loaded is None or loaded[0] != rows:
        raise RuntimeError(f"DuckDB read {loaded} rows of {name}, {rows} exported")
    copy.loaded[name] = rows
    path.unlink()


def _export(copy: WorkCopy, statement: str, path: Path) -> int:
    """Write the rows of `statement` to a headerless CSV file; returns how many."""
    rows = 0
    pooled = copy.database.engine.raw_connection()
    try:
        raw: Any = pooled.driver_connection
        if copy.backend == "postgres":
            with path.open("wb") as handle, raw.cursor() as cursor:
                with cursor.copy(f"COPY ({statement}) TO STDOUT WITH (FORMAT csv)") as out:
                    for chunk in out:
                        handle.write(chunk)
                rows = cursor.rowcount
            raw.rollback()
            return int(rows)
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            cursor = raw.execute(statement)
            while batch := cursor.fetchmany(100_000):
                writer.writerows(batch)
                rows += len(batch)
    finally:
        pooled.close()
    return rows


def timed_duckdb(connection: Any, statement: str, parameters: list[Any]) -> tuple[float, list[Any]]:
    """Seconds of one DuckDB statement with its rows fetched, and those rows."""
    started = time.perf_counter()
    rows = connection.execute(statement, parameters).fetchall()
    return time.perf_counter() - started, rows
