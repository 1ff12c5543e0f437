"""Promo codes and poll answers for segment tests: groups, codes in every state, polls with choice, matrix
and open questions, and responses with their answer rows — written straight into the tables."""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from smartcomm.models import Poll, PollAnswer, PollResponse, PromoCode, PromoCodeGroup

_numbers = itertools.count(1)

# A poll of every kind of question: single and multiple choice, a matrix, an open question and a text block.
QUESTIONS: list[dict[str, Any]] = [
    {
        "id": "q1",
        "type": "single",
        "title": "Tea or coffee?",
        "options": [{"id": "a1", "label": "Tea"}, {"id": "a2", "label": "Coffee"}],
    },
    {
        "id": "q2",
        "type": "multiple",
        "title": "What do you add?",
        "options": [
            {"id": "b1", "label": "Milk"},
            {"id": "b2", "label": "Sugar"},
            {"id": "b3", "label": "Lemon"},
        ],
    },
    {
        "id": "q3",
        "type": "matrix",
        "title": "Rate our shop",
        "rows": [{"id": "r1", "label": "Prices"}, {"id": "r2", "label": "Service"}],
        "options": [{"id": "m1", "label": "Poor"}, {"id": "m2", "label": "Good"}],
    },
    {"id": "q4", "type": "open", "title": "Anything else?"},
    {"id": "t1", "type": "text", "title": "Thank you for your time"},
]


def make_group(session: Session, code: str, name: str | None = None) -> PromoCodeGroup:
    group = PromoCodeGroup(code=code, name=name or f"{code.title()} offer")
    session.add(group)
    session.flush()
    return group


def make_code(
    session: Session,
    group: PromoCodeGroup,
    customer_id: int | None = None,
    *,
    issued_at: datetime | None = None,
    redeemed_at: datetime | None = None,
    blocked: bool = False,
    message_id: int | None = None,
) -> PromoCode:
    """A code: active without an issue time, issued with one, redeemed with a redemption time."""
    status = "redeemed" if redeemed_at else "issued" if issued_at else "active"
    code = PromoCode(
        group_id=group.id,
        code=f"{group.code}-{next(_numbers):05d}",
        status=status,
        blocked=blocked,
        customer_id=customer_id,
        message_id=message_id,
        issue_key=f"test-{next(_numbers)}" if issued_at else None,
        issued_at=issued_at,
        redeemed_at=redeemed_at,
    )
    session.add(code)
    session.flush()
    return code


def make_poll(
    session: Session, name: str = "Taste survey", questions: list[dict[str, Any]] | None = None
) -> Poll:
    poll = Poll(name=name, questions=questions if questions is not None else QUESTIONS)
    session.add(poll)
    session.flush()
    poll.code = f"POLL-{poll.id}"
    session.flush()
    return poll


def answer(
    session: Session,
    poll: Poll,
    customer_id: int,
    answers: dict[str, Any],
    at: datetime,
    message_id: int | None = None,
) -> PollResponse:
    """A completed response and one answer row per chosen option (per matrix row) or open answer."""
    response = PollResponse(
        poll_id=poll.id, customer_id=customer_id, answers=answers, completed_at=at, message_id=message_id
    )
    session.add(response)
    session.flush()
    kinds = {q["id"]: q["type"] for q in poll.questions}
    for question_id, given in answers.items():
        for row_id, option_id, text in _rows(kinds[question_id], given):
            session.add(
                PollAnswer(
                    response_id=response.id,
                    poll_id=poll.id,
                    customer_id=customer_id,
                    question_id=question_id,
                    row_id=row_id,
                    option_id=option_id,
                    text=text,
                    answered_at=at,
                )
            )
    session.flush()
    return response


def _rows(kind: str, given: Any) -> list[tuple[str | None, str | None, str | None]]:
    if kind == "open":
        return [(None, None, str(given))]
    if kind == "matrix":
        return [(row, option, None) for row, option in given.items()]
    options = given if isinstance(given, list) else [given]
    return [(None, option, None) for option in options]


@dataclass
class PromoPolls:
    """What a random data set holds: its groups (id → code) and polls (id → their questions)."""

    groups: dict[int, str] = field(default_factory=dict)
    polls: dict[int, str] = field(default_factory=dict)


def write_promo_polls(
    session: Session, rng: random.Random, customer_ids: Sequence[int], moment: Callable[[], datetime]
) -> PromoPolls:
    """Random codes issued and redeemed, and random answers to two polls, at times `moment()` draws."""
    found = PromoPolls()
    groups = [make_group(session, f"G{n}X{next(_numbers)}") for n in range(2)]
    found.groups = {g.id: g.code for g in groups}
    for customer_id in customer_ids:
        for _ in range(rng.choice((0, 0, 1, 2, 3))):
            _random_code(session, rng, rng.choice(groups), customer_id, moment)
    make_code(session, groups[0])  # an active code, issued to nobody
    polls = [make_poll(session, f"Poll {n}") for n in range(2)]
    found.polls = {p.id: str(p.code) for p in polls}
    for poll in polls:
        for customer_id in customer_ids:
            if rng.random() < 0.4:
                answer(session, poll, customer_id, _random_answers(rng), moment())
    return found


def _random_code(
    session: Session,
    rng: random.Random,
    group: PromoCodeGroup,
    customer_id: int,
    moment: Callable[[], datetime],
) -> None:
    issued = moment()
    redeemed = max(issued, moment()) if rng.random() < 0.4 else None
    make_code(session, group, customer_id, issued_at=issued, redeemed_at=redeemed, blocked=rng.random() < 0.1)


def _random_answers(rng: random.Random) -> dict[str, Any]:
    answers: dict[str, Any] = {"q1": rng.choice(("a1", "a2"))}
    if rng.random() < 0.7:
        answers["q2"] = rng.sample(["b1", "b2", "b3"], rng.randint(1, 3))
    if rng.random() < 0.7:
        answers["q3"] = {row: rng.choice(("m1", "m2")) for row in ("r1", "r2") if rng.random() < 0.8}
    if rng.random() < 0.3:
        answers["q4"] = "Fine"
    return answers
