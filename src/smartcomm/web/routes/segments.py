"""Customers → Segments: the list with its figures, the builder, a segment's page and its actions."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from smartcomm.audiences.schemas import AudienceIn
from smartcomm.audiences.service import audience_service
from smartcomm.auth.permissions import Permission
from smartcomm.auth.principal import Principal
from smartcomm.datasettings.display import parameter_label, parameter_labels
from smartcomm.kit.db import session_scope
from smartcomm.kit.errors import DomainError, FieldError, InvalidInput
from smartcomm.kit.http import DbSession
from smartcomm.kit.i18n import ngettext
from smartcomm.kit.pagination import PageParams
from smartcomm.models import Segment
from smartcomm.segments import export
from smartcomm.segments.describe import DescribedGroup, describe
from smartcomm.segments.rules import SegmentRules, drop_unfinished, parse_json, parse_rules
from smartcomm.segments.schemas import SegmentIn, SegmentUpdate
from smartcomm.segments.service import segment_service
from smartcomm.settings.schemas import SegmentSettings
from smartcomm.settings.service import settings_service
from smartcomm.web.deps import requires
from smartcomm.web.forms import FormErrors, PostedForm, rejected, validate_form
from smartcomm.web.segment_builder import builder_config, problems_of, read_rules_text, readable_errors
from smartcomm.web.templating import flash, is_htmx, redirect, render

router = APIRouter(prefix="/segments")
Viewer = Annotated[Principal, Depends(requires(Permission.SEGMENTS_VIEW))]
Editor = Annotated[Principal, Depends(requires(Permission.SEGMENTS_EDIT))]
Exporter = Annotated[Principal, Depends(requires(Permission.CUSTOMERS_EXPORT))]
AudienceEditor = Annotated[Principal, Depends(requires(Permission.AUDIENCES_EDIT))]
SettingsEditor = Annotated[Principal, Depends(requires(Permission.SETTINGS_EDIT))]

PAGE_SIZE = 25
MEMBERS_PAGE_SIZE = 25
# A build slower than this gets a warning: the conditions deserve a look before the base grows.
SLOW_BUILD_MS = 60_000
REFUSED = 422


class SegmentForm(BaseModel):
    """The builder's fields; the rules arrive as the JSON the builder keeps in a hidden field."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=1000)


# --- the list ---------------------------------------------------------------------------------------------


@router.get("", response_class=HTMLResponse)
def list_segments(request: Request, session: DbSession, _: Viewer, q: str = "", page: int = 1) -> Response:
    """Segments with their five figures and last build; the search box filters by name."""
    found = segment_service.search(session, PageParams(page=max(page, 1), size=PAGE_SIZE), q.strip())
    context = {
        "page": found,
        "q": q.strip(),
        "stale": segment_service.stale_ids(session, found.items),
        "slow_ms": SLOW_BUILD_MS,
        "interval": settings_service.read(session, SegmentSettings).rebuild_interval_hours,
    }
    return render(request, "segments/list.html", context, fragment="segments/_table.html")


@router.post("/settings")
def save_settings(
    request: Request, session: DbSession, principal: SettingsEditor, form: PostedForm
) -> Response:
    """Store how often every segment is rebuilt."""
    try:
        settings_service.update(
            session,
            principal.actor,
            SegmentSettings,
            {"rebuild_interval_hours": form.get("rebuild_interval_hours")},
        )
    except DomainError as error:
        rejected(session, error)
        flash(request, "Enter a number of hours from 1 to 168.", "danger")
        return redirect(request, "/segments")
    flash(request, "The rebuild schedule was saved.")
    return redirect(request, "/segments")


# --- the builder ------------------------------------------------------------------------------------------


@router.get("/new", response_class=HTMLResponse)
def new_segment(request: Request, session: DbSession, _: Editor, rules: str = "") -> Response:
    """An empty builder, or one filled with the conditions of the customer-list filter."""
    return _builder_page(request, session, None, {"name": "", "description": ""}, read_rules_text(rules), {})


@router.post("")
def create_segment(request: Request, session: DbSession, principal: Editor, form: PostedForm) -> Response:
    """Save a new segment (every condition checked again) and build it; errors come back in the builder."""
    raw = read_rules_text(form.get("rules"))
    try:
        fields, rules = _validated(form)
        segment = segment_service.create(session, principal.actor, SegmentIn(**fields, rules=rules))
    except DomainError as error:
        errors = rejected(session, error)
        return _builder_page(request, session, None, form, raw, errors, status=error.status_code)
    flash(request, "The segment was saved. It is being built.")
    return redirect(request, f"/segments/{segment.id}")


