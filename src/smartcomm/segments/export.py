"""A segment's members as CSV text, written batch by batch so that any size streams in constant memory."""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any

from smartcomm.kit.csvfile import SafeCsvWriter
from smartcomm.kit.i18n import LazyString, lazy
from smartcomm.kit.time import to_zone

# Spreadsheet programs open a UTF-8 file correctly only with a byte order mark; ";" is what they expect
# in locales where "," is the decimal separator.
BOM = "\ufeff"
DELIMITER = ";"
HEADERS: tuple[LazyString, ...] = (
    lazy("External id"),
    lazy("Last name"),
    lazy("First name"),
    lazy("Middle name"),
    lazy("E-mail"),
    lazy("Phone"),
    lazy("City"),
    lazy("Receipts"),
    lazy("Purchase amount"),
    lazy("Last purchase"),
)


def file_name(segment_name: str, segment_id: int) -> str:
    """An ASCII file name that still says which segment it is."""
    slug = "".join(c if c.isascii() and c.isalnum() else "-" for c in segment_name.lower()).strip("-")
    return f"segment-{segment_id}-{'-'.join(part for part in slug.split('-') if part) or 'members'}.csv"


def csv_lines(batches: Iterable[Sequence[Sequence[Any]]], headers: Sequence[str], zone: str) -> Iterator[str]:
    """The header and one chunk of text per batch of member rows (in the order of `HEADERS`)."""
    buffer = io.StringIO()
    writer = SafeCsvWriter(buffer, DELIMITER)  # cells that would run as formulas are kept text
    writer.writerow(headers)
    yield BOM + _drain(buffer)
    for batch in batches:
        writer.writerows(_cells(row, zone) for row in batch)
        yield _drain(buffer)


def _cells(row: Sequence[Any], zone: str) -> list[Any]:
    return [_cell(value, zone) for value in row]


def _cell(value: Any, zone: str) -> Any:
    if isinstance(value, datetime):
        return to_zone(value, zone).strftime("%Y-%m-%d %H:%M")
    return value


def _drain(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text
