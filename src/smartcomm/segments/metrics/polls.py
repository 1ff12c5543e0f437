"""Poll metrics: who took a poll, and who chose given options of one of its questions.

A poll is named by its id (also as {"code": …} resolved on saving) or by its code as plain text (`POLL-7`);
a question, a matrix row and options by their ids inside the poll (`q2`, `r1`, `a3`). Took a poll reads the
customer's responses (index on customer and completion time), chose an option the customer's answer rows
(index on customer and poll): a short range per candidate customer.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import ColumnElement, exists, select

from smartcomm.kit.i18n import lazy
from smartcomm.models import Customer, Poll, PollAnswer, PollResponse
from smartcomm.segments.metrics.base import (
    PERIOD,
    CompileContext,
    MetricError,
    ParamSpec,
    ValueType,
    compare,
    param,
    param_id,
    registry,
)
from smartcomm.segments.metrics.checked import CheckedMetric
from smartcomm.segments.metrics.promocodes import period_filter
from smartcomm.segments.promo_poll_rows import check_poll, check_poll_choice
from smartcomm.segments.rules import Condition

POLLS = lazy("Polls")
SLUG = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
MAX_OPTIONS = 50

POLL = ParamSpec("poll", lazy("Poll"), "poll", True)
QUESTION = ParamSpec("question", lazy("Question"), "poll_question", True)
ROW = ParamSpec("row", lazy("Matrix row"), "poll_row")
OPTIONS = ParamSpec("options", lazy("Options (any of)"), "poll_option", True)


def poll_filter(column: Any, condition: Condition) -> Any:
    """`column` equals the poll the condition names (by id, or by its code as text)."""
    raw = param(condition, "poll", True)
    found = param_id(condition, "poll")
    if found is not None:
        return column == found
    if not isinstance(raw, str) or len(raw.strip()) > 32:
        raise MetricError("the parameter 'poll' is an id or the code of a poll")
    return column == select(Poll.id).where(Poll.code == raw.strip()).scalar_subquery()


def slug(condition: Condition, name: str, required: bool = False) -> str | None:
    """A question or row id; None when an optional one is not given."""
    raw = param(condition, name, required)
    if raw in (None, ""):
        return None
    if not isinstance(raw, str) or not SLUG.match(raw.strip()):
        raise MetricError(f"the parameter {name!r} is the id of a {name} of the poll, such as 'q1'")
    return raw.strip()


def option_ids(condition: Condition) -> list[str]:
    """The options the condition accepts (any of): a list of ids, or ids separated by commas."""
    raw = param(condition, "options", True)
    items = raw if isinstance(raw, list) else str(raw).split(",")
    ids = [item.strip() for item in items if isinstance(item, str) and item.strip()]
    if not ids or len(ids) != len(items) or not all(SLUG.match(item) for item in ids):
        raise MetricError(
            "the parameter 'options' lists ids of options of the question, such as ['a1', 'a2']"
        )
    if len(ids) > MAX_OPTIONS:
        raise MetricError(f"the parameter 'options' lists at most {MAX_OPTIONS} options")
    return sorted(set(ids))


def _build_took(condition: Condition, context: CompileContext) -> ColumnElement[bool]:
    took = exists(
        select(PollResponse.id).where(
            PollResponse.customer_id == Customer.id,
            poll_filter(PollResponse.poll_id, condition),
            *period_filter(PollResponse.completed_at, condition, context),
        )
    )
    return compare(took, TOOK, condition, context)


def _build_chose(condition: Condition, context: CompileContext) -> ColumnElement[bool]:
    row = slug(condition, "row")
    chose = exists(
        select(PollAnswer.id).where(
            PollAnswer.customer_id == Customer.id,
            poll_filter(PollAnswer.poll_id, condition),
            PollAnswer.question_id == slug(condition, "question", True),
            *([PollAnswer.row_id == row] if row is not None else []),
            PollAnswer.option_id.in_(option_ids(condition)),
            *period_filter(PollAnswer.answered_at, condition, context),
        )
    )
    return compare(chose, CHOSE, condition, context)


TOOK = registry.register(
    CheckedMetric(
        "polls.took",
        lazy("Took poll"),
        POLLS,
        ValueType.BOOLEAN,
        _build_took,
        params=(POLL, PERIOD),
        check_rows=check_poll,
    )
)
CHOSE = registry.register(
    CheckedMetric(
        "polls.chose",
        lazy("Chose option in poll"),
        POLLS,
        ValueType.BOOLEAN,
        _build_chose,
        params=(POLL, QUESTION, ROW, OPTIONS, PERIOD),
        check_rows=check_poll_choice,
    )
)
