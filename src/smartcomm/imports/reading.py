"""Reading import files: CSV rows streamed from disk, and cells turned into typed values.

These parsers are on the hot path of million-row imports, so they work on plain lists of cells,
convert money to integer minor units themselves and cache repeated values.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from itertools import count, islice
from operator import itemgetter
from pathlib import Path
from types import TracebackType
from typing import IO, Any
from zoneinfo import ZoneInfo

from smartcomm.fields.values import clean_custom_values
from smartcomm.imports.schemas import ImportRejected, RowError
from smartcomm.kit.errors import FieldError

_CACHE_LIMIT = 200_000
_FIRST = itemgetter(0)  # a row's first cell
_NUMBER = re.compile(r"([+-]?)(\d*)(?:[.,](\d*))?", re.ASCII)
_TRUE = frozenset({"y", "yes", "true", "1"})
_FALSE = frozenset({"n", "no", "false", "0"})


class FileRejected(ImportRejected):
    """The file as a whole cannot be imported (bad header, not UTF-8, not CSV)."""


class Units:
    """Decimal text ('12.5', '12,50') -> integer units of 10^-places, checked and cached."""

    def __init__(
        self, places: int, *, max_digits: int, negative: bool = False, positive: bool = False
    ) -> None:
        self.places = places
        self.max_whole = max_digits - places
        self.negative = negative
        self.positive = positive
        self.factor = 10**places
        self.cache: dict[str, int] = {}

    def __call__(self, text: str) -> int:
        value = self.cache.get(text)
        if value is None:
            value = self._parse(text)
            if len(self.cache) >= _CACHE_LIMIT:
                self.cache.clear()
            self.cache[text] = value
        return value

    def _parse(self, text: str) -> int:
        whole, _, fraction = (text.replace(",", ".") if "," in text else text).partition(".")
        # Plain "123.45" (the usual case) goes straight through; signs and odd forms take the long way.
        plain_fraction = not fraction or (fraction.isdecimal() and fraction.isascii())
        if whole.isdecimal() and whole.isascii() and 0 < len(whole) <= self.max_whole and plain_fraction:
            if len(fraction) > self.places:
                raise ValueError(f"at most {self.places} decimal places")
            value = int(whole + fraction.ljust(self.places, "0"))
            if self.positive and value <= 0:
                raise ValueError("must be greater than zero")
            return value
        return self._parse_any(text)

    def _parse_any(self, text: str) -> int:
        found = _NUMBER.fullmatch(text)
        if found is None or not (found.group(2) or found.group(3)):
            raise ValueError("expected a number")
        sign, whole, fraction = found.group(1), found.group(2), found.group(3) or ""
        if len(fraction) > self.places:
            raise ValueError(f"at most {self.places} decimal places")
        if len(whole.lstrip("0")) > self.max_whole:
            raise ValueError("the number is too large")
        value: int = int(whole or "0") * self.factor + int(fraction.ljust(self.places, "0") or "0")
        if sign == "-" and value:
            if not self.negative:
                raise ValueError("must not be negative")
            value = -value
        if self.positive and value <= 0:
            raise ValueError("must be greater than zero")
        return value


def parse_flag(text: str) -> bool:
    lowered = text.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ValueError("expected Y or N")


def parse_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as error:
        raise ValueError("expected a date as YYYY-MM-DD") from error


class Moments:
    """ISO date-times to aware UTC; values without an offset are in the project time zone."""

    def __init__(self, zone: ZoneInfo) -> None:
        self.zone = zone
        self.last_text: str | None = None
        self.last_value = datetime.min.replace(tzinfo=UTC)

    def __call__(self, text: str) -> datetime:
        # Rows of one receipt repeat its time: remember the previous answer.
        if text == self.last_text:
            return self.last_value
        try:
            value = datetime.fromisoformat(text)
        except ValueError as error:
            raise ValueError("expected an ISO 8601 date and time, e.g. 2026-05-01T10:30:00+03:00") from error
        if value.tzinfo is None:
            value = value.replace(tzinfo=self.zone)
        self.last_text, self.last_value = text, value.astimezone(UTC)
        return self.last_value


# --- files --------------------------------------------------------------------------------------


class CsvFile:
    """A CSV file read row by row, never whole: UTF-8 with or without BOM, `,` or `;` from the header."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._handle: IO[str] | None = None
        self.header: list[str] = []
        self._reader: Any = None
        self._quoted = True

    def __enter__(self) -> CsvFile:
        self._handle = self.path.open(newline="", encoding="utf-8-sig")
        try:
            first_line = self._handle.readline()
        except UnicodeDecodeError as error:
            raise self._not_utf8() from error
        if not first_line.strip():
            raise FileRejected([RowError(1, "file", "the file is empty: the first row must be a header")])
        delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
        self._handle.seek(0)
        self._reader = csv.reader(self._handle, delimiter=delimiter, strict=True)
        self.header = self._header()
        self._quoted = _has_quotes(self.path)
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if self._handle is not None:
            self._handle.close()

    def batches(self, size: int) -> Iterator[list[tuple[int, list[str]]]]:
        """(line number, cells) of the non-blank data rows, in lists of `size` (fewer in the last one)."""
        if self._quoted:
            return self._records(size)
        return self._lines(size)

    def _records(self, size: int) -> Iterator[list[tuple[int, list[str]]]]:
        """Row by row: a record starts on the line after the previous one ended (a quoted cell may span
        lines)."""
        reader, batch = self._reader, []
        previous = reader.line_num
        try:
            for cells in reader:
                row, previous = previous + 1, reader.line_num
                if cells and (cells[0] or any(cells)):
                    batch.append((row, cells))
                    if len(batch) >= size:
                        yield batch
                        batch = []
        except UnicodeDecodeError as error:
            raise self._not_utf8() from error
        except csv.Error as error:
            raise _unreadable(previous + 1, error) from error
        if batch:
            yield batch

    def _lines(self, size: int) -> Iterator[list[tuple[int, list[str]]]]:
        """A file without quotes has one record per line: records are read and numbered in C, `size` at
        a time (blank lines count towards `size` but are left out)."""
        reader = self._reader
        try:
            while records := list(islice(reader, size)):
                numbered = zip(count(reader.line_num - len(records) + 1), records)
                if all(records) and all(map(_FIRST, records)):
                    yield list(numbered)
                elif batch := [(row, cells) for row, cells in numbered if cells and (cells[0] or any(cells))]:
                    yield batch
        except UnicodeDecodeError as error:
            raise self._not_utf8() from error
        except csv.Error as error:
            raise _unreadable(reader.line_num, error) from error

    def _header(self) -> list[str]:
        try:
            return list(next(self._reader))
        except UnicodeDecodeError as error:
            raise self._not_utf8() from error
        except csv.Error as error:
            raise _unreadable(1, error) from error

    def _not_utf8(self) -> FileRejected:
        """Text is decoded ahead in blocks: find the line that is not UTF-8 by reading it again."""
        with self.path.open("rb") as handle:
            for number, line in enumerate(handle, start=1):
                try:
                    line.decode("utf-8")
                except UnicodeDecodeError:
                    return FileRejected([RowError(number, "file", "the file is not UTF-8 text")])
        return FileRejected([RowError(1, "file", "the file is not UTF-8 text")])


