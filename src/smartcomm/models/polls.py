"""Polls: questions sent to customers through a personal link, and the answers they gave.

A poll's questions live as a JSON document on the poll (validated by `polls.schemas`); each answer is kept
twice: whole on the response (what the report and the profile show) and as one row per chosen option or
text (`poll_answers`), which the segment builder and the report's counts query.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from smartcomm.kit.models import Base, BigId, TimestampMixin
from smartcomm.kit.time import utcnow


class Poll(TimestampMixin, Base):
    """A poll: its code (`POLL-<id>`, what templates name), its name and its questions."""

    __tablename__ = "polls"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str | None] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    questions: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # A closed poll still shows its report; its page says the poll is over.
    closed: Mapped[bool] = mapped_column(default=False)
    # Text of the thank-you page (empty: the design's default text).
    thank_you: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    def __repr__(self) -> str:
        return f"<Poll {self.id} {self.code!r}>"


class PollResponse(Base):
    """One customer's answer to a poll (one per customer and poll), with the message whose link it came by."""

    __tablename__ = "poll_responses"
    __table_args__ = (
        UniqueConstraint("poll_id", "customer_id", name="uq_poll_responses_poll_customer"),
        Index("ix_poll_responses_customer", "customer_id", "completed_at"),
        Index("ix_poll_responses_poll_source", "poll_id", "source_kind", "source_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    poll_id: Mapped[int] = mapped_column(ForeignKey("polls.id", ondelete="CASCADE"))
    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("customers.id", ondelete="CASCADE"))
    # The message the link was in, and its source (a mailing, a campaign), for the report's filter.
    message_id: Mapped[int | None] = mapped_column(BigId)
    source_kind: Mapped[str | None] = mapped_column(String(16))
    source_id: Mapped[int | None]
    # Question id → the answer: an option id, a list of them, {row id: option id}, or a text.
    answers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    completed_at: Mapped[datetime] = mapped_column(default=utcnow)


class PollAnswer(Base):
    """One chosen option (or one open answer) of a response, for segments and the report's counts."""

    __tablename__ = "poll_answers"
    __table_args__ = (
        Index("ix_poll_answers_option", "poll_id", "question_id", "option_id", "answered_at"),
        Index("ix_poll_answers_customer", "customer_id", "poll_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    response_id: Mapped[int] = mapped_column(BigId, ForeignKey("poll_responses.id", ondelete="CASCADE"))
    poll_id: Mapped[int] = mapped_column(ForeignKey("polls.id", ondelete="CASCADE"))
    customer_id: Mapped[int] = mapped_column(BigId)
    question_id: Mapped[str] = mapped_column(String(32))
    # The matrix's sub-question (row) the option answers; None elsewhere.
    row_id: Mapped[str | None] = mapped_column(String(32))
    option_id: Mapped[str | None] = mapped_column(String(32))
    text: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[datetime] = mapped_column(default=utcnow)


class PollInvitation(Base):
    """A poll link put in a message being sent (recorded when the message is rendered): whom the poll was
    offered to, and by which communication — the base of the report's completion rate and its filter."""

    __tablename__ = "poll_invitations"
    __table_args__ = (
        UniqueConstraint("poll_id", "message_id", name="uq_poll_invitations_poll_message"),
        Index("ix_poll_invitations_poll_source", "poll_id", "source_kind", "source_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    poll_id: Mapped[int] = mapped_column(ForeignKey("polls.id", ondelete="CASCADE"))
    customer_id: Mapped[int] = mapped_column(BigId)
    message_id: Mapped[int] = mapped_column(BigId)
    source_kind: Mapped[str | None] = mapped_column(String(16))
    source_id: Mapped[int | None]
    invited_at: Mapped[datetime] = mapped_column(default=utcnow)
