"""The one CSV writer of every file the product hands out: cells a spreadsheet would run are kept text.

A spreadsheet opening a CSV file treats a cell that starts with `=`, `+`, `-` or `@` (also after a tab or
a carriage return) as a formula, and a formula can fetch a URL with the sheet's data or start a program.
Data in such files comes from customers (a name like `=HYPERLINK(…)`), so every text cell starting with
one of those characters is written with a leading single quote, which spreadsheets read as "this is
text". Numbers written as numbers are left alone, and so is text made only of digits, spaces and `+-().`
(a phone number such as `+7 916 123-45-67`, a signed amount): with no letters it cannot name a function,
a cell or a program.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from datetime import date
from decimal import Decimal
from typing import IO, Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER_LIKE = re.compile(r"[+-]?[0-9][0-9 ().+-]*")


def safe_cell(value: Any) -> Any:
    """The value as the writer gets it: None as an empty cell, text neutralised, numbers unchanged."""
    if value is None:
        return ""
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        return value
    text = value.isoformat() if isinstance(value, date) else str(value)
    if text.startswith(FORMULA_STARTS) and not _NUMBER_LIKE.fullmatch(text):
        return "'" + text
    return text


class SafeCsvWriter:
    """`csv.writer` with every cell passed through `safe_cell`."""

    def __init__(self, stream: IO[str], delimiter: str = ";", lineterminator: str = "\r\n") -> None:
        self._writer = csv.writer(stream, delimiter=delimiter, lineterminator=lineterminator)

    def writerow(self, cells: Iterable[Any]) -> None:
        self._writer.writerow([safe_cell(cell) for cell in cells])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def csv_text(rows: Iterable[Sequence[Any]], delimiter: str = ";") -> str:
    """Rows as CSV text (one line per row, CRLF-terminated)."""
    buffer = io.StringIO()
    SafeCsvWriter(buffer, delimiter).writerows(rows)
    return buffer.getvalue()
