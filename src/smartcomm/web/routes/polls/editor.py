"""Polls → the editor: a new poll and a poll's questions (who edits polls), or the poll read-only (who only
reads them). The questions travel as JSON in a hidden field; what the server finds wrong comes back in the
editor, each problem next to the question, option or condition it is about, and nothing is saved."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from smartcomm.auth.permissions import Permission
from smartcomm.kit.errors import DomainError
from smartcomm.kit.http import DbSession
from smartcomm.kit.i18n import lazy
from smartcomm.models import Poll
from smartcomm.polls.schemas import MAX_OPEN_ANSWER, MAX_OPTIONS, MAX_QUESTIONS, MAX_ROWS
from smartcomm.polls.service import poll_service
from smartcomm.web.forms import FormErrors, PostedForm, rejected
from smartcomm.web.routes.polls import document
from smartcomm.web.routes.polls.common import Editor, Viewer, poll_macro
from smartcomm.web.templating import flash, redirect, render

router = APIRouter()
REFUSED = 422
TEXT_FIELDS = ("name", "description", "thank_you")
# What the editor starts a new poll with: one single-choice question with two options.
STARTER: list[dict[str, Any]] = [
    {
        "id": "q1",
        "type": "single",
        "title": "",
        "description": "",
        "required": True,
        "options": [{"id": "a1", "label": ""}, {"id": "a2", "label": ""}],
        "rows": [],
        "max_choices": None,
        "conditions": [],
    }
]


@router.get("/new", response_class=HTMLResponse)
def new_poll(request: Request, _: Editor) -> Response:
    """An empty poll in the editor."""
    return _editor(request, None, {"name": "", "description": "", "thank_you": ""}, STARTER, {})


@router.post("/new")
def create_poll(request: Request, session: DbSession, principal: Editor, form: PostedForm) -> Response:
    """Save a new poll; it gets its code (POLL-<number>) and opens in the editor."""
    fields, questions, data, errors = _posted(form)
    if data is None or errors:
        return _editor(request, None, fields, questions, errors, status=REFUSED)
    try:
        poll = poll_service.create(session, principal.actor, data)
    except DomainError as error:
        return _editor(request, None, fields, questions, rejected(session, error), status=REFUSED)
    flash(request, lazy("The poll was saved."))
    return redirect(request, f"/polls/{poll.id}/edit")


@router.get("/{poll_id:int}", response_class=HTMLResponse)
def poll_page(request: Request, session: DbSession, _: Viewer, poll_id: int) -> Response:
    poll_service.get(session, poll_id)
    return redirect(request, f"/polls/{poll_id}/edit")


@router.get("/{poll_id:int}/edit", response_class=HTMLResponse)
def edit_poll(request: Request, session: DbSession, principal: Viewer, poll_id: int) -> Response:
    """The poll in the editor; read-only for those who may not change polls."""
    poll = poll_service.get(session, poll_id)
    if not principal.can(Permission.POLLS_EDIT):
        return _view(request, poll)
    fields = {name: getattr(poll, name) or "" for name in TEXT_FIELDS}
    return _editor(request, poll, fields, document.editor_questions(poll.questions or []), {})


@router.post("/{poll_id:int}/edit")
def update_poll(
    request: Request, session: DbSession, principal: Editor, poll_id: int, form: PostedForm
) -> Response:
    """Save the poll's changes; rewording is always fine, removing what was already answered is not."""
    poll = poll_service.get(session, poll_id)
    stored = list(poll.questions or [])
    fields, questions, data, errors = _posted(form)
    if data is None or errors:
        return _editor(request, poll, fields, questions, errors, status=REFUSED)
    try:
        poll_service.update(session, principal.actor, poll_id, data)
    except DomainError as error:
        problems = document.kept_answers(error, stored, questions) or rejected(session, error)
        session.rollback()
        return _editor(request, _reread(session, poll_id), fields, questions, problems, status=REFUSED)
    flash(request, lazy("The poll was saved."))
    return redirect(request, f"/polls/{poll_id}/edit")


def _reread(session: Session, poll_id: int) -> Poll:
    # After the rollback the poll's loaded values are expired: read it again for the page's header.
    return poll_service.get(session, poll_id)


def _posted(form: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]], Any, FormErrors]:
    """The text fields, the questions for the editor, the service's input (None when refused) and the
    errors by field path."""
    fields = {name: form.get(name) if isinstance(form.get(name), str) else None for name in TEXT_FIELDS}
    raw, errors = document.read_questions(form.get("questions"))
    if raw is None:
        return fields, [], None, errors
    data, errors = document.validate(fields, raw)
    return fields, document.editor_questions(raw), data, errors


# --- rendering -------------------------------------------------------------------------------------------


def _editor(
    request: Request,
    poll: Poll | None,
    fields: dict[str, Any],
    questions: list[dict[str, Any]],
    errors: FormErrors,
    *,
    status: int = 200,
) -> HTMLResponse:
    question_errors = {k: v for k, v in errors.items() if k.startswith("questions")}
    context = {
        "poll": poll,
        "values": {name: fields.get(name) or "" for name in TEXT_FIELDS},
        "errors": errors,
        "stray": {k: v for k, v in errors.items() if k not in TEXT_FIELDS and k not in question_errors},
        "editor": {
            "questions": questions,
            "errors": question_errors,
            "limits": {"questions": MAX_QUESTIONS, "options": MAX_OPTIONS, "rows": MAX_ROWS},
        },
        "macro": poll_macro(poll.code) if poll else None,
        "max_open_answer": MAX_OPEN_ANSWER,
    }
    return render(request, "polls/edit.html", context, status_code=status)


def _view(request: Request, poll: Poll) -> HTMLResponse:
    questions = document.editor_questions(poll.questions or [])
    context = {
        "poll": poll,
        "questions": questions,
        "by_id": {question["id"]: question for question in questions},
        "macro": poll_macro(poll.code),
        "editor": {"questions": questions, "errors": {}, "limits": {}},
    }
    return render(request, "polls/view.html", context)
