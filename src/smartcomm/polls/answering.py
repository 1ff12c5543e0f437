"""Answering a poll: which questions a customer sees, checking what they sent, and recording it once.

Visibility is decided question by question, in order, from the answers already cleaned: a question whose
conditions do not hold is hidden — its answer is dropped and it is not required — and a condition on a
hidden question never holds. The public page runs the same rules in the browser to show and hide
questions as the customer answers; the server decides.

One response per customer and poll: the unique key (poll, customer) decides, so two submissions racing
each other record one response and the other gets `AlreadyAnswered`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from smartcomm.kit.errors import Conflict, FieldError, InvalidInput
from smartcomm.kit.i18n import lazy
from smartcomm.kit.outbox import publish
from smartcomm.kit.time import utcnow
from smartcomm.models import Poll, PollResponse
from smartcomm.polls.repository import PollRepository
from smartcomm.polls.schemas import MAX_OPEN_ANSWER, Answer, Question, questions_of

ANSWERED_EVENT = "poll.answered"
REQUIRED = lazy("Please answer this question")
UNKNOWN_OPTION = lazy("Choose one of the options shown")
TOO_MANY = lazy("Choose at most %(count)s options")
TOO_LONG = lazy("The answer is too long (at most %(count)s characters)")
ALL_ROWS = lazy("Please answer every line")


class AlreadyAnswered(Conflict):
    def __init__(self) -> None:
        super().__init__("The customer has already answered this poll")
        self.code = "already_answered"


class PollClosed(Conflict):
    def __init__(self) -> None:
        super().__init__("The poll is closed")
        self.code = "poll_closed"


# --- visibility --------------------------------------------------------------------------------------


def chosen(question: Question, answer: Any) -> set[str]:
    """The options an answer to a choice question includes (for a matrix: over all its rows)."""
    if question.type == "single" and isinstance(answer, str):
        return {answer}
    if question.type == "multiple" and isinstance(answer, list):
        return {item for item in answer if isinstance(item, str)}
    if question.type == "matrix" and isinstance(answer, dict):
        return {item for item in answer.values() if isinstance(item, str)}
    return set()


def is_shown(question: Question, shown: Mapping[str, Question], answers: Mapping[str, Any]) -> bool:
    """Whether every condition of `question` holds, given the questions shown before it and the answers."""
    for condition in question.conditions:
        target = shown.get(condition.question)
        if target is None or not chosen(target, answers.get(target.id)) & set(condition.options):
            return False
    return True


def visible_questions(questions: list[Question], answers: Mapping[str, Any]) -> list[Question]:
    """The questions a customer with these answers sees, in order (text blocks included)."""
    shown: dict[str, Question] = {}
    for question in questions:
        if is_shown(question, shown, answers):
            shown[question.id] = question
    return list(shown.values())


# --- checking ----------------------------------------------------------------------------------------


def check_answers(questions: list[Question], answers: Mapping[str, Any]) -> dict[str, Answer]:
    """The answers cleaned: only those to visible questions, each checked against its question. Every
    problem is reported at once as InvalidInput with one error per question (`answers.<question id>`)."""
    cleaned: dict[str, Answer] = {}
    shown: dict[str, Question] = {}
    errors: list[FieldError] = []
    for question in questions:
        if not is_shown(question, shown, cleaned):
            continue
        shown[question.id] = question
        if question.type == "text":
            continue
        try:
            value = _clean(question, answers.get(question.id))
        except _Refused as refused:
            errors.append(FieldError(f"answers.{question.id}", refused.message, refused.code))
            continue
        if value is not None:
            cleaned[question.id] = value
    if errors:
        raise InvalidInput(f"{errors[0].field}: {errors[0].message}", errors)
    return cleaned


class _Refused(Exception):
    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.message, self.code = message, code


def _clean(question: Question, raw: Any) -> Answer | None:
    value = _CLEANERS[question.type](question, raw)
    if value is None and question.required:
        raise _Refused(str(REQUIRED), "required")
    return value


def _single(question: Question, raw: Any) -> str | None:
    if isinstance(raw, list) and len(raw) == 1:
        raw = raw[0]
    if raw is None or raw == "":
        return None
    if not isinstance(raw, str) or raw not in question.option_ids:
        raise _Refused(str(UNKNOWN_OPTION), "unknown_option")
    return raw


def _multiple(question: Question, raw: Any) -> list[str] | None:
    items = [raw] if isinstance(raw, str) else raw
    if items is None or items == "" or items == []:
        return None
    if not isinstance(items, list) or not all(isinstance(item, str) for item in items):
        raise _Refused(str(UNKNOWN_OPTION), "unknown_option")
    picked = set(items) - {""}
    if picked - set(question.option_ids):
        raise _Refused(str(UNKNOWN_OPTION), "unknown_option")
    if question.max_choices is not None and len(picked) > question.max_choices:
        raise _Refused(str(TOO_MANY) % {"count": question.max_choices}, "too_many")
    return [option for option in question.option_ids if option in picked] or None


def _matrix(question: Question, raw: Any) -> dict[str, str] | None:
    if raw is None or raw == {}:
        return None
    if not isinstance(raw, Mapping):
        raise _Refused(str(UNKNOWN_OPTION), "unknown_option")
    rows, options = {row.id for row in question.rows}, set(question.option_ids)
    given = {str(row): option for row, option in raw.items() if option not in (None, "")}
    if any(row not in rows or option not in options for row, option in given.items()):
        raise _Refused(str(UNKNOWN_OPTION), "unknown_option")
    if question.required and given and len(given) < len(rows):
        raise _Refused(str(ALL_ROWS), "required")
    return {row.id: given[row.id] for row in question.rows if row.id in given} or None


def _open(question: Question, raw: Any) -> str | None:
    if raw is None:
        return None
    if not isinstance(raw, str):
        raise _Refused(str(UNKNOWN_OPTION), "invalid")
    text = raw.replace("\x00", "").replace("\r\n", "\n").strip()
    if len(text) > MAX_OPEN_ANSWER:
        raise _Refused(str(TOO_LONG) % {"count": MAX_OPEN_ANSWER}, "too_long")
    return text or None


_CLEANERS = {"single": _single, "multiple": _multiple, "matrix": _matrix, "open": _open}


# --- recording ---------------------------------------------------------------------------------------


def answer(
    session: Session,
    poll: Poll,
    customer_id: int,
    message_id: int | None,
    answers: Mapping[str, Any],
    now: datetime | None = None,
) -> PollResponse:
    """Record the customer's checked answers (one response per customer: a second raises
    AlreadyAnswered) with their answer rows, and publish "poll.answered" in the same transaction."""
    if poll.closed:
        raise PollClosed()
    repository = PollRepository(session)
    if repository.response_of(poll.id, customer_id) is not None:
        raise AlreadyAnswered()
    cleaned = check_answers(questions_of(poll), answers)
    source_kind, source_id = repository.message_source(message_id) if message_id else (None, None)
    now = now or utcnow()
    values = {
        "poll_id": poll.id,
        "customer_id": customer_id,
        "message_id": message_id or None,
        "source_kind": source_kind,
        "source_id": source_id,
        "answers": cleaned,
        "completed_at": now,
    }
    response_id = repository.insert_response(values)
    if response_id is None:  # another submission of the same customer won the race
        raise AlreadyAnswered()
    repository.insert_answers(answer_rows(poll, customer_id, response_id, cleaned, now))
    _publish(session, poll.id, customer_id, response_id, values)
    response = session.get(PollResponse, response_id)
    assert response is not None
    return response


def answer_rows(
    poll: Poll, customer_id: int, response_id: int, answers: Mapping[str, Answer], now: datetime
) -> list[dict[str, Any]]:
    """One row per chosen option (per matrix row) or open text."""
    types = {question.get("id"): question.get("type") for question in poll.questions or []}
    base = {"response_id": response_id, "poll_id": poll.id, "customer_id": customer_id, "answered_at": now}
    rows: list[dict[str, Any]] = []
    for question_id, value in answers.items():
        row = {**base, "question_id": question_id, "row_id": None, "option_id": None, "text": None}
        if isinstance(value, dict):
            rows += [{**row, "row_id": key, "option_id": option} for key, option in value.items()]
        elif isinstance(value, list):
            rows += [{**row, "option_id": option} for option in value]
        elif types.get(question_id) == "open":
            rows.append({**row, "text": value})
        else:
            rows.append({**row, "option_id": value})
    return rows


def _publish(
    session: Session, poll_id: int, customer_id: int, response_id: int, values: dict[str, Any]
) -> None:
    payload = {
        "poll_id": poll_id,
        "response_id": response_id,
        "source_kind": values["source_kind"],
        "source_id": values["source_id"],
        "message_id": values["message_id"],
    }
    publish(session, ANSWERED_EVENT, customer_id=customer_id, payload=payload)
