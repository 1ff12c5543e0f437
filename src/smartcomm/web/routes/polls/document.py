"""The editor's side of a poll document: the questions as posted (JSON in a hidden field) read into the
service's input, and every problem found keyed by the path of what it is about (`questions[2].options`),
worded for people, so the editor shows it next to that question, option or condition."""

from __future__ import annotations

import json
import re
from typing import Any

from pydantic import ValidationError

from smartcomm.kit.errors import DomainError, location_to_path
from smartcomm.kit.i18n import LazyString, lazy
from smartcomm.polls.schemas import PollIn
from smartcomm.web.forms import FormErrors, _message_for

MAX_POSTED = 1_000_000
UNREADABLE = lazy("The questions could not be read. Reload the page and try again.")
# The poll document's own checks (polls/schemas.py) said the product's way: (what the message holds,
# where below the question it belongs, the words shown).
_RULES: tuple[tuple[re.Pattern[str], str, LazyString], ...] = (
    (re.compile(r"needs at least two options"), "options", lazy("Add at least two options.")),
    (re.compile(r"has no options"), "options", lazy("This kind of question has no options.")),
    (re.compile(r"a matrix needs rows"), "rows", lazy("A matrix needs at least one row.")),
    (
        re.compile(r"max_choices is for multiple"),
        "max_choices",
        lazy("The number of choices cannot exceed the number of options."),
    ),
    (
        re.compile(r"cannot be required"),
        "required",
        lazy("A text block takes no answer and cannot be required."),
    ),
    (re.compile(r"^options: the id"), "options", lazy("Two options have the same id.")),
    (re.compile(r"^rows: the id"), "rows", lazy("Two rows have the same id.")),
    (
        re.compile(r"only name an earlier question"),
        "conditions",
        lazy("A condition may only name a question that comes before this one."),
    ),
    (
        re.compile(r"needs a choice question"),
        "conditions",
        lazy("A condition may only name a choice question."),
    ),
    (
        re.compile(r"has no option"),
        "conditions",
        lazy("The condition names an option its question does not have."),
    ),
)
_QUESTION_PREFIX = re.compile(r"^questions\[(\d+)\]:\s*")
_TYPES: dict[str, LazyString] = {
    "too_short": lazy("Add at least one."),
    "too_long": lazy("Too many items."),
    "extra_forbidden": lazy("This field is not part of a poll."),
    "string_pattern_mismatch": lazy("Use Latin letters, digits, “-” and “_” (at most 32)."),
    "greater_than_equal": lazy("Enter a number not less than %(limit)s."),
    "less_than_equal": lazy("Enter a number not greater than %(limit)s."),
    "model_type": lazy("Enter a valid value."),
    "list_type": lazy("Enter a valid value."),
}
_SHORT_QUESTIONS = lazy("Add at least one question.")


def read_questions(posted: Any) -> tuple[list[Any] | None, FormErrors]:
    """The posted questions' JSON as a list, or None and the error when it is not one."""
    text = str(posted or "")
    if len(text) > MAX_POSTED:
        return None, {"questions": str(lazy("The poll is too large."))}
    try:
        found = json.loads(text) if text else []
    except (ValueError, RecursionError):  # not JSON, or nested deeper than any poll
        return None, {"questions": str(UNREADABLE)}
    if not isinstance(found, list):
        return None, {"questions": str(UNREADABLE)}
    return found, {}


def validate(fields: dict[str, Any], questions: list[Any]) -> tuple[PollIn | None, FormErrors]:
    try:
        return PollIn.model_validate(fields | {"questions": questions}), {}
    except ValidationError as error:
        return None, readable_errors(error)


def readable_errors(error: ValidationError) -> FormErrors:
    """Each problem under its field path (the first one per path), in the reader's language."""
    errors: FormErrors = {}
    for item in error.errors():
        path, message = _placed(item)
        errors.setdefault(path, message)
    return errors


def _placed(item: Any) -> tuple[str, str]:
    path = location_to_path(item["loc"]) if item["loc"] else ""
    if item["type"] == "value_error":
        return _rule_error(path, str(item.get("ctx", {}).get("error") or item["msg"]))
    if path == "questions" and item["type"] == "too_short":
        return path, str(_SHORT_QUESTIONS)
    message = _TYPES.get(item["type"])
    if message is None:
        return path or "__all__", _message_for(path, item)
    return path, str(message) % (item.get("ctx") or {})