def _unreadable(row: int, error: Exception) -> FileRejected:
    return FileRejected([RowError(row, "file", f"not a valid CSV row: {error}")])


def _has_quotes(path: Path) -> bool:
    """Whether the file has a quote anywhere: only a quoted cell can hold a line break."""
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            if b'"' in chunk:
                return True
    return False


def count_lines(path: Path) -> int:
    """Data rows of a file, estimated fast from its line breaks (exact unless cells hold line breaks)."""
    lines, last = 0, b"\n"
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            lines += chunk.count(b"\n")
            last = chunk[-1:]
    return max(lines + (last != b"\n") - 1, 0)


# --- cells --------------------------------------------------------------------------------------


def fit(cells: list[str], width: int, row: int) -> RowError | None:
    """Pad a short row, refuse a long one, and add the empty cell absent columns point at."""
    if len(cells) == width:
        cells.append("")
        return None
    if len(cells) > width and any(cell.strip() for cell in cells[width:]):
        return RowError(row, "row", f"{len(cells)} values but the header has {width} columns")
    del cells[width:]
    cells.extend([""] * (width + 1 - len(cells)))
    return None


def text_value(errors: list[RowError], row: int, column: str, text: str, limit: int, required: bool) -> str:
    if not text and required:
        errors.append(RowError(row, column, "a value is required"))
    elif len(text) > limit:
        errors.append(RowError(row, column, f"at most {limit} characters"))
    return text


def convert(
    errors: list[RowError],
    row: int,
    column: str,
    text: str,
    parser: Callable[[str], Any],
    default: Any = None,
) -> Any:
    """`parser(text)` for a non-empty cell, `default` for an empty one; a failure becomes a row error."""
    if not text:
        return default
    try:
        return parser(text)
    except ValueError as error:
        errors.append(RowError(row, column, str(error)))
        return default


def custom_values(
    errors: list[RowError],
    row: int,
    cells: list[str],
    columns: list[tuple[str, int]],
    types: dict[str, str],
    prefix: str,
) -> dict[str, Any]:
    """Custom-field cells checked against their definitions; an empty cell clears the field (None)."""
    cleaned, problems = clean_custom_values(
        {code: cells[i].strip() or None for code, i in columns}, types, ""
    )
    errors.extend(RowError(row, prefix + code, problem.message) for code, problem in _by_code(problems))
    return cleaned


def _by_code(problems: list[FieldError]) -> Iterator[tuple[str, FieldError]]:
    for problem in problems:
        yield problem.field.lstrip("."), problem


def required(errors: list[RowError], row: int, column: str, text: str, parser: Callable[[str], Any]) -> Any:
    if not text:
        errors.append(RowError(row, column, "a value is required"))
        return None
    return convert(errors, row, column, text, parser)
