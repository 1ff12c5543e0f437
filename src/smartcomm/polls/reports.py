"""A poll's report — invited, respondents, completion, responses per day, counts per question and option,
the latest open answers — and the export of its responses as CSV rows.

Counts are grouped in the database (`report_queries`); only the CSV export reads responses one by one,
streamed in batches.
"""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from smartcomm.kit.csvfile import SafeCsvWriter
from smartcomm.kit.db import session_scope
from smartcomm.kit.time import to_zone
from smartcomm.models import Poll
from smartcomm.polls.report_queries import PollReportQueries
from smartcomm.polls.schemas import Choice, Question, questions_of
from smartcomm.polls.service import poll_service
from smartcomm.settings.schemas import GeneralSettings
from smartcomm.settings.service import settings_service

OPEN_ANSWERS_SHOWN = 50
BOM = "\ufeff"  # spreadsheet programs read UTF-8 correctly only with it
DELIMITER = ";"
STREAM_ROWS = 500  # rows per chunk of a streamed export
Source = tuple[str, int] | None


@dataclass(frozen=True, slots=True)
class OpenAnswer:
    customer_id: int
    customer_name: str
    text: str
    answered_at: datetime


@dataclass(slots=True)
class QuestionReport:
    """One question's figures: how many answered it, and per option (or per matrix row and option)."""

    question: Question
    answered: int
    options: list[tuple[Choice, int]] = field(default_factory=list)
    matrix: list[tuple[Choice, list[int]]] = field(default_factory=list)
    open_answers: list[OpenAnswer] = field(default_factory=list)
    open_total: int = 0


@dataclass(slots=True)
class PollReport:
    invited: int
    respondents: int
    completion_rate: float | None
    by_day: list[tuple[date, int]]
    questions: list[QuestionReport]


def poll_report(session: Session, poll_id: int, source: Source = None) -> PollReport:
    """The report of a poll, over every response or those that came by one source's links."""
    poll = poll_service.get(session, poll_id)
    queries = PollReportQueries(session)
    invited, respondents = queries.invited(poll.id, source), queries.respondents(poll.id, source)
    zone = settings_service.read(session, GeneralSettings).time_zone
    answered = queries.answered(poll.id, source)
    counts = queries.option_counts(poll.id, source)
    return PollReport(
        invited=invited,
        respondents=respondents,
        completion_rate=respondents / invited if invited else None,
        by_day=_by_day(queries.responses_by_quarter(poll.id, source), zone),
        questions=[
            _question_report(queries, poll.id, question, answered.get(question.id, 0), counts, source)
            for question in questions_of(poll)
        ],
    )


def _by_day(quarters: list[tuple[datetime, int]], zone: str) -> list[tuple[date, int]]:
    days: Counter[date] = Counter()
    for start, count in quarters:
        days[to_zone(start, zone).date()] += count
    return sorted(days.items())


def _question_report(
    queries: PollReportQueries,
    poll_id: int,
    question: Question,
    answered: int,
    counts: dict[tuple[str, str | None, str], int],
    source: Source,
) -> QuestionReport:
    report = QuestionReport(question=question, answered=answered)
    if question.type in ("single", "multiple"):
        report.options = [
            (option, counts.get((question.id, None, option.id), 0)) for option in question.options
        ]
    elif question.type == "matrix":
        report.matrix = [
            (row, [counts.get((question.id, row.id, option.id), 0) for option in question.options])
            for row in question.rows
        ]
    elif question.type == "open":
        report.open_total = answered
        report.open_answers = [
            OpenAnswer(customer_id, customer.full_name, text, at)
            for customer_id, customer, text, at in queries.open_answers(
                poll_id, question.id, source, OPEN_ANSWERS_SHOWN
            )
        ]
    return report


# --- CSV -----------------------------------------------------------------------------------------------


def answers_csv(
    session: Session, poll_id: int, source: Source = None, headers: list[str] | None = None
) -> Iterator[list[str]]:
    """The header, then one row per response: customer id, external id, completed at (project time zone),
    source, then one column per question (multiple choice joined by "; ", matrix as "row: option; …").
    `headers` are the first four column names in the reader's language (a stream outlives the request)."""
    poll = poll_service.get(session, poll_id)
    questions = [question for question in questions_of(poll) if question.type != "text"]
    zone = settings_service.read(session, GeneralSettings).time_zone
    labels = {(kind, source_id): label for kind, source_id, label in poll_service.sources(session, poll.id)}
    first = headers or ["Customer ID", "External ID", "Completed at", "Source"]
    yield [*first, *(question.title for question in questions)]
    for batch in PollReportQueries(session).csv_rows(poll.id, source):
        for response, external_id in batch:
            origin = labels.get((response.source_kind or "", response.source_id or 0), "")
            completed = to_zone(response.completed_at, zone).strftime("%Y-%m-%d %H:%M")
            answers = response.answers or {}
            cells = [_cell(question, answers.get(question.id)) for question in questions]
            yield [str(response.customer_id), external_id, completed, origin, *cells]


def _cell(question: Question, value: Any) -> str:
    """An answer as text: option labels rather than ids."""
    if value is None:
        return ""
    labels = {option.id: option.label for option in question.options}
    if question.type == "single":
        return labels.get(str(value), str(value))
    if question.type == "multiple" and isinstance(value, list):
        return "; ".join(labels.get(str(item), str(item)) for item in value)
    if question.type == "matrix" and isinstance(value, dict):
        rows = {row.id: row.label for row in question.rows}
        return "; ".join(
            f"{rows.get(row, row)}: {labels.get(str(option), str(option))}" for row, option in value.items()
        )
    return str(value)


def csv_stream(poll_id: int, source: Source = None, headers: list[str] | None = None) -> Iterator[str]:
    """The export as CSV text chunks for a streamed download: it reads with a session of its own (the
    response streams after the request's session is closed), through the safe CSV writer."""
    buffer = io.StringIO()
    writer = SafeCsvWriter(buffer, DELIMITER)
    with session_scope(read_only=True) as session:
        rows = answers_csv(session, poll_id, source, headers)
        writer.writerow(next(rows))
        yield BOM + _drain(buffer)
        for count, row in enumerate(rows, 1):
            writer.writerow(row)
            if count % STREAM_ROWS == 0:
                yield _drain(buffer)
    yield _drain(buffer)


def file_name(poll: Poll, day: date) -> str:
    return f"{(poll.code or f'poll-{poll.id}').lower()}-answers-{day.isoformat()}.csv"


def _drain(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text
