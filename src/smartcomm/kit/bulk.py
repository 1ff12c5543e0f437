"""Inserting thousands of rows in a few statements, without SQLAlchemy's per-value work.

PostgreSQL: one statement, one array parameter per column, `INSERT … SELECT * FROM unnest(…)`. An
`executemany` or SQLAlchemy's multi-row VALUES binds every value as a placeholder of its own: a 500-row
statement has some 10,000, too many for psycopg's statement cache, so psycopg parses it again in Python
every time (about 0.5 ms a row). The arrays keep the statement short and constant.

SQLite: multi-row VALUES handed to the driver as they are (SQLite parses placeholders in C); `json_each`
would take one parameter but parses the JSON of every row again for every column, twice as slow.

Values still go through each column's own bind processing (UTC datetimes, JSON) — once per distinct
value: a batch's rows mostly share their timestamps and options — so the rows stored are exactly what
an ordinary insert would have stored.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import lru_cache
from typing import Any

from sqlalchemy import JSON, Column, Row, String, Table, bindparam, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session

IDS_PER_LIST = 900  # ids per IN list (SQLite allows 32,766 variables; stay well below with several lists)
SQLITE_VARIABLES = 30_000  # parameters per statement (SQLite allows 32,766)
POSTGRES: Dialect = postgresql.psycopg.dialect()  # type: ignore[no-untyped-call]
SQLITE: Dialect = sqlite.pysqlite.dialect()


def insert_rows(
    session: Session,
    table: Table,
    rows: Sequence[Mapping[str, Any]],
    *,
    skip_conflicts_on: str | None = None,
    returning: Sequence[str] = (),
) -> list[Row[Any]]:
    """Insert the rows (dicts of column values; a column a row leaves out gets its default, else NULL) in
    one statement; with `skip_conflicts_on` a row whose value of that unique column exists already is
    left out (ON CONFLICT DO NOTHING). Returns the `returning` columns of the rows inserted, in no
    particular order."""
    if not rows:
        return []
    dialect = session.get_bind().dialect
    columns = _columns(table, rows)
    values = [_column_values(column, rows) for column in columns]
    shape = (table, tuple(c.name for c in columns), skip_conflicts_on, tuple(returning))
    if dialect.name == "postgresql":
        return _postgres_insert(session, shape, values)
    processed = [_processed(c, v, dialect) for c, v in zip(columns, values, strict=True)]
    return _sqlite_insert(session, shape, list(zip(*processed, strict=True)))


def _columns(table: Table, rows: Sequence[Mapping[str, Any]]) -> list[Column[Any]]:
    """The columns any row names, and those with a default of their own (as the ORM fills them in)."""
    named = {name for row in rows for name in row}
    return [c for c in table.columns if c.name in named or (c.default is not None and not c.primary_key)]


def _column_values(column: Column[Any], rows: Sequence[Mapping[str, Any]]) -> list[Any]:
    default = _default_of(column)
    return [row[column.name] if column.name in row else default() for row in rows]


def _default_of(column: Column[Any]) -> Callable[[], Any]:
    default: Any = column.default
    if default is None:
        return lambda: None
    if default.is_callable:
        return lambda: default.arg(None)  # SQLAlchemy wraps a plain function to take the context
    return lambda: default.arg


def _processed(column: Column[Any], values: list[Any], dialect: Dialect) -> list[Any]:
    """The values as the column type's own bind processing for this database makes them (what an ordinary
    insert stores: UTC datetimes as SQLite's text, JSON serialised), each distinct value processed once."""
    process = column.type.dialect_impl(dialect).bind_processor(dialect)
    if process is None:
        return values
    # JSON values (dicts) are remembered by identity: the rows of a batch share one options dict, and
    # every value stays alive in the rows meanwhile.
    by_identity = isinstance(column.type, JSON)
    done: dict[Any, Any] = {}
    processed = []
    for value in values:
        key = id(value) if by_identity else value
        if key not in done:
            done[key] = process(value)
        processed.append(done[key])
    return processed


