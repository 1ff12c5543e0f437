"""Settings → Mailing categories."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from smartcomm.datasettings.mailing_categories import (
    MailingCategoryCreate,
    MailingCategoryUpdate,
    mailing_category_service,
)
from smartcomm.kit.errors import DomainError
from smartcomm.kit.http import DbSession
from smartcomm.kit.i18n import LazyString, lazy
from smartcomm.models.customers import CHANNELS
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


CHANNEL_NAMES: dict[str, LazyString] = {
    "email": lazy("E-mail"),
    "sms": lazy("SMS"),
    "viber": lazy("Viber"),
    "push": lazy("Push"),
}


@router.get("/mailing-categories", response_class=HTMLResponse)
def list_mailing_categories(request: Request, session: DbSession, _: Viewer) -> Response:
    """Mailing categories with the customers subscribed to each per channel."""
    context = {
        "rows": mailing_category_service.overview(session),
        "channels": CHANNELS,
        "channel_names": CHANNEL_NAMES,
    }
    return render(request, "settings/mailing_categories/list.html", context)


def _category_form(
    request: Request,
    session: Session,
    category_id: int | None,
    values: dict[str, Any],
    errors: FormErrors,
    status: int = 200,
) -> HTMLResponse:
    category = mailing_category_service.get(session, category_id) if category_id else None
    context = {
        "edited": category,
        "values": values,
        "errors": errors,
        "history": recent_history(session, "mailing_category", category.id) if category else [],
    }
    return render(request, "settings/mailing_categories/form.html", context, status_code=status)


@router.get("/mailing-categories/new", response_class=HTMLResponse)
def new_mailing_category(request: Request, session: DbSession, _: Viewer) -> Response:
    return _category_form(request, session, None, {}, {})


@router.post("/mailing-categories")
def create_mailing_category(
    request: Request, session: DbSession, principal: Editor, form: PostedForm
) -> Response:
    _, errors, status = apply_form(
        session,
        MailingCategoryCreate,
        form,
        lambda data: mailing_category_service.create(session, principal.actor, data),
    )
    if errors:
        return _category_form(request, session, None, form, errors, status)
    flash(request, "The mailing category was created.")
    return redirect(request, "/settings/mailing-categories")


@router.get("/mailing-categories/{category_id}", response_class=HTMLResponse)
def edit_mailing_category(request: Request, session: DbSession, _: Viewer, category_id: int) -> Response:
    category = mailing_category_service.get(session, category_id)
    values = {"code": category.code, "name": category.name, "description": category.description}
    return _category_form(request, session, category.id, values, {})


@router.post("/mailing-categories/{category_id}")
def update_mailing_category(
    request: Request, session: DbSession, principal: Editor, category_id: int, form: PostedForm
) -> Response:
    mailing_category_service.get(session, category_id)
    _, errors, status = apply_form(
        session,
        MailingCategoryUpdate,
        form,
        lambda data: mailing_category_service.update(session, principal.actor, category_id, data),
    )
    if errors:
        return _category_form(request, session, category_id, form, errors, status)
    flash(request, "The mailing category was saved.")
    return redirect(request, "/settings/mailing-categories")


@router.post("/mailing-categories/{category_id}/delete")
def delete_mailing_category(
    request: Request, session: DbSession, principal: Editor, category_id: int
) -> Response:
    try:
        mailing_category_service.delete(session, principal.actor, category_id)
    except DomainError as error:
        return refuse(request, session, error, f"/settings/mailing-categories/{category_id}")
    flash(request, "The mailing category was deleted.")
    return redirect(request, "/settings/mailing-categories")