@router.post("/preview", response_class=HTMLResponse)
def preview(request: Request, session: DbSession, _: Viewer, form: PostedForm) -> Response:
    """The live count of the builder: customers the conditions select now, or what is wrong with them."""
    builder = str(form.get("builder") or "builder")
    raw: Any = None
    try:
        raw, unfinished = drop_unfinished(parse_json(form.get("rules") or ""))
        result = segment_service.preview(session, parse_rules(raw))
    except InvalidInput as error:
        # Problems not about one condition (e.g. unreadable JSON) are shown as about the whole tree.
        errors = {(e.field if e.field.startswith("root") else "root"): e.message for e in error.errors}
        errors = readable_errors(session, raw, errors or {"root": error.message})
        problems = problems_of(errors)
        context: dict[str, Any] = {
            "preview": None,
            "errors": errors,
            "problems": problems,
            "builder": builder,
        }
        return render(request, "segments/_live.html", context, status_code=REFUSED)
    context = {"preview": result, "errors": {}, "builder": builder, "unfinished": unfinished}
    return render(request, "segments/_live.html", context)


@router.get("/lookup/{kind}")
def lookup(
    session: DbSession, _: Viewer, kind: str, q: str = "", poll: str = "", question: str = ""
) -> JSONResponse:
    """Options for a parameter picker (products, categories, stores, events …) whose name contains `q`;
    a poll's questions, rows and options are those of the `poll` (and `question`) chosen beside them."""
    options = segment_service.lookup(session, kind, q, {"poll": poll, "question": question})
    return JSONResponse(
        [option.model_dump() | {"label": parameter_label(kind, option.label)} for option in options]
    )


# --- one segment ------------------------------------------------------------------------------------------


@router.get("/{segment_id}", response_class=HTMLResponse)
def segment_page(
    request: Request, session: DbSession, principal: Viewer, segment_id: int, page: int = 1
) -> Response:
    """The figures, the rules in words, the last builds, the members and the actions of a segment."""
    segment = segment_service.get(session, segment_id)
    target = request.headers.get("HX-Target") if is_htmx(request) else None
    if target == "build-status" and segment.last_build_status != "running":
        # The build finished while the page waited: show everything it changed.
        return Response(status_code=200, headers={"HX-Refresh": "true"})
    members = segment_service.member_rows(
        session, segment.id, PageParams(page=max(page, 1), size=MEMBERS_PAGE_SIZE)
    )
    context: dict[str, Any] = {"segment": segment, "members": members}
    if target not in ("members-table", "build-status"):
        context |= _page_extras(session, segment, principal)
    fragment = "segments/_build_status.html" if target == "build-status" else "segments/_members.html"
    return render(request, "segments/detail.html", context, fragment=fragment)


@router.get("/{segment_id}/edit", response_class=HTMLResponse)
def edit_segment(request: Request, session: DbSession, _: Editor, segment_id: int) -> Response:
    """The builder filled with the segment's name, description and rules."""
    segment = segment_service.get(session, segment_id)
    values = {"name": segment.name, "description": segment.description or ""}
    return _builder_page(request, session, segment, values, segment.rules, {})


@router.post("/{segment_id}/edit")
def update_segment(
    request: Request, session: DbSession, principal: Editor, segment_id: int, form: PostedForm
) -> Response:
    """Save the changed segment; new rules rebuild it. Errors come back in the builder, nothing is stored."""
    segment = segment_service.get(session, segment_id)
    raw = read_rules_text(form.get("rules"))
    try:
        fields, rules = _validated(form)
        segment_service.update(session, principal.actor, segment_id, SegmentUpdate(**fields, rules=rules))
    except DomainError as error:
        errors = rejected(session, error)
        return _builder_page(request, session, segment, form, raw, errors, status=error.status_code)
    flash(request, "The segment was saved.")
    return redirect(request, f"/segments/{segment_id}")


@router.post("/{segment_id}/build")
def build_now(request: Request, session: DbSession, principal: Editor, segment_id: int) -> Response:
    """Queue a build now; the page shows it running and reloads when it is done."""
    segment_service.request_build(session, principal.actor, segment_id)
    flash(request, "The build has started.")
    return redirect(request, f"/segments/{segment_id}")


@router.get("/{segment_id}/export.csv")
def export_csv(request: Request, session: DbSession, principal: Exporter, segment_id: int) -> Response:
    """The current members as a CSV file (streamed in batches); the export is in the action history."""
    segment = segment_service.record_export(session, principal.actor, segment_id)
    headers = [str(label) for label in export.HEADERS]
    zone = request.state.general.time_zone
    disposition = {
        "Content-Disposition": f'attachment; filename="{export.file_name(segment.name, segment.id)}"'
    }
    return StreamingResponse(
        _export_stream(segment.id, headers, zone), media_type="text/csv; charset=utf-8", headers=disposition
    )


