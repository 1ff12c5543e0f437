"""Settings → Watchers: groups of staff contacts that receive a copy of a communication."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from smartcomm.delivery.watchers import WatcherGroupIn, watcher_service
from smartcomm.kit.errors import DomainError
from smartcomm.kit.http import DbSession
from smartcomm.models import WatcherGroup
from smartcomm.web.forms import FormErrors, PostedForm
from smartcomm.web.routes.data_settings.common import Editor, Viewer, apply_form, recent_history, refuse
from smartcomm.web.templating import flash, redirect, render

router = APIRouter(prefix="/settings/watchers")


def _values(group: WatcherGroup) -> dict[str, Any]:
    return {
        "name": group.name,
        "emails": "\n".join(group.emails),
        "phones": "\n".join(group.phones),
        "push_ids": "\n".join(group.push_ids),
    }


def _form(
    request: Request,
    session: Session,
    group_id: int | None,
    values: dict[str, Any],
    errors: FormErrors,
    status: int = 200,
) -> HTMLResponse:
    group = watcher_service.get(session, group_id) if group_id else None
    context = {
        "edited": group,
        "values": values,
        "errors": errors,
        "history": recent_history(session, "watcher_group", group.id) if group else [],
    }
    return render(request, "settings/watchers/form.html", context, status_code=status)


@router.get("", response_class=HTMLResponse)
def list_watchers(request: Request, session: DbSession, _: Viewer) -> Response:
    """Watcher groups with their contacts."""
    return render(request, "settings/watchers/list.html", {"groups": watcher_service.groups(session)})


@router.get("/new", response_class=HTMLResponse)
def new_watcher_group(request: Request, session: DbSession, _: Viewer) -> Response:
    return _form(request, session, None, {}, {})


@router.post("")
def create_watcher_group(
    request: Request, session: DbSession, principal: Editor, form: PostedForm
) -> Response:
    _, errors, status = apply_form(
        session,
        WatcherGroupIn,
        _strings(form),
        lambda data: watcher_service.create(session, principal.actor, data),
    )
    if errors:
        return _form(request, session, None, form, errors, status)
    flash(request, "The watcher group was created.")
    return redirect(request, "/settings/watchers")


@router.get("/{group_id}", response_class=HTMLResponse)
def edit_watcher_group(request: Request, session: DbSession, _: Viewer, group_id: int) -> Response:
    group = watcher_service.get(session, group_id)
    return _form(request, session, group.id, _values(group), {})


@router.post("/{group_id}")
def update_watcher_group(
    request: Request, session: DbSession, principal: Editor, group_id: int, form: PostedForm
) -> Response:
    watcher_service.get(session, group_id)
    _, errors, status = apply_form(
        session,
        WatcherGroupIn,
        _strings(form),
        lambda data: watcher_service.update(session, principal.actor, group_id, data),
    )
    if errors:
        return _form(request, session, group_id, form, errors, status)
    flash(request, "The watcher group was saved.")
    return redirect(request, "/settings/watchers")


@router.post("/{group_id}/delete")
def delete_watcher_group(request: Request, session: DbSession, principal: Editor, group_id: int) -> Response:
    try:
        watcher_service.delete(session, principal.actor, group_id)
    except DomainError as error:
        return refuse(request, session, error, f"/settings/watchers/{group_id}")
    flash(request, "The watcher group was deleted.")
    return redirect(request, "/settings/watchers")


def _strings(form: dict[str, Any]) -> dict[str, str]:
    """The form's text fields (an empty field posts nothing, which is an empty list)."""
    return {name: form.get(name) or "" for name in ("name", "emails", "phones", "push_ids")}
