"""Settings → Containers (cart, favourites, wishlist, …)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from smartcomm.datasettings.containers import ContainerCreate, ContainerUpdate, container_service
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


@router.get("/containers", response_class=HTMLResponse)
def list_containers(request: Request, session: DbSession, _: Viewer) -> Response:
    """Containers with the number of customers holding items in each."""
    return render(request, "settings/containers/list.html", {"rows": container_service.overview(session)})


def _container_form(
    request: Request,
    session: Session,
    container_id: int | None,
    values: dict[str, Any],
    errors: FormErrors,
    status: int = 200,
) -> HTMLResponse:
    container = container_service.get(session, container_id) if container_id else None
    context = {
        "edited": container,
        "values": values,
        "errors": errors,
        "holders": container_service.holder_count(session, container.id) if container else 0,
        "history": recent_history(session, "container", container.id) if container else [],
    }
    return render(request, "settings/containers/form.html", context, status_code=status)


@router.get("/containers/new", response_class=HTMLResponse)
def new_container(request: Request, session: DbSession, _: Viewer) -> Response:
    return _container_form(request, session, None, {}, {})


@router.post("/containers")
def create_container(request: Request, session: DbSession, principal: Editor, form: PostedForm) -> Response:
    _, errors, status = apply_form(
        session, ContainerCreate, form, lambda data: container_service.create(session, principal.actor, data)
    )
    if errors:
        return _container_form(request, session, None, form, errors, status)
    flash(request, "The container was created.")
    return redirect(request, "/settings/containers")


@router.get("/containers/{container_id}", response_class=HTMLResponse)
def edit_container(request: Request, session: DbSession, _: Viewer, container_id: int) -> Response:
    container = container_service.get(session, container_id)
    values = {"code": container.code, "name": container.name, "description": container.description}
    return _container_form(request, session, container.id, values, {})


@router.post("/containers/{container_id}")
def update_container(
    request: Request, session: DbSession, principal: Editor, container_id: int, form: PostedForm
) -> Response:
    container_service.get(session, container_id)
    _, errors, status = apply_form(
        session,
        ContainerUpdate,
        form,
        lambda data: container_service.update(session, principal.actor, container_id, data),
    )
    if errors:
        return _container_form(request, session, container_id, form, errors, status)
    flash(request, "The container was saved.")
    return redirect(request, "/settings/containers")


@router.post("/containers/{container_id}/delete")
def delete_container(request: Request, session: DbSession, principal: Editor, container_id: int) -> Response:
    try:
        container_service.delete(session, principal.actor, container_id)
    except DomainError as error:
        return refuse(request, session, error, f"/settings/containers/{container_id}")
    flash(request, "The container was deleted.")
    return redirect(request, "/settings/containers")
