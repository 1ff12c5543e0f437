"""Promo code groups and polls as segment conditions name them: the checks that the rows exist, the
questions, matrix rows and options the builder's pickers offer, and their names for display.

A group or a poll is named by its id (or a key object carrying it) or by its code as text. Questions, rows
and options are ids inside one poll (`q1`, `r2`, `a3`), so their names are keyed with the poll (and the
question) in front: "poll_option:7/q2/a3" → "Yes".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from smartcomm.kit.i18n import lazy
from smartcomm.models import Poll, PromoCodeGroup
from smartcomm.segments.rules import Condition, reference_id

CHOICE_TYPES = ("single", "multiple", "matrix")
# The parameter kinds named inside a poll, and the parameters that scope them.
SCOPES: dict[str, tuple[str, ...]] = {
    "poll_question": ("poll",),
    "poll_row": ("poll", "question"),
    "poll_option": ("poll", "question"),
}
QUESTION_TYPES = {
    "single": lazy("Single choice"),
    "multiple": lazy("Multiple choice"),
    "matrix": lazy("Matrix"),
}

Problems = list[tuple[str, str]]
Option = tuple[str, str, str | None]


# ---------------------------------------------------------------- reading the rows


def _id_or_code(value: Any) -> tuple[int | None, str | None]:
    """(id, None) for an id or a key object with one, (None, code) for a code as text, else (None, None)."""
    try:
        found = reference_id(value)
    except ValueError:
        return None, None
    if found is not None:
        return found, None
    if isinstance(value, str) and value.strip():
        return None, value.strip()
    return None, None


def find_group(session: Session, value: Any) -> PromoCodeGroup | None:
    row_id, code = _id_or_code(value)
    if row_id is not None:
        return session.get(PromoCodeGroup, row_id)
    if code is None:
        return None
    return session.scalar(select(PromoCodeGroup).where(PromoCodeGroup.code == code))


def find_poll(session: Session, value: Any) -> Poll | None:
    row_id, code = _id_or_code(value)
    if row_id is not None:
        return session.get(Poll, row_id)
    if code is None:
        return None
    return session.scalar(select(Poll).where(Poll.code == code))


def question_of(poll: Poll, question_id: Any) -> dict[str, Any] | None:
    return next((q for q in poll.questions or [] if q.get("id") == question_id), None)


def _labelled(items: Any) -> dict[str, str]:
    return {str(item.get("id")): str(item.get("label")) for item in items or [] if isinstance(item, dict)}


# ---------------------------------------------------------------- checks on saving


def _missing(value: Any, what: str) -> str:
    return f"no {what} with the id {value}" if isinstance(value, int) else f"no {what} {value!r}"


def check_group(session: Session, condition: Condition) -> Problems:
    """The promo code group the condition names must exist (when it names one)."""
    value = condition.params.get("group")
    if value in (None, "") or _id_or_code(value) == (None, None):
        return []  # nothing named, or a shape the metric itself refuses
    if find_group(session, value) is None:
        return [("group", _missing(_id_or_code(value)[0] or value, "promo code group"))]
    return []


def check_poll(session: Session, condition: Condition) -> Problems:
    value = condition.params.get("poll")
    if value in (None, "") or _id_or_code(value) == (None, None):
        return []
    if find_poll(session, value) is None:
        return [("poll", _missing(_id_or_code(value)[0] or value, "poll"))]
    return []


def check_poll_choice(session: Session, condition: Condition) -> Problems:
    """The poll, then its question (a choice question), the matrix row and every option must exist."""
    problems = check_poll(session, condition)
    poll = find_poll(session, condition.params.get("poll"))
    if problems or poll is None:
        return problems
    question_id = condition.params.get("question")
    if not isinstance(question_id, str) or not question_id:
        return []
    question = question_of(poll, question_id.strip())
    if question is None:
        return [("question", f"the poll {poll.code or poll.id} has no question {question_id!r}")]
    if question.get("type") not in CHOICE_TYPES:
        return [("question", f"the question {question_id!r} has no options to choose from")]
    return _check_row(question, condition.params.get("row")) + _check_options(question, condition)


def _check_row(question: Mapping[str, Any], row: Any) -> Problems:
    if row in (None, "") or not isinstance(row, str):
        return []
    if row.strip() not in _labelled(question.get("rows")):
        return [("row", f"the question {question.get('id')!r} has no row {row!r}")]
    return []


def _check_options(question: Mapping[str, Any], condition: Condition) -> Problems:
    raw = condition.params.get("options")
    items = raw if isinstance(raw, list) else str(raw or "").split(",")
    known = _labelled(question.get("options"))
    unknown = [str(item).strip() for item in items if str(item).strip() and str(item).strip() not in known]
    if unknown:
        return [("options", f"the question {question.get('id')!r} has no option {', '.join(unknown)}")]
    return []


# ---------------------------------------------------------------- the builder's pickers


def scoped_options(session: Session, kind: str, query: str, within: Mapping[str, str]) -> list[Option]:
    """(value, label, hint) of a poll's choice questions, a matrix's rows or a question's options."""
    poll = find_poll(session, within.get("poll"))
    if poll is None:
        return []
    if kind == "poll_question":
        return _matching(query, [_question_option(q) for q in poll.questions or [] if _is_choice(q)])
    question = question_of(poll, within.get("question"))
    if question is None:
        return []
    items = question.get("rows" if kind == "poll_row" else "options")
    return _matching(query, [(value, label, None) for value, label in _labelled(items).items()])


def _is_choice(question: Any) -> bool:
    return isinstance(question, dict) and question.get("type") in CHOICE_TYPES


def _question_option(question: Mapping[str, Any]) -> Option:
    kind = QUESTION_TYPES.get(str(question.get("type")))
    return str(question.get("id")), str(question.get("title")), str(kind) if kind else None


def _matching(query: str, options: list[Option]) -> list[Option]:
    wanted = query.strip().lower()
    return [option for option in options if wanted in option[1].lower() or wanted == option[0].lower()]


def scoped_key(kind: str, params: Mapping[str, Any], value: Any) -> str:
    """How the name of a question, row or option is keyed: with its poll (and question) in front."""
    scope = [str(params.get(name, "")) for name in SCOPES[kind]]
    return f"{kind}:{'/'.join([*scope, str(value)])}"


def scoped_labels(session: Session, conditions: Iterable[Condition]) -> dict[str, str]:
    """Names of the questions, rows and options the conditions name, keyed as `scoped_key` says."""
    labels: dict[str, str] = {}
    for condition in conditions:
        if condition.metric != "polls.chose":
            continue
        poll = find_poll(session, condition.params.get("poll"))
        question = question_of(poll, condition.params.get("question")) if poll else None
        if question is not None:
            labels |= _question_labels(condition.params, question)
    return labels


def _question_labels(params: Mapping[str, Any], question: Mapping[str, Any]) -> dict[str, str]:
    labels = {scoped_key("poll_question", params, question.get("id")): str(question.get("title"))}
    for kind, items in (("poll_row", question.get("rows")), ("poll_option", question.get("options"))):
        for value, label in _labelled(items).items():
            labels[scoped_key(kind, params, value)] = label
    return labels
