"""Every SQL statement of polls: the polls, their invitations, responses and answer rows."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, func, insert, or_, select, union
from sqlalchemy.dialects.postgresql import insert as postgres_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError

from smartcomm.kit.repository import Repository
from smartcomm.models import Mailing, Message, Poll, PollAnswer, PollInvitation, PollResponse
from smartcomm.polls.schemas import PollTotals

# The unique key of one answer per customer and poll (PostgreSQL and SQLite name it alike).
ONE_ANSWER_KEY = "uq_poll_responses_poll_customer"


class PollRepository(Repository[Poll]):
    model = Poll

    @property
    def is_postgres(self) -> bool:
        return self.session.get_bind().dialect.name == "postgresql"

    # --- polls ---------------------------------------------------------------------------------------

    def by_code(self, code: str) -> Poll | None:
        return self.session.scalar(select(Poll).where(func.upper(Poll.code) == code.strip().upper()))

    def search(self, text: str | None, limit: int, offset: int) -> tuple[list[Poll], int]:
        """Polls whose name or code holds `text`, newest first, and how many there are."""
        statement = select(Poll)
        if text:
            pattern = f"%{_escape_like(text.strip().lower())}%"
            statement = statement.where(
                or_(
                    func.lower(Poll.name).like(pattern, escape="\\"),
                    func.lower(Poll.code).like(pattern, escape="\\"),
                )
            )
        total = self.count(statement)
        ordered = statement.order_by(Poll.created_at.desc(), Poll.id.desc()).limit(limit).offset(offset)
        return list(self.session.scalars(ordered)), total

    def invited_counts(self, poll_ids: Sequence[int]) -> dict[int, int]:
        """Distinct customers invited per poll."""
        if not poll_ids:
            return {}
        statement = (
            select(PollInvitation.poll_id, func.count(PollInvitation.customer_id.distinct()))
            .where(PollInvitation.poll_id.in_(poll_ids))
            .group_by(PollInvitation.poll_id)
        )
        return {poll_id: int(count) for poll_id, count in self.session.execute(statement)}

    def respondent_counts(self, poll_ids: Sequence[int]) -> dict[int, int]:
        if not poll_ids:
            return {}
        statement = (
            select(PollResponse.poll_id, func.count())
            .where(PollResponse.poll_id.in_(poll_ids))
            .group_by(PollResponse.poll_id)
        )
        return {poll_id: int(count) for poll_id, count in self.session.execute(statement)}

    def totals(self) -> PollTotals:
        polls, closed = self.session.execute(
            select(func.count(), func.count().filter(Poll.closed.is_(True))).select_from(Poll)
        ).one()
        invited = select(PollInvitation.poll_id, PollInvitation.customer_id).distinct().subquery()
        return PollTotals(
            polls=int(polls),
            open=int(polls) - int(closed),
            closed=int(closed),
            invited=int(self.session.scalar(select(func.count()).select_from(invited)) or 0),
            respondents=int(self.session.scalar(select(func.count()).select_from(PollResponse)) or 0),
        )

    def has_responses(self, poll_id: int) -> bool:
        statement = select(PollResponse.id).where(PollResponse.poll_id == poll_id).limit(1)
        return self.session.scalar(statement) is not None

    def answered_keys(self, poll_id: int) -> set[tuple[str, str | None, str | None]]:
        """(question id, row id, option id) of every answer given to the poll (option None: a text)."""
        statement = (
            select(PollAnswer.question_id, PollAnswer.row_id, PollAnswer.option_id)
            .where(PollAnswer.poll_id == poll_id)
            .distinct()
        )
        return {(question, row, option) for question, row, option in self.session.execute(statement)}

    def delete_poll(self, poll: Poll) -> None:
        """The poll and its invitations (it has no responses: the service checked)."""
        self.session.execute(delete(PollInvitation).where(PollInvitation.poll_id == poll.id))
        self.delete(poll)

    def sources(self, poll_id: int) -> list[tuple[str, int, str | None]]:
        """(kind, id, mailing name or None) of the communications that carried the poll's link or
        brought its answers."""
        invited = select(PollInvitation.source_kind, PollInvitation.source_id).where(
            PollInvitation.poll_id == poll_id, PollInvitation.source_kind.is_not(None)
        )
        answered = select(PollResponse.source_kind, PollResponse.source_id).where(
            PollResponse.poll_id == poll_id, PollResponse.source_kind.is_not(None)
        )
        both = union(invited, answered).subquery()
        statement = (
            select(both.c.source_kind, both.c.source_id, Mailing.name)
            .outerjoin(Mailing, (both.c.source_kind == "mailing") & (Mailing.id == both.c.source_id))
            .where(both.c.source_id.is_not(None))
            .order_by(both.c.source_kind, both.c.source_id.desc())
        )
        return [
            (str(kind), int(source_id), name) for kind, source_id, name in self.session.execute(statement)
        ]

    # --- invitations ---------------------------------------------------------------------------------

    def message_source(self, message_id: int) -> tuple[str | None, int | None]:
        row = self.session.execute(
            select(Message.source_kind, Message.source_id).where(Message.id == message_id)
        ).first()
        return (row[0], row[1]) if row else (None, None)

    def message_id_by_key(self, idempotency_key: str) -> int | None:
        return self.session.scalar(select(Message.id).where(Message.idempotency_key == idempotency_key))

    def invite(self, values: dict[str, Any]) -> None:
        """Record an invitation unless the message already has one for this poll (a render repeated)."""
        dialect_insert = postgres_insert if self.is_postgres else sqlite_insert
        statement = dialect_insert(PollInvitation).values(**values)
        self.session.execute(statement.on_conflict_do_nothing(index_elements=["poll_id", "message_id"]))

    # --- responses -----------------------------------------------------------------------------------

    def response_of(self, poll_id: int, customer_id: int) -> PollResponse | None:
        statement = select(PollResponse).where(
            PollResponse.poll_id == poll_id, PollResponse.customer_id == customer_id
        )
        return self.session.scalar(statement)

    def insert_response(self, values: dict[str, Any]) -> int | None:
        """The new response's id, or None when the customer already answered (the unique key held, in a
        savepoint so the caller's transaction stays usable)."""
        try:
            with self.session.begin_nested():
                statement = insert(PollResponse).values(**values).returning(PollResponse.id)
                return int(self.session.execute(statement).scalar_one())
        except IntegrityError as error:
            if ONE_ANSWER_KEY in str(error.orig) or "poll_responses.poll_id" in str(error.orig):
                return None
            raise

    def insert_answers(self, rows: list[dict[str, Any]]) -> None:
        if rows:
            self.session.execute(insert(PollAnswer), rows)

    def customer_responses(self, customer_id: int) -> list[tuple[PollResponse, str, str]]:
        """A customer's responses, newest first, with the poll's code and name."""
        statement = (
            select(PollResponse, Poll.code, Poll.name)
            .join(Poll, Poll.id == PollResponse.poll_id)
            .where(PollResponse.customer_id == customer_id)
            .order_by(PollResponse.completed_at.desc(), PollResponse.id.desc())
        )
        return [(response, code or "", name) for response, code, name in self.session.execute(statement)]

    def responses_page(
        self, poll_id: int, source: tuple[str, int] | None, limit: int, offset: int
    ) -> tuple[list[PollResponse], int]:
        statement = select(PollResponse).where(PollResponse.poll_id == poll_id)
        if source is not None:
            statement = statement.where(
                PollResponse.source_kind == source[0], PollResponse.source_id == source[1]
            )
        total = self.count(statement)
        ordered = statement.order_by(PollResponse.completed_at.desc(), PollResponse.id.desc())
        return list(self.session.scalars(ordered.limit(limit).offset(offset))), total


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