def _rule_error(path: str, text: str) -> tuple[str, str]:
    """A check of the document: placed below the question it names (`questions[2]: …`) or raised on."""
    found = _QUESTION_PREFIX.match(text)
    if found:
        path, text = f"questions[{found.group(1)}]", text[found.end() :]
    for pattern, below, message in _RULES:
        if pattern.search(text):
            return (f"{path}.{below}" if path.startswith("questions[") else "questions"), str(message)
    if text.startswith("questions: the id"):
        return "questions", str(lazy("Two questions have the same id."))
    return path or "__all__", text


def editor_questions(questions: list[Any]) -> list[dict[str, Any]]:
    """Whatever was posted, as questions the editor can show: unknown shapes become empty values (the
    errors say what was wrong)."""
    return [_question(item) for item in questions if isinstance(item, dict)]


def _question(item: dict[str, Any]) -> dict[str, Any]:
    conditions = _list(item.get("conditions"))
    max_choices = item.get("max_choices")
    return {
        "id": _text(item.get("id")),
        "type": _text(item.get("type")) or "single",
        "title": _text(item.get("title")),
        "description": _text(item.get("description")),
        "required": item.get("required") is True,
        "options": _choices(item.get("options")),
        "rows": _choices(item.get("rows")),
        "max_choices": max_choices
        if isinstance(max_choices, int) and not isinstance(max_choices, bool)
        else None,
        "conditions": [_condition(c) for c in conditions if isinstance(c, dict)],
    }


def _choices(items: Any) -> list[dict[str, str]]:
    if not isinstance(items, list):
        return []
    return [{"id": _text(c.get("id")), "label": _text(c.get("label"))} for c in items if isinstance(c, dict)]


def _condition(item: dict[str, Any]) -> dict[str, Any]:
    return {
        "question": _text(item.get("question")),
        "options": [_text(o) for o in _list(item.get("options"))],
    }


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _text(value: Any) -> str:
    return value if isinstance(value, str) else "" if value is None else str(value)


# --- what customers already answered ---------------------------------------------------------------------

_ANSWERED = re.compile(r"^questions\[(\d+)\](?:\.(type|options|rows)(?:\[(\d+)\])?)?$")


def kept_answers(error: DomainError, before: list[Any], after: list[dict[str, Any]]) -> FormErrors:
    """The service's refusal to drop what customers answered, placed in the edited questions: its paths
    name the poll as it was stored, the editor shows the questions as they were posted (moved, some gone)."""
    errors: FormErrors = {}
    for problem in error.errors:
        found = _ANSWERED.match(problem.field)
        stored = before[int(found.group(1))] if found and int(found.group(1)) < len(before) else None
        if not found or not isinstance(stored, dict):
            continue
        path, message = _answered(stored, after, found.group(2), found.group(3))
        errors.setdefault(path, message)
    return errors


def _answered(
    stored: dict[str, Any], after: list[dict[str, Any]], part: str | None, item: str | None
) -> tuple[str, str]:
    title = str(stored.get("title") or stored.get("id"))
    index = next((i for i, question in enumerate(after) if question["id"] == stored.get("id")), None)
    if index is None:
        text = lazy(
            "“%(title)s” has answers and cannot be removed: close the poll and copy it to ask differently."
        )
        return "questions", str(text) % {"title": title}
    if part == "type":
        return f"questions[{index}].type", str(lazy("This question has answers: its type cannot change."))
    choices = stored.get(part or "") or []
    choice = choices[int(item)] if item is not None and int(item) < len(choices) else {}
    label = str(choice.get("label") or choice.get("id") or "") if isinstance(choice, dict) else ""
    if part == "rows":
        return f"questions[{index}].rows", str(
            lazy("The row “%(label)s” was answered and cannot be removed.")
        ) % {"label": label}
    return f"questions[{index}].options", str(
        lazy("The option “%(label)s” was chosen in answers and cannot be removed.")
    ) % {"label": label}
