"""Settings → Classifiers (versions of the product catalogue)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from smartcomm.datasettings.classifiers import ClassifierCreate, ClassifierUpdate, classifier_service
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


@router.get("/classifiers", response_class=HTMLResponse)
def list_classifiers(request: Request, session: DbSession, _: Viewer) -> Response:
    """Catalogue classifiers with their number of products."""
    return render(request, "settings/classifiers/list.html", {"rows": classifier_service.overview(session)})


def _classifier_form(
    request: Request,
    session: Session,
    classifier_id: int | None,
    values: dict[str, Any],
    errors: FormErrors,
    status: int = 200,
) -> HTMLResponse:
    classifier = classifier_service.get(session, classifier_id) if classifier_id else None
    context = {
        "edited": classifier,
        "values": values,
        "errors": errors,
        "history": recent_history(session, "classifier", classifier.id) if classifier else [],
    }
    return render(request, "settings/classifiers/form.html", context, status_code=status)


@router.get("/classifiers/new", response_class=HTMLResponse)
def new_classifier(request: Request, session: DbSession, _: Viewer) -> Response:
    return _classifier_form(request, session, None, {"for_tracker": False}, {})


@router.post("/classifiers")
def create_classifier(request: Request, session: DbSession, principal: Editor, form: PostedForm) -> Response:
    _, errors, status = apply_form(
        session,
        ClassifierCreate,
        form,
        lambda data: classifier_service.create(session, principal.actor, data),
    )
    if errors:
        return _classifier_form(request, session, None, form, errors, status)
    flash(request, "The classifier was created.")
    return redirect(request, "/settings/classifiers")


@router.get("/classifiers/{classifier_id}", response_class=HTMLResponse)
def edit_classifier(request: Request, session: DbSession, _: Viewer, classifier_id: int) -> Response:
    classifier = classifier_service.get(session, classifier_id)
    values = {"code": classifier.code, "name": classifier.name, "for_tracker": classifier.for_tracker}
    return _classifier_form(request, session, classifier.id, values, {})


@router.post("/classifiers/{classifier_id}")
def update_classifier(
    request: Request, session: DbSession, principal: Editor, classifier_id: int, form: PostedForm
) -> Response:
    classifier_service.get(session, classifier_id)
    _, errors, status = apply_form(
        session,
        ClassifierUpdate,
        form,
        lambda data: classifier_service.update(session, principal.actor, classifier_id, data),
    )
    if errors:
        return _classifier_form(request, session, classifier_id, form, errors, status)
    flash(request, "The classifier was saved.")
    return redirect(request, "/settings/classifiers")


@router.post("/classifiers/{classifier_id}/delete")
def delete_classifier(
    request: Request, session: DbSession, principal: Editor, classifier_id: int
) -> Response:
    try:
        classifier_service.delete(session, principal.actor, classifier_id)
    except DomainError as error:
        return refuse(request, session, error, f"/settings/classifiers/{classifier_id}")
    flash(request, "The classifier was deleted.")
    return redirect(request, "/settings/classifiers")
