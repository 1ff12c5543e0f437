"""Adding a list of codes — pasted, uploaded as CSV/TXT, or sent over the API — all or nothing.

The lines are read as a stream and written in batches as they come, inside the caller's transaction;
a problem anywhere (a code that is not a code, a repeat within the list, a code already stored in any
group) stops the writing, the rest is still read so that the report counts every problem, and the caller
rolls everything back. Only the codes seen so far are kept (a set, to find repeats), never the file.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

from smartcomm.kit.errors import FieldError, InvalidInput
from smartcomm.promocodes.repository import PromoCodeRepository

MAX_CODE_LENGTH = 64
MAX_CODES = 1_000_000  # per list or file
BATCH = 5000
SHOWN_PROBLEMS = 20  # the first problems are listed, the rest only counted
HEADER_NAMES = frozenset({"code", "codes", "promo_code", "promocode", "promo code", "код", "промокод"})
CSV_DELIMITERS = ",;\t"

NumberedLines = Iterable[tuple[int, str]]


@dataclass(frozen=True, slots=True)
class Problem:
    line: int
    code: str
    reason: str  # invalid | too_long | repeated | exists | too_many
    message: str


@dataclass
class AddReport:
    added: int = 0
    problems: list[Problem] = field(default_factory=list)
    problem_count: int = 0


class CodesRejected(InvalidInput):
    """The list had problems; nothing of it was kept. `report` lists the first ones with line numbers."""

    def __init__(self, report: AddReport, where: Callable[[int], str]) -> None:
        errors = [FieldError(where(p.line), f"{p.code}: {p.message}", p.reason) for p in report.problems]
        shown = len(report.problems)
        more = f" (the first {shown} are listed)" if report.problem_count > shown else ""
        super().__init__(f"{report.problem_count} problem(s) in the codes{more}; nothing was added", errors)
        self.report = report


def code_problem(code: str) -> tuple[str, str] | None:
    """Why a (stripped, non-empty) text cannot be a code, as (reason, message); None when it can."""
    if len(code) > MAX_CODE_LENGTH:
        return "too_long", f"longer than {MAX_CODE_LENGTH} characters"
    if any(char.isspace() or not char.isprintable() for char in code):
        return "invalid", "a code cannot hold spaces or invisible characters"
    return None


def text_lines(text: str) -> Iterator[tuple[int, str]]:
    """Pasted text: one code per line."""
    yield from enumerate(io.StringIO(text), start=1)


def file_lines(stream: BinaryIO, filename: str) -> Iterator[tuple[int, str]]:
    """An uploaded file read as a stream: a CSV's first column (a header row is skipped) or a TXT's lines."""
    reader = codecs.getreader("utf-8-sig")(stream, "strict")
    try:
        lines: Iterator[str] = iter(reader)
        first = next(lines, None)
        if first is None:
            return
        chain = _chain(first, lines)
        if filename.lower().endswith(".csv"):
            yield from _csv_lines(first, chain)
        else:
            yield from enumerate(chain, start=1)
    except UnicodeDecodeError:
        raise InvalidInput.for_field("file", "the file is not UTF-8 text") from None


def _chain(first: str, rest: Iterator[str]) -> Iterator[str]:
    yield first
    yield from rest


def _csv_lines(first: str, lines: Iterator[str]) -> Iterator[tuple[int, str]]:
    delimiter = max(CSV_DELIMITERS, key=first.count) if any(d in first for d in CSV_DELIMITERS) else ","
    numbered = _numbered(lines)
    for row in csv.reader((text for _, text in numbered), delimiter=delimiter):
        number = numbered.current
        cell = row[0] if row else ""
        if number == 1 and cell.strip().lower() in HEADER_NAMES:
            continue
        yield number, cell


class _numbered(Iterator[tuple[int, str]]):  # noqa: N801 (used like a generator)
    """Lines with their numbers; `current` is the number of the last line handed out."""

    def __init__(self, lines: Iterator[str]) -> None:
        self.lines, self.current = lines, 0

    def __next__(self) -> tuple[int, str]:
        line = next(self.lines)
        self.current += 1
        return self.current, line


class CodeIntake:
    """Checks and writes one list of codes into a group."""

    def __init__(self, repository: PromoCodeRepository, group_id: int) -> None:
        self.repository, self.group_id = repository, group_id
        self.report = AddReport()
        self.seen: set[str] = set()
        self.batch: list[tuple[int, str]] = []
        self.count = 0

    def add(self, lines: NumberedLines, where: Callable[[int], str]) -> AddReport:
        """Write every code of `lines` or, when any has a problem, raise CodesRejected (the caller rolls
        back what was written)."""
        for number, raw in lines:
            code = raw.strip()
            if code and not self._take(number, code):
                break
        self._flush()
        if self.report.problem_count:
            raise CodesRejected(self.report, where)
        if not self.report.added:
            raise InvalidInput.for_field("codes", "there are no codes in it")
        return self.report

    def _take(self, number: int, code: str) -> bool:
        self.count += 1
        if self.count > MAX_CODES:
            self._problem(number, code, "too_many", f"more than {MAX_CODES:,} codes in one list")
            return False
        problem = code_problem(code)
        if problem is not None:
            self._problem(number, code, *problem)
        elif code in self.seen:
            self._problem(number, code, "repeated", "appears earlier in the list")
        else:
            self.seen.add(code)
            self.batch.append((number, code))
            if len(self.batch) >= BATCH:
                self._flush()
        return True

    def _flush(self) -> None:
        if not self.batch:
            return
        codes = [code for _, code in self.batch]
        existing = self.repository.existing(codes)
        for number, code in self.batch:
            if code in existing:
                self._problem(number, code, "exists", "already exists")
        if not self.report.problem_count:  # after a problem nothing will be kept: stop writing
            self.report.added += self.repository.insert_new(self.group_id, codes)
        self.batch = []

    def _problem(self, number: int, code: str, reason: str, message: str) -> None:
        self.report.problem_count += 1
        if len(self.report.problems) < SHOWN_PROBLEMS:
            self.report.problems.append(Problem(number, code[:MAX_CODE_LENGTH], reason, message))
