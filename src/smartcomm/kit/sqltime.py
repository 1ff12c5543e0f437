"""Date arithmetic the database does itself, written once for both backends."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Float, SQLColumnExpression, literal
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from smartcomm.kit.models import UTCDateTime


class plus_seconds(FunctionElement[datetime]):  # noqa: N801 (an SQL function, named like one)
    """A stored UTC time plus a fixed duration, in the database's own date arithmetic."""

    type = UTCDateTime()
    inherit_cache = True
    name = "plus_seconds"

    def __init__(self, moment: SQLColumnExpression[Any], duration: timedelta) -> None:
        super().__init__(moment, literal(duration.total_seconds(), Float()))


@compiles(plus_seconds, "postgresql")
def _plus_seconds_postgres(element: plus_seconds, compiler: SQLCompiler, **kw: Any) -> str:
    moment, seconds = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"({moment} + make_interval(secs => {seconds}))"


@compiles(plus_seconds, "sqlite")
def _plus_seconds_sqlite(element: plus_seconds, compiler: SQLCompiler, **kw: Any) -> str:
    # Stored as 'YYYY-MM-DD HH:MM:SS.ffffff': shift the whole seconds, keep the microseconds as stored.
    moment, seconds = (compiler.process(clause, **kw) for clause in element.clauses)
    shifted = f"strftime('%Y-%m-%d %H:%M:%S', {moment}, CAST({seconds} AS INTEGER) || ' seconds')"
    return f"({shifted} || substr({moment}, 20))"
