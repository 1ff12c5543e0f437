"""The SQL of a poll's report: counts over invitations, responses and answer rows, grouped in the database.

Every query takes an optional source (a mailing, a campaign): with one, only the invitations of that
source count, and only the responses that came by its links (answer rows are joined to their response,
which carries the source). Times are grouped in UTC quarter hours (every zone's offset is a multiple of
15 minutes), so the caller folds them into days of the project's time zone without reading responses.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, Integer, cast, func, select

from smartcomm.models import Customer, PollAnswer, PollInvitation, PollResponse

QUARTER = 900
Source = tuple[str, int] | None
CSV_BATCH = 1000


class PollReportQueries:
    def __init__(self, session: Any) -> None:
        self.session = session

    @property
    def is_postgres(self) -> bool:
        return bool(self.session.get_bind().dialect.name == "postgresql")

    def invited(self, poll_id: int, source: Source) -> int:
        statement = select(func.count(PollInvitation.customer_id.distinct())).where(
            PollInvitation.poll_id == poll_id
        )
        if source is not None:
            statement = statement.where(
                PollInvitation.source_kind == source[0], PollInvitation.source_id == source[1]
            )
        return int(self.session.scalar(statement) or 0)

    def respondents(self, poll_id: int, source: Source) -> int:
        statement = select(func.count()).select_from(PollResponse).where(*self._responses(poll_id, source))
        return int(self.session.scalar(statement) or 0)

    def responses_by_quarter(self, poll_id: int, source: Source) -> list[tuple[datetime, int]]:
        bucket = self._quarter(PollResponse.completed_at)
        statement = select(bucket, func.count()).where(*self._responses(poll_id, source)).group_by(bucket)
        return [
            (_quarter_start(int(number)), int(count)) for number, count in self.session.execute(statement)
        ]

    def answered(self, poll_id: int, source: Source) -> dict[str, int]:
        """Responses that answered each question."""
        statement = (
            select(PollAnswer.question_id, func.count(PollAnswer.response_id.distinct()))
            .where(*self._answers(poll_id, source))
            .group_by(PollAnswer.question_id)
        )
        return {question: int(count) for question, count in self.session.execute(statement)}

    def option_counts(self, poll_id: int, source: Source) -> dict[tuple[str, str | None, str], int]:
        """(question, matrix row or None, option) → how many responses chose it."""
        statement = (
            select(PollAnswer.question_id, PollAnswer.row_id, PollAnswer.option_id, func.count())
            .where(*self._answers(poll_id, source), PollAnswer.option_id.is_not(None))
            .group_by(PollAnswer.question_id, PollAnswer.row_id, PollAnswer.option_id)
        )
        return {(q, row, option): int(count) for q, row, option, count in self.session.execute(statement)}

    def open_answers(
        self, poll_id: int, question_id: str, source: Source, limit: int
    ) -> list[tuple[int, Customer, str, datetime]]:
        """The latest open answers to a question, with their customers."""
        statement = (
            select(PollAnswer.customer_id, Customer, PollAnswer.text, PollAnswer.answered_at)
            .join(Customer, Customer.id == PollAnswer.customer_id)
            .where(
                *self._answers(poll_id, source),
                PollAnswer.question_id == question_id,
                PollAnswer.text.is_not(None),
            )
            .order_by(PollAnswer.answered_at.desc(), PollAnswer.id.desc())
            .limit(limit)
        )
        rows = self.session.execute(statement)
        return [(int(c), customer, str(text), at) for c, customer, text, at in rows]

    def csv_rows(self, poll_id: int, source: Source) -> Iterator[list[tuple[PollResponse, str]]]:
        """The responses with their customers' external ids, in batches by response id."""
        after = 0
        while True:
            statement = (
                select(PollResponse, Customer.external_id)
                .join(Customer, Customer.id == PollResponse.customer_id)
                .where(*self._responses(poll_id, source), PollResponse.id > after)
                .order_by(PollResponse.id)
                .limit(CSV_BATCH)
            )
            batch = list(self.session.execute(statement))
            if not batch:
                return
            yield [(response, str(external_id)) for response, external_id in batch]
            after = batch[-1][0].id

    # --- the filters ---------------------------------------------------------------------------------

    @staticmethod
    def _responses(poll_id: int, source: Source) -> list[ColumnElement[bool]]:
        conditions = [PollResponse.poll_id == poll_id]
        if source is not None:
            conditions += [PollResponse.source_kind == source[0], PollResponse.source_id == source[1]]
        return conditions

    @classmethod
    def _answers(cls, poll_id: int, source: Source) -> list[ColumnElement[bool]]:
        conditions = [PollAnswer.poll_id == poll_id]
        if source is not None:
            of_source = select(PollResponse.id).where(*cls._responses(poll_id, source))
            conditions.append(PollAnswer.response_id.in_(of_source))
        return conditions

    def _quarter(self, column: Any) -> Any:
        """The number of the UTC quarter hour a timestamp falls in (seconds since 1970 // 900)."""
        if self.is_postgres:
            return cast(func.floor(func.extract("epoch", column) / QUARTER), BigInteger)
        return cast(func.strftime("%s", column), Integer) / QUARTER


def _quarter_start(number: int) -> datetime:
    return datetime.fromtimestamp(number * QUARTER, UTC)
