"""SQL of imports: the import jobs, and bulk statements on the raw connection for the write pass.

Bulk rows go through the DBAPI cursor of the session's own connection (so they share its
transaction): `executemany` on SQLite, `COPY … FROM STDIN` on PostgreSQL. Values must then already be
in their stored form: money in minor units, and on SQLite times as the text SQLAlchemy writes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import Session

from smartcomm.customers.repository import chunks
from smartcomm.kit.leases import INTERRUPTED, Claim
from smartcomm.kit.pagination import Page, PageParams
from smartcomm.kit.repository import Repository
from smartcomm.kit.time import utcnow
from smartcomm.models import ImportJob, User

RUNNING = ("queued", "checking", "writing")
CLAIMED = ("checking", "writing")  # a process runs the import: its row names that process
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
NAIVE_EPOCH = datetime(1970, 1, 1)
# PostgreSQL column type -> the type its values are sent as in binary COPY. Text-like columns take the
# bytes of the text (json's binary input is its text), so they go as text.
COPY_BINARY_TYPES = {
    "int2": "int2", "int4": "int4", "int8": "int8", "bool": "bool", "timestamptz": "timestamptz",
    "varchar": "text", "text": "text", "json": "text",
}  # fmt: skip


class ImportJobRepository(Repository[ImportJob]):
    model = ImportJob

    def search(self, params: PageParams) -> Page[tuple[ImportJob, str | None]]:
        """Imports newest first, each with the name of the staff user who started it."""
        statement = (
            select(ImportJob, User.full_name)
            .outerjoin(User, User.id == ImportJob.created_by_id)
            .order_by(ImportJob.created_at.desc(), ImportJob.id.desc())
        )
        total = int(self.session.scalar(select(func.count()).select_from(ImportJob)) or 0)
        rows = self.session.execute(statement.limit(params.size).offset(params.offset)).all()
        items: list[tuple[ImportJob, str | None]] = [(job, name) for job, name in rows]
        return Page(items=items, total=total, page=params.page, size=params.size)

    def creator_name(self, job: ImportJob) -> str | None:
        if job.created_by_id is None:
            return None
        return self.session.scalar(select(User.full_name).where(User.id == job.created_by_id))

    def claim(self, job_id: int, owner: str, now: datetime) -> bool:
        """Move a queued job to checking, run by `owner`; False when another took it or it already ran."""
        statement = (
            update(ImportJob)
            .where(ImportJob.id == job_id, ImportJob.status == "queued")
            .values(status="checking", started_at=now, lease_owner=owner, lease_heartbeat_at=now)
        )
        return _changed(self.session.execute(statement))

    def set_progress(self, job_id: int, owner: str, **values: Any) -> bool:
        """Write the progress or the outcome of a job `owner` still runs, renewing its lease; False when
        the job is no longer its own (it was found interrupted), and then nothing is written."""
        statement = (
            update(ImportJob)
            .where(ImportJob.id == job_id, ImportJob.status.in_(CLAIMED), ImportJob.lease_owner == owner)
            .values(lease_heartbeat_at=utcnow(), **values)
        )
        return _changed(self.session.execute(statement))

    def claims(self) -> list[Claim]:
        """The imports some process is checking or writing, with their owners and heartbeats."""
        statement = select(ImportJob.id, ImportJob.lease_owner, ImportJob.lease_heartbeat_at).where(
            ImportJob.status.in_(CLAIMED)
        )
        return [Claim(*row) for row in self.session.execute(statement)]

    def interrupt(self, claim: Claim, now: datetime) -> bool:
        """Mark failed ("interrupted") an import whose process is gone, unless it moved on meanwhile."""
        statement = (
            update(ImportJob)
            .where(
                ImportJob.id == claim.id,
                ImportJob.status.in_(CLAIMED),
                ImportJob.lease_owner.is_not_distinct_from(claim.owner),
                ImportJob.lease_heartbeat_at.is_not_distinct_from(claim.heartbeat_at),
            )
            .values(status="failed", message=INTERRUPTED, finished_at=now)
        )
        return _changed(self.session.execute(statement))

    def has_later_import(self, job: ImportJob) -> bool:
        """Whether the same file was imported again after this job (run again, or its valid rows)."""
        statement = select(ImportJob.id).where(ImportJob.file_path == job.file_path, ImportJob.id > job.id)
        return self.session.scalar(statement.limit(1)) is not None

    def any_running(self, ids: Sequence[int]) -> bool:
        statement = select(ImportJob.id).where(ImportJob.id.in_(ids), ImportJob.status.in_(RUNNING))
        return self.session.scalar(statement.limit(1)) is not None


def _changed(result: Any) -> bool:
    return bool(getattr(result, "rowcount", 0))


class Bulk:
    """Bulk writes on the session's connection, in its transaction, shaped for the backend."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.is_sqlite = session.get_bind().dialect.name == "sqlite"
        self._next_ids: dict[str, int] = {}
        self._copy_types: dict[tuple[str, tuple[str, ...]], list[str] | None] = {}
        self._sequences: dict[str, str] = {}

    @property
    def mark(self) -> str:
        return "?" if self.is_sqlite else "%s"

    def cursor(self) -> Any:
        self.session.flush()
        return self.session.connection().connection.cursor()

    def insert(self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        if not rows:
            return
        cursor = self.cursor()
        names = ", ".join(columns)
        if self.is_sqlite:
            marks = ", ".join("?" * len(columns))
            cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", rows)  # noqa: S608 (our names)
            return
        types = self._binary_types(table, columns)
        binary = " (FORMAT BINARY)" if types else ""
        with cursor.copy(f"COPY {table} ({names}) FROM STDIN{binary}") as copy:
            if types:
                copy.set_types(types)
            for row in rows:
                copy.write_row(row)

    def _binary_types(self, table: str, columns: Sequence[str]) -> list[str] | None:
        """How to send `columns` in binary COPY (less work on both ends than text); None when one of
        them has a type this does not know, and text COPY is used."""
        key = (table, tuple(columns))
        if key not in self._copy_types:
            cursor = self.cursor()
            cursor.execute(
                "SELECT a.attname, t.typname FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid"
                " WHERE a.attrelid = %s::regclass AND a.attnum > 0 AND NOT a.attisdropped",
                [table],
            )
            sent_as = {name: COPY_BINARY_TYPES.get(type_name) for name, type_name in cursor.fetchall()}
            types = [sent_as.get(column) for column in columns]
            self._copy_types[key] = None if None in types else cast(list[str], types)
        return self._copy_types[key]

    def update_by_id(self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        """UPDATE table SET columns WHERE id = last value of each row."""
        if not rows:
            return
        mark = self.mark
        assignments = ", ".join(f"{name} = {mark}" for name in columns)
        statement = f"UPDATE {table} SET {assignments} WHERE id = {mark}"  # noqa: S608 (our names)
        self.cursor().executemany(statement, rows)

    def delete_where_in(self, table: str, column: str, values: Sequence[int]) -> None:
        cursor, mark = self.cursor(), self.mark
        for part in chunks(list(values)):
            marks = ", ".join([mark] * len(part))
            cursor.execute(f"DELETE FROM {table} WHERE {column} IN ({marks})", list(part))  # noqa: S608

    def rows_where_in(self, table: str, columns: Sequence[str], key: str, keys: Sequence[Any]) -> list[Any]:
        """`columns` of the rows whose `key` is one of `keys` (a few statements however many keys)."""
        cursor, names, found = self.cursor(), ", ".join(columns), []
        for part in chunks(list(keys)):
            if self.is_sqlite:
                marks = ", ".join("?" * len(part))
                cursor.execute(f"SELECT {names} FROM {table} WHERE {key} IN ({marks})", list(part))  # noqa: S608
            else:
                cursor.execute(f"SELECT {names} FROM {table} WHERE {key} = ANY(%s)", [list(part)])  # noqa: S608
            found.extend(cursor.fetchall())
        return found

    def pairs_where_in(self, table: str, key: str, value: str, keys: Sequence[Any]) -> dict[Any, Any]:
        """{key: value} of the rows whose `key` is one of `keys`."""
        return dict(self.rows_where_in(table, (key, value), key, keys))

    def is_empty(self, table: str) -> bool:
        cursor = self.cursor()
        cursor.execute(f"SELECT 1 FROM {table} LIMIT 1")  # noqa: S608 (our names)
        return cursor.fetchone() is None

    def new_ids(self, table: str, count: int) -> list[int]:
        """Ids for `count` new rows: from the sequence on PostgreSQL, after the largest id on SQLite.

        On SQLite the write transaction holds the database lock, so nobody else can take these ids, and
        they are the ones SQLite itself would have given.
        """
        if count == 0:
            return []
        cursor = self.cursor()
        if not self.is_sqlite:
            # The sequence is named once: asked for on every row, its name costs more than nextval.
            cursor.execute(
                "SELECT nextval(%s::regclass) FROM generate_series(1, %s)", [self._sequence(table), count]
            )
            return [row[0] for row in cursor.fetchall()]
        if table not in self._next_ids:
            cursor.execute(f"SELECT coalesce(max(id), 0) + 1 FROM {table}")  # noqa: S608 (our names)
            self._next_ids[table] = int(cursor.fetchone()[0])
        first = self._next_ids[table]
        self._next_ids[table] = first + count
        return list(range(first, first + count))

    def _sequence(self, table: str) -> str:
        if table not in self._sequences:
            cursor = self.cursor()
            cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
            self._sequences[table] = str(cursor.fetchone()[0])
        return self._sequences[table]

    def moments(self, micros: Iterable[int]) -> dict[int, Any]:
        """Times given in microseconds since 1970 UTC -> as stored (see `moment`)."""
        if not self.is_sqlite:
            return {value: EPOCH + timedelta(0, 0, value) for value in micros}
        # SQLAlchemy's DATETIME text is what isoformat() writes for a naive time: done in C.
        return {value: (NAIVE_EPOCH + timedelta(0, 0, value)).isoformat(" ", "microseconds")
                for value in micros}  # fmt: skip

    def receipts_by_key(self, keys: Sequence[tuple[int, str]]) -> dict[tuple[int, str], tuple[int, int]]:
        """(store id, number) -> (receipt id, customer id) of the stored receipts among `keys`."""
        wanted = set(keys)
        found: dict[tuple[int, str], tuple[int, int]] = {}
        numbers = list({number for _, number in keys})
        for id_, store_id, number, customer_id in self.rows_where_in(
            "receipts", ("id", "store_id", "number", "customer_id"), "number", numbers
        ):
            if (store_id, number) in wanted:
                found[(store_id, number)] = (id_, customer_id)
        return found

    def moment(self, value: datetime) -> Any:
        """A UTC time as stored: SQLAlchemy's DATETIME text on SQLite, the aware value on PostgreSQL."""
        if not self.is_sqlite:
            return value
        value = value.astimezone(UTC)
        return (
            f"{value.year:04d}-{value.month:02d}-{value.day:02d} "
            f"{value.hour:02d}:{value.minute:02d}:{value.second:02d}.{value.microsecond:06d}"
        )


def update_by_key(session: Session, table: Any, key: str, rows: Iterable[dict[str, Any]]) -> None:
    """Executemany UPDATE of `table` by its `key` column; rows with the same columns go together."""
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(tuple(sorted(row)), []).append(row)
    for names, group in groups.items():
        columns = [name for name in names if name != key]
        statement = (
            update(table)
            .where(table.c[key] == bindparam(f"b_{key}"))
            .values({name: bindparam(f"b_{name}") for name in columns})
        )
        session.execute(statement, [{f"b_{name}": row[name] for name in names} for row in group])