def _postgres_insert(session: Session, shape: tuple[Any, ...], values: list[list[Any]]) -> list[Row[Any]]:
    # A column with one value in every row (a batch's source, channel, options, timestamps …) is bound
    # once; only the others travel as arrays. The parameters' types process the values (UTC, JSON).
    constant = tuple(_same(column_values) for column_values in values)
    params: dict[str, Any] = {f"c{i}": v[0] if constant[i] else v for i, v in enumerate(values)}
    result = session.execute(_postgres_statement(*shape, constant), {**params, "count": len(values[0])})
    return list(result.all()) if shape[3] else []


def _same(values: list[Any]) -> bool:
    # JSON containers only by identity: {"n": 1} == {"n": True} in Python, yet they are different JSON.
    first = values[0]
    if isinstance(first, dict | list):
        return all(value is first for value in values)
    return all(value is first or (value == first and type(value) is type(first)) for value in values)


@lru_cache(maxsize=256)
def _postgres_statement(
    table: Table,
    names: tuple[str, ...],
    conflict: str | None,
    returning: tuple[str, ...],
    constant: tuple[bool, ...],
) -> Any:
    types = [_array_item_type(table.c[name]) for name in names]
    # Every value is cast to its column's type (a NULL bound alone would be text), strings to plain
    # VARCHAR: a cast to VARCHAR(n) would cut a longer value short instead of failing as an insert does.
    picked = [
        f"CAST(:c{i} AS {types[i].compile(dialect=POSTGRES)})" if constant[i] else f"u.c{i}"
        for i in range(len(names))
    ]
    arrays = [i for i in range(len(names)) if not constant[i]]
    if arrays:
        source = f"unnest({', '.join(f':c{i}' for i in arrays)}) AS u({', '.join(f'c{i}' for i in arrays)})"
    else:
        source = "generate_series(1, :count)"
    sql = f"{_insert_into(table, names, POSTGRES)} SELECT {', '.join(picked)} FROM {source}"  # noqa: S608 (names from metadata)
    params = [
        bindparam(f"c{i}", type_=types[i] if constant[i] else ARRAY(types[i])) for i in range(len(names))
    ]
    counted: list[Any] = [] if arrays else [bindparam("count")]
    return text(sql + _tail(conflict, returning, POSTGRES)).bindparams(*params, *counted)


def _array_item_type(column: Column[Any]) -> Any:
    return String() if isinstance(column.type, String) else column.type


def _sqlite_insert(session: Session, shape: tuple[Any, ...], rows: list[tuple[Any, ...]]) -> list[Row[Any]]:
    per_statement = max(1, SQLITE_VARIABLES // len(shape[1]))
    found: list[Row[Any]] = []
    for start in range(0, len(rows), per_statement):
        part = rows[start : start + per_statement]
        flat = tuple(value for row in part for value in row)
        result = session.connection().exec_driver_sql(_sqlite_statement(*shape, len(part)), flat)
        if shape[3]:
            found += result.all()
    return found


@lru_cache(maxsize=64)
def _sqlite_statement(
    table: Table, names: tuple[str, ...], conflict: str | None, returning: tuple[str, ...], count: int
) -> str:
    row = f"({', '.join('?' for _ in names)})"
    sql = f"{_insert_into(table, names, SQLITE)} VALUES {', '.join([row] * count)}"
    return sql + _tail(conflict, returning, SQLITE)


def _insert_into(table: Table, names: tuple[str, ...], dialect: Dialect) -> str:
    quote = dialect.identifier_preparer.quote
    return f"INSERT INTO {quote(table.name)} ({', '.join(quote(name) for name in names)})"


def _tail(conflict: str | None, returning: tuple[str, ...], dialect: Dialect) -> str:
    quote = dialect.identifier_preparer.quote
    tail = f" ON CONFLICT ({quote(conflict)}) DO NOTHING" if conflict else ""
    return tail + (f" RETURNING {', '.join(quote(name) for name in returning)}" if returning else "")


def chunked(values: Sequence[Any], size: int = IDS_PER_LIST) -> Iterable[Sequence[Any]]:
    """The values in slices of at most `size` (IN lists, multi-row inserts)."""
    for start in range(0, len(values), size):
        yield values[start : start + size]
