"""Customers → Target audiences: the lists, their members, segment actions and CSV imports."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile

from smartcomm.audiences.importer import audience_import_service
from smartcomm.audiences.schemas import ID_TYPE_LABELS, AudienceIn, AudienceUpdate, ImportRequest
from smartcomm.audiences.service import OBJECT_TYPE, audience_service
from smartcomm.audit.service import audit_service
from smartcomm.auth.permissions import Permission
from smartcomm.auth.principal import Principal
from smartcomm.kit.errors import DomainError
from smartcomm.kit.http import DbSession
from smartcomm.kit.i18n import lazy, ngettext
from smartcomm.kit.pagination import PageParams
from smartcomm.models import Audience
from smartcomm.web.deps import requires
from smartcomm.web.forms import FormErrors, PostedForm, rejected, validate_form
from smartcomm.web.templating import flash, redirect, render

router = APIRouter(prefix="/audiences")
Viewer = Annotated[Principal, Depends(requires(Permission.AUDIENCES_VIEW))]
Editor = Annotated[Principal, Depends(requires(Permission.AUDIENCES_EDIT))]
PAGE_SIZE = 25
CHOOSE_FILE = lazy("Choose a CSV file.")
# A refused dialog form answers 422 whatever the reason, so that htmx shows it again with the error.
REFUSED = 422


@router.get("", response_class=HTMLResponse)
def list_audiences(request: Request, session: DbSession, _: Viewer, q: str = "", page: int = 1) -> Response:
    """Audiences with their member counts; the search box filters by name."""
    found = audience_service.search(session, PageParams(page=max(page, 1), size=PAGE_SIZE), q.strip())
    context = {"page": found, "q": q.strip()}
    return render(request, "audiences/list.html", context, fragment="audiences/_table.html")


@router.get("/new", response_class=HTMLResponse)
def new_audience(request: Request, _: Editor) -> Response:
    return _audience_form(request, None, {}, {})


@router.post("")
def create_audience(request: Request, session: DbSession, principal: Editor, form: PostedForm) -> Response:
    data, errors = validate_form(AudienceIn, form)
    if data is None:
        return _audience_form(request, None, form, errors, status=422)
    try:
        audience = audience_service.create(session, principal.actor, data)
    except DomainError as error:
        return _audience_form(request, None, form, rejected(session, error), status=REFUSED)
    flash(request, "The audience was created.")
    return redirect(request, f"/audiences/{audience.id}")


# --- imports (declared before /{audience_id} so that "import" is never taken for an id) ---------------


@router.get("/import", response_class=HTMLResponse)
def import_form(request: Request, session: DbSession, _: Editor, audience: int | None = None) -> Response:
    """The form of a CSV import: mode, audience, id type and file."""
    values = {"mode": "single", "id_type": "external_id", "audience_id": audience, "target": "existing"}
    return _import_form(request, session, values, {})


@router.post("/import")
def start_import(request: Request, session: DbSession, principal: Editor, form: PostedForm) -> Response:
    upload = form.pop("file", None)
    if form.get("target") == "existing":
        form["new_name"] = None
    data, errors = validate_form(ImportRequest, form)
    if not isinstance(upload, UploadFile) or not upload.filename:
        errors["file"] = str(CHOOSE_FILE)
    if data is None or errors:
        return _import_form(request, session, form, errors, status=422)
    try:
        job = audience_import_service.start(
            session, principal.actor, data, upload.filename or "", upload.file
        )
    except DomainError as error:
        return _import_form(request, session, form, rejected(session, error), status=error.status_code)
    return redirect(request, f"/audiences/imports/{job.id}")


@router.get("/imports/{import_id}", response_class=HTMLResponse)
def import_page(request: Request, session: DbSession, _: Viewer, import_id: int) -> Response:
    """An import while it runs (the page polls) and then its counts and unmatched rows."""
    job = audience_import_service.get(session, import_id)
    context = {
        "job": job,
        "id_types": ID_TYPE_LABELS,
        "audience": _audience_or_none(session, job.audience_id),
        "can_run_again": audience_import_service.can_run_again(session, job),
    }
    return render(request, "audiences/import.html", context, fragment="audiences/_import_status.html")


@router.post("/imports/{import_id}/run-again")
def run_import_again(request: Request, session: DbSession, principal: Editor, import_id: int) -> Response:
    """Run an interrupted import again, from its file, into the same audiences."""
    try:
        job = audience_import_service.run_again(session, principal.actor, import_id)
    except DomainError as error:
        rejected(session, error)
        flash(request, error.message, "danger")
        return redirect(request, f"/audiences/imports/{import_id}")
    flash(request, "The import runs again.")
    return redirect(request, f"/audiences/imports/{job.id}")


@router.get("/imports/{import_id}/unmatched.csv")
def unmatched_csv(session: DbSession, _: Viewer, import_id: int) -> Response:
    """The rows of an import that matched no customer, as a semicolon-separated CSV file."""
    job = audience_import_service.get(session, import_id)
    lines = audience_import_service.report_lines(job)
    headers = {"Content-Disposition": f'attachment; filename="unmatched-rows-{job.id}.csv"'}
    return StreamingResponse(_with_bom(lines), media_type="text/csv; charset=utf-8", headers=headers)


# --- one audience ---------------------------------------------------------------------------------------


@router.get("/{audience_id}", response_class=HTMLResponse)
def audience_page(
    request: Request, session: DbSession, principal: Viewer, audience_id: int, q: str = "", page: int = 1
) -> Response:
    """The members of an audience, searched by name, phone or e-mail, with the segment actions."""
    audience = audience_service.get(session, audience_id)
    members = audience_service.members(
        session,
        audience.id,
        PageParams(page=max(page, 1), size=PAGE_SIZE),
        q,
        request.state.general.sms_default_country,
    )
    context: dict[str, Any] = {"audience": audience, "members": members, "q": q.strip()}
    if request.headers.get("HX-Target") != "members-table":  # the members table alone needs none of it
        context |= _audience_extras(session, audience, principal)
    return render(request, "audiences/detail.html", context, fragment="audiences/_members.html")


@router.get("/{audience_id}/edit", response_class=HTMLResponse)
def edit_audience(request: Request, session: DbSession, _: Editor, audience_id: int) -> Response:
    audience = audience_service.get(session, audience_id)
    return _audience_form(request, audience, {"name": audience.name, "description": audience.description}, {})


@router.post("/{audience_id}/edit")
def update_audience(
    request: Request, session: DbSession, principal: Editor, audience_id: int, form: PostedForm
) -> Response:
    audience = audience_service.get(session, audience_id)
    form.setdefault("description", None)
    data, errors = validate_form(AudienceUpdate, form)
    if data is None:
        return _audience_form(request, audience, form, errors, status=422)
    try:
        audience_service.update(session, principal.actor, audience_id, data)
    except DomainError as error:
        return _audience_form(request, audience, form, rejected(session, error), status=REFUSED)
    flash(request, "The audience was saved.")
    return redirect(request, f"/audiences/{audience_id}")


@router.get("/{audience_id}/delete", response_class=HTMLResponse)
def confirm_delete(request: Request, session: DbSession, _: Editor, audience_id: int) -> Response:
    """Ask before deleting; an audience that segments rely on says which."""
    audience = audience_service.get(session, audience_id)
    return _delete_page(request, session, audience, None)


@router.post("/{audience_id}/delete")
def delete_audience(request: Request, session: DbSession, principal: Editor, audience_id: int) -> Response:
    audience = audience_service.get(session, audience_id)
    try:
        audience_service.delete(session, principal.actor, audience_id)
    except DomainError as error:
        message = rejected(session, error).get("audience") or error.message
        return _delete_page(request, session, audience, message, status=REFUSED)
    flash(request, "The audience was deleted.")
    return redirect(request, "/audiences")


@router.post("/{audience_id}/segment")
def segment_action(
    request: Request, session: DbSession, principal: Editor, audience_id: int, form: PostedForm
) -> Response:
    """Add a segment's current members to the audience, or remove them from it."""
    segment_id, action = str(form.get("segment_id") or ""), form.get("action")
    if not segment_id.isdigit():
        flash(request, "Choose a segment.", "danger")
        return redirect(request, f"/audiences/{audience_id}")
    try:
        if action == "remove":
            change = audience_service.remove_segment(session, principal.actor, audience_id, int(segment_id))
            flash(request, _removed_message(change.changed))
        else:
            change = audience_service.add_segment(session, principal.actor, audience_id, int(segment_id))
            flash(request, _added_message(change.changed))
    except DomainError as error:
        rejected(session, error)
        flash(request, error.message, "danger")
    return redirect(request, f"/audiences/{audience_id}")


