"""The public poll page /q/{token}: a customer's personal link to a poll, branded like the other public pages.

The signed token names the poll, the customer and the message the link came in; it is the authentication
(no session, no CSRF token — see `public.py`). A GET only shows: link scanners fetch every link of a
message, so opening the page records nothing. The form posts back to its token; the server checks every
answer again (the page's script only shows and hides questions as the customer answers). Customer 0 is a
preview link: the form works, nothing is recorded.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from smartcomm.delivery.tokens import Purpose, verify
from smartcomm.kit import i18n
from smartcomm.kit.errors import InvalidInput
from smartcomm.kit.http import DbSession
from smartcomm.kit.i18n import lazy
from smartcomm.models import Customer, Poll
from smartcomm.polls import answering
from smartcomm.polls.repository import PollRepository
from smartcomm.polls.schemas import MAX_OPEN_ANSWER, Question, questions_of
from smartcomm.web.routes.public import Look, PublicLink, look_of, missing_page, render_public

router = APIRouter(dependencies=[Depends(PublicLink())], include_in_schema=False)

THANK_YOU = lazy("Thank you!")
THANK_YOU_TEXT = lazy("Your answers have been recorded.")
ALREADY = lazy("You have already answered this poll")
ALREADY_TEXT = lazy("Thank you — your answers were recorded earlier. A poll can be answered only once.")
CLOSED = lazy("This poll is closed")
CLOSED_TEXT = lazy("It no longer takes answers. Thank you for your interest.")
FIX_ERRORS = lazy("Please check the questions marked below.")
FIELD = "q"  # form fields: q.<question>, and q.<question>.<row> for a matrix


@dataclass(frozen=True)
class Link:
    """What a genuine poll token names: the poll, the customer (None: a preview link), the message."""

    poll: Poll
    customer: Customer | None
    message_id: int | None

    @property
    def preview(self) -> bool:
        return self.customer is None


def _opened(session: Session, request: Request, token: str) -> Link | HTMLResponse:
    """The link's poll and customer, or the page saying why there is none (404 unknown, 410 gone)."""
    found = verify(Purpose.POLL, token, 3)
    if found is None:
        return missing_page(look_of(session, request, None), gone=False)
    poll_id, customer_id, message_id = found
    poll = PollRepository(session).get(poll_id)
    customer = session.get(Customer, customer_id) if customer_id else None
    if poll is None or (customer_id and customer is None):
        return missing_page(look_of(session, request, customer), gone=True)
    return Link(poll, customer, message_id or None)


async def posted_form(request: Request) -> FormData:
    return await request.form()


@router.get("/q/{token}", response_class=HTMLResponse)
def poll_page(request: Request, session: DbSession, token: str) -> Response:
    """The poll's form; or the page saying it was answered or is closed. Records nothing."""
    link = _opened(session, request, token)
    if isinstance(link, HTMLResponse):
        return link
    look = look_of(session, request, link.customer)
    stopped = _stopped(session, look, link, status=200)
    if stopped is not None:
        return stopped
    return _form(request, look, link, token, {}, {})


@router.post("/q/{token}", response_class=HTMLResponse)
def answer_poll(
    request: Request, session: DbSession, token: str, form: FormData = Depends(posted_form)
) -> Response:
    """Record the answers (a preview link only checks them) and thank the customer."""
    link = _opened(session, request, token)
    if isinstance(link, HTMLResponse):
        return link
    look = look_of(session, request, link.customer)
    stopped = _stopped(session, look, link, status=409)
    if stopped is not None:
        return stopped
    questions = questions_of(link.poll)
    values = read_answers(questions, form)
    try:
        with i18n.language(look.language):  # the error messages are for the customer
            _record(session, link, questions, values)
    except answering.AlreadyAnswered:
        return _notice(look, "already", 409)
    except answering.PollClosed:
        return _notice(look, "closed", 409)
    except InvalidInput as error:
        errors = {e.field.removeprefix("answers."): e.message for e in error.errors}
        return _form(request, look, link, token, values, errors, status=422)
    return _thanks(look, link)


def _record(session: Session, link: Link, questions: list[Question], values: dict[str, Any]) -> None:
    if link.customer is None:
        answering.check_answers(questions, values)  # a preview: the same checks, nothing written
        return
    answering.answer(session, link.poll, link.customer.id, link.message_id, values)


def _stopped(session: Session, look: Look, link: Link, status: int) -> HTMLResponse | None:
    """The page to show instead of the form: the customer already answered, or the poll is closed (a
    preview shows the form of a closed poll too: the marketer checks what it looked like)."""
    if link.customer is not None:
        if PollRepository(session).response_of(link.poll.id, link.customer.id) is not None:
            return _notice(look, "already", status)
        if link.poll.closed:
            return _notice(look, "closed", status)
    return None


def read_answers(questions: list[Question], form: FormData) -> dict[str, Any]:
    """The posted answers by question id, as `answering.check_answers` takes them."""
    values: dict[str, Any] = {}
    for question in questions:
        name = f"{FIELD}.{question.id}"
        if question.type == "multiple":
            values[question.id] = [str(item) for item in form.getlist(name) if isinstance(item, str)]
        elif question.type == "matrix":
            rows = {row.id: form.get(f"{name}.{row.id}") for row in question.rows}
            values[question.id] = {
                row: value for row, value in rows.items() if isinstance(value, str) and value
            }
        elif question.type in ("single", "open"):
            value = form.get(name)
            values[question.id] = value if isinstance(value, str) else None
    return values


# --- the pages ----------------------------------------------------------------------------------------


def _form(
    request: Request,
    look: Look,
    link: Link,
    token: str,
    values: dict[str, Any],
    errors: dict[str, str],
    status: int = 200,
) -> HTMLResponse:
    questions = questions_of(link.poll)
    shown = {question.id for question in answering.visible_questions(questions, values)}
    language = request.query_params.get("lang")
    action = f"/q/{token}" + (f"?lang={language}" if language in i18n.LANGUAGES else "")
    with i18n.language(look.language):
        summary = str(FIX_ERRORS) if errors else None
    context = {
        "poll": link.poll,
        "questions": questions,
        "shown": shown,
        "conditions": {q.id: [c.model_dump() for c in q.conditions] for q in questions},
        "values": values,
        "errors": errors,
        "summary": summary,
        "action": action,
        "preview": link.preview,
        "max_open": MAX_OPEN_ANSWER,
        "has_required": any(question.required for question in questions),
    }
    return render_public(look, "poll.html", context, status)


def _thanks(look: Look, link: Link) -> HTMLResponse:
    with i18n.language(look.language):
        text = link.poll.thank_you or str(THANK_YOU_TEXT)
        context = {"title": str(THANK_YOU), "text": text, "kind": "done", "preview": link.preview}
    return render_public(look, "poll_notice.html", context)


def _notice(look: Look, kind: str, status: int) -> HTMLResponse:
    title, text = (ALREADY, ALREADY_TEXT) if kind == "already" else (CLOSED, CLOSED_TEXT)
    with i18n.language(look.language):
        context = {"title": str(title), "text": str(text), "kind": kind}
    return render_public(look, "poll_notice.html", context, status)
