"""Settings → Event sources: sites and apps, their write keys and how to send with them."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from smartcomm.config import config
from smartcomm.datasettings.event_sources import EventSourceCreate, EventSourceUpdate, event_source_service
from smartcomm.kit.errors import DomainError
from smartcomm.kit.http import DbSession
from smartcomm.web.forms import FormErrors, PostedForm
from smartcomm.web.routes.data_settings.common import (
    Editor,
    Viewer,
    apply_form,
    recent_history,
    refuse,
)
from smartcomm.web.templating import flash, redirect, render

router = APIRouter(prefix="/settings")


@router.get("/event-sources", response_class=HTMLResponse)
def list_event_sources(request: Request, session: DbSession, _: Viewer) -> Response:
    """Sites and apps sending behaviour, with their status."""
    return render(
        request, "settings/event_sources/list.html", {"sources": event_source_service.overview(session)}
    )


def _source_page(
    request: Request,
    session: Session,
    source_id: int | None,
    values: dict[str, Any],
    errors: FormErrors,
    status: int = 200,
) -> HTMLResponse:
    source = event_source_service.get(session, source_id) if source_id else None
    context = {
        "edited": source,
        "values": values,
        "errors": errors,
        "base_url": config.public_base_url.rstrip("/"),
        "history": recent_history(session, "event_source", source.id) if source else [],
    }
    return render(request, "settings/event_sources/form.html", context, status_code=status)


@router.get("/event-sources/new", response_class=HTMLResponse)
def new_event_source(request: Request, session: DbSession, _: Viewer) -> Response:
    return _source_page(request, session, None, {}, {})


@router.post("/event-sources")
def create_event_source(
    request: Request, session: DbSession, principal: Editor, form: PostedForm
) -> Response:
    source, errors, status = apply_form(
        session,
        EventSourceCreate,
        form,
        lambda data: event_source_service.create(session, principal.actor, data),
    )
    if errors:
        return _source_page(request, session, None, form, errors, status)
    flash(request, "The event source was created. Its write key is ready to use.")
    return redirect(request, f"/settings/event-sources/{source.id}")


@router.get("/event-sources/{source_id}", response_class=HTMLResponse)
def show_event_source(request: Request, session: DbSession, _: Viewer, source_id: int) -> Response:
    """An event source: its settings, write key and how to send events with it."""
    source = event_source_service.get(session, source_id)
    values = {"code": source.code, "name": source.name, "domain": source.domain}
    return _source_page(request, session, source.id, values, {})


@router.post("/event-sources/{source_id}")
def update_event_source(
    request: Request, session: DbSession, principal: Editor, source_id: int, form: PostedForm
) -> Response:
    event_source_service.get(session, source_id)
    _, errors, status = apply_form(
        session,
        EventSourceUpdate,
        form,
        lambda data: event_source_service.update(session, principal.actor, source_id, data),
    )
    if errors:
        return _source_page(request, session, source_id, form, errors, status)
    flash(request, "The event source was saved.")
    return redirect(request, f"/settings/event-sources/{source_id}")


@router.post("/event-sources/{source_id}/active")
def set_event_source_active(
    request: Request, session: DbSession, principal: Editor, source_id: int, form: PostedForm
) -> Response:
    active = form.get("active") == "true"
    event_source_service.set_active(session, principal.actor, source_id, active)
    # Two calls, not one conditional argument: message extraction reads literal arguments only.
    if active:
        flash(request, "The event source was activated.")
    else:
        flash(request, "The event source was deactivated.")
    return redirect(request, f"/settings/event-sources/{source_id}")


@router.post("/event-sources/{source_id}/write-key")
def regenerate_write_key(request: Request, session: DbSession, principal: Editor, source_id: int) -> Response:
    event_source_service.regenerate_key(session, principal.actor, source_id)
    flash(request, "A new write key was issued. Senders using the old key must be updated.")
    return redirect(request, f"/settings/event-sources/{source_id}")


@router.post("/event-sources/{source_id}/delete")
def delete_event_source(request: Request, session: DbSession, principal: Editor, source_id: int) -> Response:
    try:
        event_source_service.delete(session, principal.actor, source_id)
    except DomainError as error:
        return refuse(request, session, error, f"/settings/event-sources/{source_id}")
    flash(request, "The event source was deleted.")
    return redirect(request, "/settings/event-sources")
