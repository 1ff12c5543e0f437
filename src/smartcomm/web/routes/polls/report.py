"""Polls → a poll's report: invited customers, respondents and completion, responses per day, the answers
to each question (options as bars, a matrix as a tinted table, the latest open answers), filtered by the
mailing that carried the poll; and the answers as a CSV file."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse

from smartcomm.kit.csvfile import SafeCsvWriter
from smartcomm.kit.db import session_scope
from smartcomm.kit.http import DbSession
from smartcomm.kit.time import utcnow
from smartcomm.polls.reports import answers_csv, poll_report
from smartcomm.polls.service import poll_service
from smartcomm.web.routes.polls.common import Viewer, poll_macro
from smartcomm.web.templating import render

router = APIRouter()
BOM = "\ufeff"  # spreadsheet programs read UTF-8 correctly only with it
DELIMITER = ";"
BATCH = 500


def parse_source(value: str | None) -> tuple[str, int] | None:
    """`mailing:12` → ("mailing", 12); anything else means every source."""
    kind, _, number = (value or "").partition(":")
    if not kind.isalpha() or len(kind) > 16 or not number.isdigit() or len(number) > 18:
        return None
    return kind, int(number)


@router.get("/{poll_id:int}/report", response_class=HTMLResponse)
def report_page(request: Request, session: DbSession, _: Viewer, poll_id: int, source: str = "") -> Response:
    """The report of the poll's answers, for every mailing that carried it or for one."""
    poll = poll_service.get(session, poll_id)
    wanted = parse_source(source)
    report = poll_report(session, poll_id, wanted)
    context = {
        "poll": poll,
        "report": report,
        "sources": poll_service.sources(session, poll_id),
        "source": f"{wanted[0]}:{wanted[1]}" if wanted else "",
        "shares": [_shares(question) for question in report.questions],
        "macro": poll_macro(poll.code),
    }
    return render(request, "polls/report.html", context)


def _shares(question: Any) -> dict[str, Any]:
    """What the bars and the matrix's tint need: each option's share of those who answered the question,
    and the largest matrix cell."""
    answered = question.answered or 0
    percents = [(count / answered if answered else 0.0) for _, count in question.options]
    cells = [count for _, counts in question.matrix for count in counts]
    return {"percents": percents, "matrix_max": max(cells, default=0)}


@router.get("/{poll_id:int}/answers.csv")
def answers_file(session: DbSession, _: Viewer, poll_id: int, source: str = "") -> Response:
    """One row per response: the customer, when, by which mailing, and the answer to each question."""
    poll_service.get(session, poll_id)  # 404 before the download starts
    name = f"poll-{poll_id}-answers-{utcnow().date().isoformat()}.csv"
    return StreamingResponse(
        _stream(poll_id, parse_source(source)),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def _stream(poll_id: int, source: tuple[str, int] | None) -> Iterator[str]:
    # The response streams after the request's session is closed: the file reads with its own.
    buffer = io.StringIO()
    writer = SafeCsvWriter(buffer, DELIMITER)
    yield BOM
    with session_scope(read_only=True) as session:
        for number, row in enumerate(answers_csv(session, poll_id, source), start=1):
            writer.writerow(row)
            if number % BATCH == 0:
                yield _drain(buffer)
    yield _drain(buffer)


def _drain(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text
