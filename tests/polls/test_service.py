"""Building polls: the document's checks, codes, editing while answers exist, copying, closing, deleting,
the list, and a history row for every change."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from smartcomm.kit.errors import Conflict, InvalidInput
from smartcomm.models import AuditEntry, Poll
from smartcomm.polls import answering
from smartcomm.polls.schemas import PollIn
from smartcomm.polls.service import poll_service
from tests.polls.helpers import ACTOR, counts, make_customer, make_poll, questions


def _poll_in(items: list[dict[str, Any]], **values: Any) -> PollIn:
    return PollIn.model_validate({"name": "Poll", "questions": items, **values})


def _history(session: Session, poll_id: int) -> list[str]:
    statement = select(AuditEntry.action).where(
        AuditEntry.object_type == "poll", AuditEntry.object_id == str(poll_id)
    )
    return list(session.scalars(statement.order_by(AuditEntry.id)))


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (lambda q: q[3].update(conditions=[{"question": "q4", "options": ["ok"]}]), "earlier question"),
        (
            lambda q: q[3].update(conditions=[{"question": "q1", "options": ["nowhere"]}]),
            "has no option nowhere",
        ),
        (lambda q: q[0].update(required=True), "text block"),
        (lambda q: q[2].update(max_choices=5), "max_choices"),
        (lambda q: q[1]["options"].append({"id": "shop", "label": "Twice"}), "used twice"),
        (lambda q: q[4].update(rows=[]), "matrix needs rows"),
    ],
)
def test_a_poll_that_does_not_hold_together_is_refused(change: Any, words: str) -> None:
    items = questions()
    change(items)
    with pytest.raises(ValidationError) as raised:
        _poll_in(items)
    assert words in str(raised.value)


def test_a_new_poll_gets_its_code_and_is_found_by_it(session: Session) -> None:
    poll = make_poll(session)
    assert poll.code == f"POLL-{poll.id}" and not poll.closed
    assert poll_service.by_code(session, poll.code.lower()) is poll
    assert poll_service.by_code(session, "POLL-0") is None
    assert _history(session, poll.id) == ["create"]


def test_rewording_is_allowed_after_answers_but_removing_an_answered_option_is_not(session: Session) -> None:
    poll = make_poll(session)
    answering.answer(session, poll, make_customer(session).id, None, {"q1": "shop", "q4": {"staff": "ok"}})
    session.commit()
    items = questions()
    items[1]["title"] = "Where do you usually shop?"
    items[1]["options"][2]["label"] = "Somewhere else"
    items.append({"id": "q5", "type": "open", "title": "Anything else?"})
    poll_service.update(session, ACTOR, poll.id, _poll_in(items))
    assert poll.questions[1]["title"] == "Where do you usually shop?"

    for change, field in (
        (lambda q: q[1]["options"].pop(0), "questions[1].options[0]"),
        (lambda q: q.pop(4), "questions[4]"),
        (lambda q: q[4]["rows"].pop(1), "questions[4].rows[1]"),
    ):
        items = questions()
        change(items)
        with pytest.raises(InvalidInput) as raised:
            poll_service.update(session, ACTOR, poll.id, _poll_in(items))
        assert [error.field for error in raised.value.errors] == [field]
    items = questions()
    items[1]["options"].pop(1)  # nobody chose "online": it may go
    poll_service.update(session, ACTOR, poll.id, _poll_in(items))
    assert _history(session, poll.id) == ["create", "update", "update"]


def test_a_poll_with_answers_is_closed_not_deleted(session: Session) -> None:
    poll = make_poll(session)
    answering.answer(session, poll, make_customer(session).id, None, {"q1": "shop"})
    session.commit()
    before = counts(session)
    with pytest.raises(Conflict):
        poll_service.delete(session, ACTOR, poll.id)
    session.rollback()
    assert counts(session) == before
    poll_service.set_closed(session, ACTOR, poll.id, True)
    poll_service.set_closed(session, ACTOR, poll.id, True)  # already closed: nothing new
    assert poll.closed and _history(session, poll.id) == ["create", "close"]


def test_a_copy_has_the_questions_and_none_of_the_answers(session: Session) -> None:
    poll = make_poll(session, thank_you="Thanks!")
    answering.answer(session, poll, make_customer(session).id, None, {"q1": "shop"})
    poll_service.set_closed(session, ACTOR, poll.id, True)
    copy = poll_service.copy(session, ACTOR, poll.id)
    assert (copy.name, copy.code, copy.closed, copy.thank_you) == (
        "Shopping habits (copy)",
        f"POLL-{copy.id}",
        False,
        "Thanks!",
    )
    assert copy.questions == poll.questions
    rows, _ = poll_service.search(session, copy.code, 1, 10)
    assert [(row.poll.id, row.question_count, row.respondents) for row in rows] == [(copy.id, 5, 0)]
    poll_service.delete(session, ACTOR, copy.id)
    assert session.get(Poll, copy.id) is None
    assert _history(session, copy.id) == ["copy", "delete"]


def test_the_list_searches_names_and_codes_newest_first(session: Session) -> None:
    first = make_poll(session, name="Summer survey")
    second = make_poll(session, name="Winter 100% survey")
    rows, total = poll_service.search(session, "survey", 1, 10)
    assert ([row.poll.id for row in rows], total) == ([second.id, first.id], 2)
    rows, total = poll_service.search(session, "100%", 1, 10)
    assert [row.poll.id for row in rows] == [second.id]
    rows, total = poll_service.search(session, None, 2, 1)
    assert (len(rows), total >= 2) == (1, True)
    totals = poll_service.totals(session)
    assert totals.polls >= 2 and totals.open == totals.polls - totals.closed
