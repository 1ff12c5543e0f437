"""Polls: building them (create, update, copy, close, delete), finding them, and the communications that
carried them. Every method flushes and never commits; every change writes its history row.

A poll may be edited while answers exist, as long as the answers keep their meaning: a question, a matrix
row or an option someone already chose cannot be removed (nor an answered question change its type);
rewording, reordering and adding are fine.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from smartcomm.audit.actor import Actor
from smartcomm.audit.service import audit_service, diff
from smartcomm.kit.errors import Conflict, FieldError, InvalidInput, NotFound
from smartcomm.kit.time import utcnow
from smartcomm.models import Poll
from smartcomm.polls.repository import PollRepository
from smartcomm.polls.schemas import (
    CustomerPollResponseOut,
    PollIn,
    PollResponseOut,
    PollRow,
    PollTotals,
    Question,
)

__all__ = ["PollRow", "PollService", "PollTotals", "poll_service"]

CODE_PREFIX = "POLL-"
# Source kinds whose label is the name of a row we can read; the others are labelled "<kind> <id>".
SOURCE_LABELS = {"mailing": "Mailing", "campaign": "Campaign", "transactional": "Transactional"}


class PollService:
    # --- reading -------------------------------------------------------------------------------------

    def get(self, session: Session, poll_id: int) -> Poll:
        poll = PollRepository(session).get(poll_id)
        if poll is None:
            raise NotFound("Poll", poll_id)
        return poll

    def by_code(self, session: Session, code: str) -> Poll | None:
        """The poll a template names (`POLL-151`, any case)."""
        return PollRepository(session).by_code(code) if code and code.strip() else None

    def search(
        self, session: Session, text: str | None, page: int, per_page: int
    ) -> tuple[list[PollRow], int]:
        """Polls whose name or code holds `text`, newest first, with their counts; and the total."""
        page, per_page = max(page, 1), max(per_page, 1)
        repository = PollRepository(session)
        polls, total = repository.search(text, per_page, (page - 1) * per_page)
        ids = [poll.id for poll in polls]
        invited, respondents = repository.invited_counts(ids), repository.respondent_counts(ids)
        rows = [
            PollRow(poll, len(poll.questions or []), invited.get(poll.id, 0), respondents.get(poll.id, 0))
            for poll in polls
        ]
        return rows, total

    def totals(self, session: Session) -> PollTotals:
        """Polls (open, closed), customers invited and responses over every poll: the list's header."""
        return PollRepository(session).totals()

    def sources(self, session: Session, poll_id: int) -> list[tuple[str, int, str]]:
        """(source kind, source id, label) of the mailings and campaigns that carried the poll."""
        self.get(session, poll_id)
        return [
            (kind, source_id, name or f"{SOURCE_LABELS.get(kind, kind)} {source_id}")
            for kind, source_id, name in PollRepository(session).sources(poll_id)
        ]

    def customer_responses(self, session: Session, customer_id: int) -> list[CustomerPollResponseOut]:
        """The customer's responses to every poll, newest first, with each poll's code and name."""
        return [
            CustomerPollResponseOut.model_validate(
                {
                    **PollResponseOut.model_validate(response).model_dump(),
                    "poll_code": code,
                    "poll_name": name,
                }
            )
            for response, code, name in PollRepository(session).customer_responses(customer_id)
        ]

    # --- changing ------------------------------------------------------------------------------------

    def create(self, session: Session, actor: Actor, data: PollIn) -> Poll:
        """A new poll; its code `POLL-<id>` is set once the id is known."""
        poll = Poll(closed=False, created_by_id=actor.user_id)
        _apply(poll, data)
        repository = PollRepository(session)
        repository.add(poll)
        poll.code = f"{CODE_PREFIX}{poll.id}"
        session.flush()
        self._audit(session, actor, poll, "create", diff({}, _snapshot(poll)))
        return poll

    def update(self, session: Session, actor: Actor, poll_id: int, data: PollIn) -> Poll:
        """Change a poll; removing what was already answered is refused, naming the field."""
        poll = self.get(session, poll_id)
        _check_answers_kept(PollRepository(session).answered_keys(poll.id), poll.questions or [], data)
        before = _snapshot(poll)
        _apply(poll, data)
        poll.updated_at = utcnow()
        session.flush()
        self._audit(session, actor, poll, "update", diff(before, _snapshot(poll)))
        return poll

    def delete(self, session: Session, actor: Actor, poll_id: int) -> None:
        """Delete a poll nobody answered; one with answers is closed instead (409)."""
        poll = self.get(session, poll_id)
        repository = PollRepository(session)
        if repository.has_responses(poll.id):
            raise Conflict(
                "The poll has answers and cannot be deleted; close it instead",
                [FieldError("poll", "has answers: close it instead", "has_answers")],
            )
        self._audit(session, actor, poll, "delete", diff(_snapshot(poll), {}))
        repository.delete_poll(poll)

    def copy(self, session: Session, actor: Actor, poll_id: int) -> Poll:
        """A new open poll with the same questions and texts, and no answers."""
        source = self.get(session, poll_id)
        poll = Poll(
            name=f"{source.name} (copy)"[:200],
            description=source.description,
            questions=list(source.questions or []),
            thank_you=source.thank_you,
            closed=False,
            created_by_id=actor.user_id,
        )
        PollRepository(session).add(poll)
        poll.code = f"{CODE_PREFIX}{poll.id}"
        session.flush()
        self._audit(session, actor, poll, "copy", {"copied_from": [None, source.id]})
        return poll

    def set_closed(self, session: Session, actor: Actor, poll_id: int, closed: bool) -> Poll:
        """Close a poll (its page says it is over, templates naming it fail) or open it again."""
        poll = self.get(session, poll_id)
        if poll.closed != closed:
            poll.closed = closed
            poll.updated_at = utcnow()
            session.flush()
            self._audit(
                session, actor, poll, "close" if closed else "reopen", {"closed": [not closed, closed]}
            )
        return poll

    @staticmethod
    def _audit(
        session: Session, actor: Actor, poll: Poll, action: str, changes: dict[str, list[Any]]
    ) -> None:
        audit_service.record(
            session,
            actor,
            object_type="poll",
            object_id=poll.id,
            action=action,
            changes=changes,
            object_label=poll.name,
        )