@router.post("/{segment_id}/audience")
def audience_action(
    request: Request, session: DbSession, principal: AudienceEditor, segment_id: int, form: PostedForm
) -> Response:
    """Add the segment's current members to a target audience (an existing or a new one), or remove them."""
    segment = segment_service.get(session, segment_id)
    try:
        audience_id = _chosen_audience(session, principal, form)
        if audience_id is None:
            flash(request, "Choose an audience or name a new one.", "danger")
            return redirect(request, f"/segments/{segment.id}")
        if form.get("action") == "remove":
            change = audience_service.remove_segment(session, principal.actor, audience_id, segment.id)
            flash(request, _removed_message(change.changed))
        else:
            change = audience_service.add_segment(session, principal.actor, audience_id, segment.id)
            flash(request, _added_message(change.changed))
    except DomainError as error:
        rejected(session, error)
        flash(request, error.message, "danger")
    return redirect(request, f"/segments/{segment.id}")


@router.get("/{segment_id}/delete", response_class=HTMLResponse)
def confirm_delete(request: Request, session: DbSession, _: Editor, segment_id: int) -> Response:
    """Ask before deleting; a segment other segments rely on says which."""
    return _delete_dialog(request, session, segment_service.get(session, segment_id), None)


@router.post("/{segment_id}/delete")
def delete_segment(request: Request, session: DbSession, principal: Editor, segment_id: int) -> Response:
    """Delete the segment, or say why not (another segment or the RFM settings use it)."""
    segment = segment_service.get(session, segment_id)
    try:
        segment_service.delete(session, principal.actor, segment_id)
    except DomainError as error:
        rejected(session, error)
        return _delete_dialog(request, session, segment, error.message, status=REFUSED)
    flash(request, "The segment was deleted.")
    return redirect(request, "/segments")


# --- helpers ----------------------------------------------------------------------------------------------


def _validated(form: dict[str, Any]) -> tuple[dict[str, Any], SegmentRules]:
    """The name, description and rule tree of the form; all their problems at once, by field and path."""
    values, form_errors = validate_form(SegmentForm, form)
    problems = [FieldError(name, message) for name, message in form_errors.items()]
    try:
        rules = parse_rules(form.get("rules") or "")
    except InvalidInput as error:
        problems.extend(error.errors)
    if values is None or problems:
        raise InvalidInput("The segment is not valid", problems)
    return {"name": values.name, "description": values.description}, rules


def _builder_page(
    request: Request,
    session: Session,
    segment: Segment | None,
    values: dict[str, Any],
    raw: Any,
    errors: FormErrors,
    *,
    status: int = 200,
) -> HTMLResponse:
    errors = readable_errors(session, raw, errors)
    context = {
        "edited": segment,
        "values": values,
        "errors": errors,
        "problems": problems_of(errors),
        "builder": builder_config(request, session, raw, errors),
    }
    return render(request, "segments/form.html", context, status_code=status)


def _page_extras(session: Session, segment: Segment, principal: Principal) -> dict[str, Any]:
    rules = SegmentRules.model_validate(segment.rules)
    audiences = (
        audience_service.search(session, PageParams(size=500)).items
        if principal.can(Permission.AUDIENCES_EDIT)
        else []
    )
    return {
        "described": _described(session, rules),
        "builds": segment_service.builds(session, segment.id, limit=10),
        "stale": segment_service.is_stale(session, segment),
        "slow_ms": SLOW_BUILD_MS,
        "used_by": segment_service.used_by(session, segment.id),
        "audiences": audiences,
        "interval": settings_service.read(session, SegmentSettings).rebuild_interval_hours,
    }


def _described(session: Session, rules: SegmentRules) -> DescribedGroup:
    """The rules in words, with the names of what they refer to in the interface language."""
    catalogue = segment_service.catalogue(session)
    names = segment_service.labels(session, [condition for _path, condition in rules.conditions()], catalogue)
    return describe(rules, {metric.key: metric for metric in catalogue}, parameter_labels(names))


def _chosen_audience(session: Session, principal: Principal, form: dict[str, Any]) -> int | None:
    new_name = str(form.get("new_audience") or "").strip()
    if new_name:
        data, errors = validate_form(AudienceIn, {"name": new_name})
        if data is None:
            raise InvalidInput("The audience name is too long.", [FieldError("new_audience", errors["name"])])
        return audience_service.create(session, principal.actor, data).id
    chosen = str(form.get("audience_id") or "")
    return int(chosen) if chosen.isdigit() else None


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


def _delete_dialog(
    request: Request, session: Session, segment: Segment, error: str | None, *, status: int = 200
) -> HTMLResponse:
    context = {"segment": segment, "used_by": segment_service.used_by(session, segment.id), "error": error}
    return render(
        request, "segments/delete.html", context, status_code=status, fragment="segments/_delete.html"
    )


def _export_stream(segment_id: int, headers: list[str], zone: str) -> Iterator[str]:
    # The response streams after the request's session has closed: read with a session of its own.
    with session_scope(read_only=True) as session:
        yield from export.csv_lines(segment_service.export_batches(session, segment_id), headers, zone)
