"""Values in the text form each backend stores, made where the rows are made (often a worker process).

SQLite keeps instants as SQLAlchemy's DATETIME text; PostgreSQL reads the same text with a UTC offset
from its COPY stream. Formatting through a per-day prefix and a table of the seconds of a day is far
cheaper than `strftime` for tens of millions of values.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Every second of a day as SQLAlchemy writes it to SQLite (microseconds included), so values compare
# exactly as the ORM's do.
_CLOCK = [f"{h:02d}:{m:02d}:{s:02d}.000000" for h in range(24) for m in range(60) for s in range(60)]


class Formats:
    def __init__(self, is_sqlite: bool) -> None:
        self.is_sqlite = is_sqlite
        self._suffix = "" if is_sqlite else "+00"
        self._day_text: dict[int, str] = {}

    def __getstate__(self) -> dict[str, bool]:
        return {"is_sqlite": self.is_sqlite}  # the day cache is rebuilt on the other side

    def __setstate__(self, state: dict[str, bool]) -> None:
        self.__init__(state["is_sqlite"])  # type: ignore[misc]

    def stamp(self, seconds: int) -> str:
        """A UTC instant (seconds since the epoch) as the backend stores it."""
        day, second = divmod(seconds, 86400)
        prefix = self._day_text.get(day)
        if prefix is None:
            prefix = self._day_text[day] = (_EPOCH + timedelta(days=day)).strftime("%Y-%m-%d ")
        return prefix + _CLOCK[second] + self._suffix

    def day(self, value: date) -> str:
        return value.isoformat()
