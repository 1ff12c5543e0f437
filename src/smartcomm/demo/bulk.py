"""Bulk writing beside the ORM: pre-built tuples straight into the driver, in the caller's transaction.

SQLite gets `executemany` on the raw connection, PostgreSQL gets binary `COPY` through psycopg 3.
Values are produced in the form each backend stores (timestamps as SQLAlchemy's SQLite text, or as
aware datetimes for PostgreSQL), so nothing is converted row by row here. Ids are allocated by the
caller from `next_id`, and the PostgreSQL sequences are moved past them at the end.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from functools import cached_property
from typing import Any

from sqlalchemy import Connection, ForeignKeyConstraint, Index, Table, func, inspect, select, text
from sqlalchemy.schema import AddConstraint, DropConstraint

from smartcomm.demo.progress import Progress

Row = tuple[Any, ...]
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class BulkWriter:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.is_sqlite = connection.dialect.name == "sqlite"
        driver = connection.connection.driver_connection
        assert driver is not None
        self._driver: Any = driver
        self._pg_types: dict[str, list[str]] = {}
        self._day_text: dict[int, str] = {}

    def stamp(self, seconds: int) -> Any:
        """A UTC instant (seconds since the epoch) as the backend stores it."""
        if not self.is_sqlite:
            return _EPOCH + timedelta(seconds=seconds)
        day, second = divmod(seconds, 86400)
        prefix = self._day_text.get(day)
        if prefix is None:
            prefix = self._day_text[day] = (_EPOCH + timedelta(days=day)).strftime("%Y-%m-%d ")
        return prefix + self._clock[second]

    @cached_property
    def _clock(self) -> list[str]:
        """Every second of a day in SQLAlchemy's SQLite DATETIME text (microseconds included), so values
        compare exactly as the ORM writes them; a lookup is far cheaper than formatting."""
        return [f"{h:02d}:{m:02d}:{s:02d}.000000" for h in range(24) for m in range(60) for s in range(60)]

    def day(self, value: date) -> Any:
        return value.isoformat() if self.is_sqlite else value

    def next_id(self, table: Table) -> int:
        return int(self.connection.scalar(select(func.coalesce(func.max(table.c.id), 0))) or 0) + 1

    def insert(self, table: Table, columns: Sequence[str], rows: Sequence[Row]) -> None:
        if not rows:
            return
        if self.is_sqlite:
            marks = ", ".join("?" * len(columns))
            statement = f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({marks})"  # noqa: S608 (our names)
            self._driver.executemany(statement, rows)
            return
        self._copy(table, columns, rows)

    def _copy(self, table: Table, columns: Sequence[str], rows: Sequence[Row]) -> None:
        types = self._column_types(table, columns)
        statement = f"COPY {table.name} ({', '.join(columns)}) FROM STDIN (FORMAT BINARY)"
        with self._driver.cursor() as cursor, cursor.copy(statement) as copy:
            copy.set_types(types)
            for row in rows:
                copy.write_row(row)

    def _column_types(self, table: Table, columns: Sequence[str]) -> list[str]:
        key = f"{table.name}:{','.join(columns)}"
        if key not in self._pg_types:
            found: dict[str, str] = dict(
                self.connection.execute(
                    text(
                        "SELECT attname, format_type(atttypid, NULL) FROM pg_attribute "
                        "WHERE attrelid = CAST(:table AS regclass) AND attnum > 0 AND NOT attisdropped"
                    ),
                    {"table": table.name},
                ).all()
            )
            # JSON arrives as ready text; json's binary wire format is that text, so send it as text
            # (the json dumper would encode the string a second time).
            self._pg_types[key] = ["text" if found[column] == "json" else found[column] for column in columns]
        return self._pg_types[key]

    @contextmanager
    def structures_deferred(
        self, tables: Sequence[Table], progress: Progress, *, enabled: bool
    ) -> Iterator[None]:
        """For a big load: drop the secondary indexes of `tables` (and, on PostgreSQL, their foreign keys,
        whose per-row triggers cost more than the rows) and build them once at the end."""
        indexes = [index for table in tables for index in self._existing_indexes(table)] if enabled else []
        keys = [key for table in tables for key in self._existing_foreign_keys(table)] if enabled else []
        for key in keys:
            self.connection.execute(DropConstraint(key))
        for index in indexes:
            index.drop(self.connection)
        yield
        if not indexes and not keys:
            return
        if not self.is_sqlite:  # sort in memory and let PostgreSQL use its parallel index build
            self.connection.exec_driver_sql("SET LOCAL maintenance_work_mem = '512MB'")
        progress.begin("indexes", len(indexes) + len(keys))
        for index in indexes:
            index.create(self.connection)
            progress.advance("indexes", 1)
        for key in keys:
            self.connection.execute(AddConstraint(key))
            progress.advance("indexes", 1)
        progress.end("indexes")

    def _existing_foreign_keys(self, table: Table) -> list[ForeignKeyConstraint]:
        if self.is_sqlite:  # constraints are part of SQLite's table definition; its checks are cheap anyway
            return []
        present = {found["name"] for found in inspect(self.connection).get_foreign_keys(table.name)}
        return sorted(
            (key for key in table.foreign_key_constraints if key.name in present), key=lambda k: str(k.name)
        )

    def _existing_indexes(self, table: Table) -> list[Index]:
        """The model's secondary indexes that the database really has (only those are dropped and rebuilt)."""
        present = {found["name"] for found in inspect(self.connection).get_indexes(table.name)}
        return sorted(
            (index for index in table.indexes if index.name in present), key=lambda index: str(index.name)
        )

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