@router.post("/{audience_id}/members/{customer_id}/remove")
def remove_member(
    request: Request, session: DbSession, principal: Editor, audience_id: int, customer_id: int
) -> Response:
    removed = audience_service.remove_customer(session, principal.actor, audience_id, customer_id)
    if removed:
        flash(request, "The customer was removed from the audience.")
    return redirect(request, f"/audiences/{audience_id}")


# --- helpers --------------------------------------------------------------------------------------------


def _added_message(count: int) -> str:
    # Translated here because of the count; a translated text passes the toast's translation unchanged.
    text = ngettext(
        "%(num)s customer was added to the audience.", "%(num)s customers were added to the audience.", count
    )
    return text % {"num": count}


def _removed_message(count: int) -> str:
    text = ngettext(
        "%(num)s customer was removed from the audience.",
        "%(num)s customers were removed from the audience.",
        count,
    )
    return text % {"num": count}


def _audience_or_none(session: Session, audience_id: int | None) -> Audience | None:
    if audience_id is None:
        return None
    try:
        return audience_service.get(session, audience_id)
    except DomainError:
        return None


def _audience_extras(session: Session, audience: Audience, principal: Principal) -> dict[str, Any]:
    """What the full page shows beside the members: segments to act with and the recent changes."""
    history = audit_service.search(
        session, PageParams(size=6), object_type=OBJECT_TYPE, object_id=str(audience.id)
    ).items
    segments = audience_service.segments(session) if principal.can(Permission.AUDIENCES_EDIT) else []
    return {
        "history": history,
        "segments": segments,
        "used_by": audience_service.segments_using(session, audience.id),
    }


