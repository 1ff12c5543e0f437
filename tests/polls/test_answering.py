"""Answering a poll: what a customer sees, what is checked, and one response per customer."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from smartcomm.kit.errors import InvalidInput
from smartcomm.models import DomainEvent, PollAnswer, PollResponse
from smartcomm.polls import answering
from smartcomm.polls.schemas import questions_of
from tests.polls.helpers import counts, make_customer, make_message, make_poll


def _errors(raised: pytest.ExceptionInfo[InvalidInput]) -> dict[str, str]:
    return {error.field: error.code for error in raised.value.errors}


def test_a_question_is_shown_only_when_its_condition_holds(session: Session) -> None:
    questions = questions_of(make_poll(session))
    ids = lambda answers: [q.id for q in answering.visible_questions(questions, answers)]  # noqa: E731
    assert ids({}) == ["intro", "q1", "q2", "q4"]
    assert ids({"q1": "shop"}) == ["intro", "q1", "q2", "q4"]
    assert ids({"q1": "other"}) == ["intro", "q1", "q2", "q3", "q4"]


def test_answers_to_hidden_questions_are_dropped_and_a_hidden_required_question_is_not_required(
    session: Session,
) -> None:
    questions = questions_of(make_poll(session))
    cleaned = answering.check_answers(questions, {"q1": "shop", "q3": "At the market", "q2": []})
    assert cleaned == {"q1": "shop"}
    with pytest.raises(InvalidInput) as raised:
        answering.check_answers(questions, {"q1": "other", "q3": "   "})
    assert _errors(raised) == {"answers.q3": "required"}


def test_every_problem_is_named_by_its_question(session: Session) -> None:
    questions = questions_of(make_poll(session))
    answers: dict[str, Any] = {
        "q1": "nowhere",
        "q2": ["food", "toys", "books"],
        "q4": {"price": "great"},
    }
    with pytest.raises(InvalidInput) as raised:
        answering.check_answers(questions, answers)
    assert _errors(raised) == {
        "answers.q1": "unknown_option",
        "answers.q2": "too_many",
        "answers.q4": "unknown_option",
    }
    with pytest.raises(InvalidInput) as raised:
        answering.check_answers(questions, {})
    assert _errors(raised) == {"answers.q1": "required"}
    with pytest.raises(InvalidInput) as raised:
        answering.check_answers(questions, {"q1": "other", "q3": "x" * 4001})
    assert _errors(raised) == {"answers.q3": "too_long"}


def test_an_answer_is_recorded_with_its_rows_and_event(session: Session) -> None:
    poll = make_poll(session)
    customer = make_customer(session)
    message = make_message(session, customer, source_kind="mailing", source_id=12)
    answers = {"q1": "other", "q2": ["books", "food"], "q3": " The market ", "q4": {"staff": "good"}}
    response = answering.answer(session, poll, customer.id, message.id, answers)
    session.commit()
    assert (response.source_kind, response.source_id, response.message_id) == ("mailing", 12, message.id)
    assert response.answers == {
        "q1": "other",
        "q2": ["food", "books"],
        "q3": "The market",
        "q4": {"staff": "good"},
    }
    rows = session.execute(
        select(PollAnswer.question_id, PollAnswer.row_id, PollAnswer.option_id, PollAnswer.text)
        .where(PollAnswer.response_id == response.id)
        .order_by(PollAnswer.id)
    ).all()
    assert [tuple(row) for row in rows] == [
        ("q1", None, "other", None),
        ("q2", None, "food", None),
        ("q2", None, "books", None),
        ("q3", None, None, "The market"),
        ("q4", "staff", "good", None),
    ]
    event = session.scalars(select(DomainEvent).where(DomainEvent.kind == "poll.answered")).one()
    assert event.customer_id == customer.id
    assert event.payload == {
        "poll_id": poll.id,
        "response_id": response.id,
        "source_kind": "mailing",
        "source_id": 12,
        "message_id": message.id,
    }


def test_a_customer_answers_once(session: Session) -> None:
    poll = make_poll(session)
    customer = make_customer(session)
    answering.answer(session, poll, customer.id, None, {"q1": "shop"})
    session.commit()
    before = counts(session)
    with pytest.raises(answering.AlreadyAnswered):
        answering.answer(session, poll, customer.id, None, {"q1": "online"})
    session.commit()
    assert counts(session) == before
    stored = session.scalars(
        select(PollResponse.answers).where(PollResponse.customer_id == customer.id)
    ).one()
    assert stored == {"q1": "shop"}


def test_the_unique_key_decides_when_the_check_is_passed(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two submissions that both passed the "answered yet?" check: the database keeps one."""
    poll = make_poll(session)
    customer = make_customer(session)
    answering.answer(session, poll, customer.id, None, {"q1": "shop"})
    monkeypatch.setattr(answering.PollRepository, "response_of", lambda *_: None)
    with pytest.raises(answering.AlreadyAnswered):
        answering.answer(session, poll, customer.id, None, {"q1": "online"})
    session.commit()
    assert len(session.scalars(select(PollResponse).where(PollResponse.poll_id == poll.id)).all()) == 1


def test_a_closed_poll_takes_no_answers(session: Session) -> None:
    poll = make_poll(session)
    poll.closed = True
    customer = make_customer(session)
    with pytest.raises(answering.PollClosed):
        answering.answer(session, poll, customer.id, None, {"q1": "shop"})
