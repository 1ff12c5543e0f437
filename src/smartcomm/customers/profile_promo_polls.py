"""The promo codes and polls sections of the customer profile: the codes issued to the customer with their
group, message and state, and the polls the customer took with every answer in words.

Each section is one query (two for polls: the responses with their polls); answers are stored as ids and
resolved here against the poll's questions (option labels, matrix rows), so renaming an option renames it
in every profile.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from smartcomm.models import Message, Poll, PollResponse, PromoCode, PromoCodeGroup

# The profile shows a customer's latest codes and responses; older ones are in the promo code and poll pages.
SECTION_LIMIT = 100


@dataclass(frozen=True)
class IssuedCode:
    code: PromoCode
    group_id: int
    group_code: str
    group_name: str
    # The ledger row of the message the code was issued for, when it is still there.
    message_id: int | None

    @property
    def status(self) -> str:
        """blocked, redeemed or issued: a blocked code no longer redeems, whatever it was."""
        return "blocked" if self.code.blocked else self.code.status


@dataclass(frozen=True)
class AnswerLine:
    question: str
    answers: list[str]


@dataclass(frozen=True)
class TakenPoll:
    poll_id: int
    code: str | None
    name: str
    completed_at: datetime
    lines: list[AnswerLine] = field(default_factory=list)


class PromoPollsRepository:
    """SQL of the two sections; nothing here writes."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def issued_codes(self, customer_id: int) -> list[IssuedCode]:
        """Codes issued to the customer, the latest first, with their group and message."""
        statement = (
            select(PromoCode, PromoCodeGroup.id, PromoCodeGroup.code, PromoCodeGroup.name, Message.id)
            .join(PromoCodeGroup, PromoCodeGroup.id == PromoCode.group_id)
            .outerjoin(Message, Message.id == PromoCode.message_id)
            .where(PromoCode.customer_id == customer_id)
            .order_by(PromoCode.issued_at.desc(), PromoCode.id.desc())
            .limit(SECTION_LIMIT)
        )
        return [IssuedCode(*row) for row in self.session.execute(statement)]

    def responses(self, customer_id: int) -> list[tuple[PollResponse, Poll]]:
        statement = (
            select(PollResponse, Poll)
            .join(Poll, Poll.id == PollResponse.poll_id)
            .where(PollResponse.customer_id == customer_id)
            .order_by(PollResponse.completed_at.desc(), PollResponse.id.desc())
            .limit(SECTION_LIMIT)
        )
        return [(row[0], row[1]) for row in self.session.execute(statement)]


def taken_polls(session: Session, customer_id: int) -> list[TakenPoll]:
    """The polls the customer took, the latest first, each answer resolved against its questions."""
    return [
        TakenPoll(poll.id, poll.code, poll.name, response.completed_at, answer_lines(poll, response.answers))
        for response, poll in PromoPollsRepository(session).responses(customer_id)
    ]


def answer_lines(poll: Poll, answers: dict[str, Any]) -> list[AnswerLine]:
    """Question → answer in words, in the poll's order; answers to questions removed since come last."""
    questions = [q for q in poll.questions or [] if isinstance(q, dict)]
    known = {q.get("id") for q in questions}
    lines = [
        AnswerLine(str(q.get("title") or q.get("id")), _in_words(q, answers[q["id"]]))
        for q in questions
        if q.get("id") in answers
    ]
    lines += [
        AnswerLine(str(key), _in_words({}, value)) for key, value in answers.items() if key not in known
    ]
    return [line for line in lines if line.answers]


def _in_words(question: dict[str, Any], answer: Any) -> list[str]:
    options = _labels(question.get("options"))
    if isinstance(answer, dict):  # a matrix: row → option, in the order of its rows
        rows = _labels(question.get("rows"))
        order = [row for row in rows if row in answer] + [row for row in answer if row not in rows]
        return [f"{rows.get(row, row)}: {options.get(str(answer[row]), answer[row])}" for row in order]
    if isinstance(answer, list):
        return [", ".join(options.get(str(item), str(item)) for item in answer)] if answer else []
    if answer in (None, ""):
        return []
    return [options.get(str(answer), str(answer))] if question.get("type") != "open" else [str(answer)]


def _labels(items: Any) -> dict[str, str]:
    return {str(i.get("id")): str(i.get("label")) for i in items or [] if isinstance(i, dict)}