def _audience_form(
    request: Request,
    audience: Audience | None,
    values: dict[str, Any],
    errors: FormErrors,
    *,
    status: int = 200,
) -> HTMLResponse:
    context = {"edited": audience, "values": values, "errors": errors}
    return render(
        request, "audiences/form.html", context, status_code=status, fragment="audiences/_form.html"
    )


def _delete_page(
    request: Request, session: Session, audience: Audience, error: str | None, *, status: int = 200
) -> HTMLResponse:
    context = {
        "audience": audience,
        "used_by": audience_service.segments_using(session, audience.id),
        "error": error,
    }
    return render(
        request, "audiences/delete.html", context, status_code=status, fragment="audiences/_delete.html"
    )


def _import_form(
    request: Request, session: Session, values: dict[str, Any], errors: FormErrors, *, status: int = 200
) -> HTMLResponse:
    audiences = audience_service.search(session, PageParams(size=500)).items
    context = {
        "values": values,
        "errors": errors,
        "audiences": [(a.id, a.name) for a in audiences],
        "id_types": [(value.value, str(label)) for value, label in ID_TYPE_LABELS.items()],
        "recent": audience_import_service.recent(session),
    }
    return render(request, "audiences/import_form.html", context, status_code=status)


def _with_bom(lines: Any) -> Any:
    # Spreadsheet programs read a UTF-8 CSV correctly only with a byte order mark.
    yield "\ufeff"
    yield from lines
