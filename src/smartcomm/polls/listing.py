"""Responses read page by page (the API's list)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from smartcomm.kit.pagination import Page
from smartcomm.models import PollResponse
from smartcomm.polls.repository import PollRepository


def poll_answers(
    session: Session, poll_id: int, source: tuple[str, int] | None, page: int, size: int
) -> Page[PollResponse]:
    """The poll's responses, newest first, one page of them."""
    responses, total = PollRepository(session).responses_page(poll_id, source, size, (page - 1) * size)
    return Page(items=responses, total=total, page=page, size=size)
