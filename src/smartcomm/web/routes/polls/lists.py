"""Polls → the list: header totals, the polls with their questions, invited customers, respondents and
completion, searched by name or code and paged; and the actions of its row menu (copy, close or reopen,
delete), each through the poll service (the change and its history row) and back with a toast."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from smartcomm.kit.errors import DomainError, NotFound
from smartcomm.kit.http import DbSession
from smartcomm.kit.i18n import lazy
from smartcomm.kit.pagination import Page
from smartcomm.models import Poll
from smartcomm.polls.service import poll_service
from smartcomm.web.forms import PostedForm
from smartcomm.web.routes.polls.common import Editor, Viewer, completion, refusal
from smartcomm.web.templating import flash, redirect, render

router = APIRouter()
PAGE_SIZES = (10, 25, 50, 100)
DEFAULT_PAGE_SIZE = 25
MAX_QUERY = 200


@dataclass(frozen=True)
class Row:
    """One line of the list: the poll and its figures."""

    poll: Poll
    questions: int
    invited: int
    respondents: int

    @property
    def completion(self) -> float | None:
        return completion(self.invited, self.respondents)


@router.get("", response_class=HTMLResponse)
def poll_list(
    request: Request, session: DbSession, _: Viewer, q: str = "", page: int = 1, size: int = DEFAULT_PAGE_SIZE
) -> Response:
    """The polls, newest first, searched by name or code and paged."""
    query = q.strip()[:MAX_QUERY]
    size = size if size in PAGE_SIZES else DEFAULT_PAGE_SIZE
    page = min(max(page, 1), 100_000)
    found, total = poll_service.search(session, query or None, page, size)
    rows = [Row(r.poll, r.question_count, r.invited, r.respondents) for r in found]
    totals = poll_service.totals(session)
    context = {
        "rows": rows,
        "page": Page(rows, total, page, size),
        "query": query,
        "size": size,
        "sizes": PAGE_SIZES,
        "base_query": _query(query, size),
        "totals": totals,
        "completion": completion(totals.invited, totals.respondents),
    }
    return render(request, "polls/list.html", context, fragment="polls/_table.html")


def _query(query: str, size: int) -> str:
    """The list's search and page size as a query string ending in "&" (for the pager's links)."""
    values = {"q": query, "size": str(size)}
    return urlencode({key: value for key, value in values.items() if value}) + "&"


# --- the row menu's actions ------------------------------------------------------------------------------


def _back(form: dict[str, Any]) -> str:
    """Where the action was asked from (the list or the poll's pages), never another site."""
    wanted = str(form.get("back") or "")
    return wanted if wanted.startswith("/polls") and "//" not in wanted else "/polls"


def _act(request: Request, session: Session, action: Callable[[], Any], done: str, back: str) -> Response:
    try:
        action()
    except NotFound:
        raise
    except DomainError as error:
        flash(request, refusal(session, error), "danger")
        return redirect(request, back)
    flash(request, done)
    return redirect(request, back)


@router.post("/{poll_id:int}/copy")
def copy(request: Request, session: DbSession, principal: Editor, poll_id: int, form: PostedForm) -> Response:
    """A new poll with the same questions and no answers; opens in the editor."""
    try:
        created = poll_service.copy(session, principal.actor, poll_id)
    except NotFound:
        raise
    except DomainError as error:
        flash(request, refusal(session, error), "danger")
        return redirect(request, _back(form))
    flash(request, lazy("The copy was created."))
    return redirect(request, f"/polls/{created.id}/edit")


@router.post("/{poll_id:int}/close")
def close(
    request: Request, session: DbSession, principal: Editor, poll_id: int, form: PostedForm
) -> Response:
    """Stop taking answers: the poll's page says it is over; the report stays."""
    return _act(
        request,
        session,
        lambda: poll_service.set_closed(session, principal.actor, poll_id, True),
        lazy("The poll was closed."),
        _back(form),
    )


@router.post("/{poll_id:int}/reopen")
def reopen(
    request: Request, session: DbSession, principal: Editor, poll_id: int, form: PostedForm
) -> Response:
    return _act(
        request,
        session,
        lambda: poll_service.set_closed(session, principal.actor, poll_id, False),
        lazy("The poll takes answers again."),
        _back(form),
    )


@router.post("/{poll_id:int}/delete")
def delete(request: Request, session: DbSession, principal: Editor, poll_id: int) -> Response:
    """Delete a poll nobody has answered (one with answers is closed instead)."""
    return _act(
        request,
        session,
        lambda: poll_service.delete(session, principal.actor, poll_id),
        lazy("The poll was deleted."),
        "/polls",
    )