def _apply(poll: Poll, data: PollIn) -> None:
    poll.name = data.name
    poll.description = data.description or None
    poll.thank_you = data.thank_you or None
    poll.questions = [question.model_dump(mode="json", exclude_none=True) for question in data.questions]


def _snapshot(poll: Poll) -> dict[str, Any]:
    return {
        "name": poll.name,
        "description": poll.description,
        "thank_you": poll.thank_you,
        "closed": poll.closed,
        "questions": poll.questions,
    }


def _check_answers_kept(
    answered: set[tuple[str, str | None, str | None]], old: list[dict[str, Any]], data: PollIn
) -> None:
    """Refuse an update that drops an answered question, matrix row or option, or changes the type of an
    answered question; the error names the field in the poll as it was (`questions[3].options[1]`)."""
    if not answered:
        return
    new = {question.id: question for question in data.questions}
    errors: list[FieldError] = []
    for index, stored in enumerate(old):
        before = Question.model_validate(stored)
        errors += _lost_answers(index, before, new.get(before.id), answered)
    if errors:
        raise InvalidInput(
            f"{errors[0].field}: {errors[0].message}; close the poll and copy it to ask differently", errors
        )


def _lost_answers(
    index: int, before: Question, after: Question | None, answered: set[tuple[str, str | None, str | None]]
) -> list[FieldError]:
    given = [(row, option) for question, row, option in answered if question == before.id]
    if not given:
        return []
    path = f"questions[{index}]"
    if after is None:
        return [FieldError(path, "this question has answers and cannot be removed", "answered")]
    if after.type != before.type:
        return [FieldError(f"{path}.type", "this question has answers; its type cannot change", "answered")]
    chosen_options = {option for _, option in given if option is not None}
    chosen_rows = {row for row, _ in given if row is not None}
    kept_options, kept_rows = set(after.option_ids), {row.id for row in after.rows}
    errors = [
        FieldError(
            f"{path}.options[{i}]", "this option was chosen in answers and cannot be removed", "answered"
        )
        for i, option in enumerate(before.options)
        if option.id in chosen_options and option.id not in kept_options
    ]
    errors += [
        FieldError(f"{path}.rows[{i}]", "this row was answered and cannot be removed", "answered")
        for i, row in enumerate(before.rows)
        if row.id in chosen_rows and row.id not in kept_rows
    ]
    return errors


poll_service = PollService()
