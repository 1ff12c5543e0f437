"""Shapes shared by the import engine, its runner, the CLI and the UI."""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

Kind = Literal["customers", "receipts", "products"]
KINDS: tuple[Kind, ...] = ("customers", "receipts", "products")

# The stored error report keeps this many rows; every error is still counted.
MAX_STORED_ERRORS = 1000

# (phase, done rows, total rows): phase is "checking" (first pass) or "writing" (second pass).
PhaseProgress = Callable[[str, int, int], None]


@dataclass(frozen=True, order=True)
class RowError:
    """One problem in one cell: `row` is the file's line number (the header is line 1)."""

    row: int
    column: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "message": self.message}


class ImportRejected(Exception):
    """The import cannot go ahead; `errors` say where (a bad header, or rows found wrong while writing)."""

    def __init__(self, errors: list[RowError]) -> None:
        super().__init__("; ".join(f"row {e.row}, {e.column}: {e.message}" for e in errors))
        self.errors = errors


@dataclass
class ImportSummary:
    status: str  # done | rejected
    total_rows: int
    imported_rows: int
    error_rows: int
    errors: list[RowError] = field(default_factory=list)
    seconds: float = 0.0
    job_id: int | None = None
    message: str = ""


@dataclass(frozen=True)
class ImportOptions:
    valid_rows_only: bool = False
    classifier: str | None = None  # products and receipt lines: the catalogue version SKUs belong to


class ErrorLog:
    """Row errors of one import: all are counted, the MAX_STORED_ERRORS first by row are kept."""

    def __init__(self) -> None:
        self.kept: list[RowError] = []
        self.count = 0
        self.error_rows = 0
        self._last_row = -1

    def add(self, error: RowError) -> None:
        self.count += 1
        # Errors of one row arrive together, and the two passes never report the same row.
        if error.row != self._last_row:
            self.error_rows += 1
            self._last_row = error.row
        if len(self.kept) < MAX_STORED_ERRORS or error < self.kept[-1]:
            bisect.insort(self.kept, error)
            del self.kept[MAX_STORED_ERRORS:]

    def extend(self, errors: Iterable[RowError]) -> None:
        for error in errors:
            self.add(error)

    def report(self) -> list[RowError]:
        return list(self.kept)
