"""Reading an uploaded list of the global control group: one column of customer external ids (a CSV
file's first column; a header row is recognised and skipped), each row resolved or reported."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from smartcomm.kit.errors import FieldError, InvalidInput
from smartcomm.kit.i18n import gettext_

MAX_BYTES = 50 * 1024 * 1024
MAX_REPORTED = 50  # rows named in the error; the rest are counted
HEADERS = frozenset({"external_id", "external id", "id", "customer", "customer_id", "внешний id", "клиент"})


@dataclass
class UploadedList:
    """The external ids of the file in order, each with its row number (1-based, as a spreadsheet shows)."""

    rows: list[tuple[int, str]] = field(default_factory=list)


def read_list(data: bytes) -> UploadedList:
    if len(data) > MAX_BYTES:
        raise InvalidInput.for_field("file", "The file must be at most 50 MB")
    text = _decoded(data)
    dialect = _dialect(text)
    found = UploadedList()
    for number, row in enumerate(csv.reader(io.StringIO(text), dialect), start=1):
        value = row[0].strip() if row else ""
        if not value or (number == 1 and value.casefold() in HEADERS):
            continue
        found.rows.append((number, value))
    if not found.rows:
        raise InvalidInput.for_field("file", "The file has no customer identifiers")
    return found


def unknown_rows_error(unknown: list[tuple[int, str]]) -> InvalidInput:
    """The error naming the rows whose identifier is no customer's (nothing is written)."""
    errors = [
        FieldError(f"file.rows[{number}]", _row_message(number, value))
        for number, value in unknown[:MAX_REPORTED]
    ]
    if len(unknown) > MAX_REPORTED:
        errors.append(FieldError("file", _more_message(len(unknown) - MAX_REPORTED)))
    return InvalidInput("Rows of the file are not customers; nothing was changed", errors)


def _row_message(number: int, value: str) -> str:
    message = gettext_("Row %(row)s: no customer has the external id “%(value)s”")
    return message % {"row": number, "value": value}


def _more_message(count: int) -> str:
    return gettext_("%(count)s more rows are not customers") % {"count": count}


def _decoded(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1251")  # a spreadsheet saved as CSV on a Russian Windows


def _dialect(text: str) -> type[csv.Dialect] | csv.Dialect:
    try:
        return csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        return csv.excel
