"""Test data for polls: a poll with a condition, customers, and the messages their links came in."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from smartcomm.audit.actor import Actor
from smartcomm.delivery.tokens import Purpose, sign
from smartcomm.models import Poll, PollAnswer, PollInvitation, PollResponse
from smartcomm.polls.schemas import PollIn
from smartcomm.polls.service import poll_service
from tests.tracking_public.helpers import make_customer, make_message  # noqa: F401 (re-exported)

ACTOR = Actor.system("tests")


def questions() -> list[dict[str, Any]]:
    """Three questions and a text block; the third is asked only of those who chose "other" first."""
    return [
        {"id": "intro", "type": "text", "title": "A few questions", "description": "It takes a minute."},
        {
            "id": "q1",
            "type": "single",
            "title": "Where do you shop?",
            "required": True,
            "options": [
                {"id": "shop", "label": "In a shop"},
                {"id": "online", "label": "Online"},
                {"id": "other", "label": "Elsewhere"},
            ],
        },
        {
            "id": "q2",
            "type": "multiple",
            "title": "What do you buy?",
            "max_choices": 2,
            "options": [
                {"id": "food", "label": "Food"},
                {"id": "toys", "label": "Toys"},
                {"id": "books", "label": "Books"},
            ],
        },
        {
            "id": "q3",
            "type": "open",
            "title": "Where else?",
            "required": True,
            "conditions": [{"question": "q1", "options": ["other"]}],
        },
        {
            "id": "q4",
            "type": "matrix",
            "title": "Rate us",
            "rows": [{"id": "price", "label": "Prices"}, {"id": "staff", "label": "Staff"}],
            "options": [
                {"id": "bad", "label": "Bad"},
                {"id": "ok", "label": "OK"},
                {"id": "good", "label": "Good"},
            ],
        },
    ]


def make_poll(session: Session, name: str = "Shopping habits", **values: Any) -> Poll:
    data = PollIn.model_validate({"name": name, "questions": questions(), **values})
    poll = poll_service.create(session, ACTOR, data)
    session.commit()
    return poll


def poll_link(poll: Poll, customer_id: int, message_id: int = 0) -> str:
    return f"/q/{sign(Purpose.POLL, poll.id, customer_id, message_id)}"


def counts(session: Session) -> dict[str, int]:
    """Rows of every poll table (a GET must change none of them)."""
    return {
        model.__tablename__: int(session.scalar(select(func.count()).select_from(model)) or 0)
        for model in (Poll, PollResponse, PollAnswer, PollInvitation)
    }
