"""Settings → Global control group: how the group is formed, drawing or uploading it now, its draws, and
the group against the rest of the base over a period.

Marketers run it (`control_groups.view` / `control_groups.edit`), not only administrators: the page stays
under Settings, which shows to a user who may open any of its entries."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from starlette.datastructures import UploadFile

from smartcomm.analytics.global_control import GlobalControlReport, default_period, report
from smartcomm.auth.permissions import Permission
from smartcomm.auth.principal import Principal
from smartcomm.control_groups.schemas import GlobalControlSettings
from smartcomm.control_groups.service import global_control_service
from smartcomm.kit.errors import DomainError
from smartcomm.kit.http import DbSession
from smartcomm.kit.i18n import lazy
from smartcomm.kit.time import to_zone, utcnow
from smartcomm.web.deps import requires
from smartcomm.web.forms import FormErrors, PostedForm, rejected
from smartcomm.web.templating import flash, redirect, render

router = APIRouter(prefix="/settings/global-control")
Viewer = Annotated[Principal, Depends(requires(Permission.CONTROL_GROUPS_VIEW))]
Editor = Annotated[Principal, Depends(requires(Permission.CONTROL_GROUPS_EDIT))]
URL = "/settings/global-control"
SETTINGS_FIELDS = ("enabled", "source", "percent", "cap", "months", "strata")

STRATA: dict[str, Any] = {
    "gender": lazy("Gender"),
    "age_band": lazy("Age band"),
    "registration_year": lazy("Registration year"),
    "city": lazy("City"),
    "region": lazy("Region"),
    "card_status": lazy("Card status"),
    "buyer": lazy("Buyer or not"),
}
# What each field says when its value is refused (pydantic's own messages are not for marketers).
FIELD_MESSAGES: dict[str, Any] = {
    "percent": lazy("Enter a share from 0.1 to 50 %."),
    "cap": lazy("Enter a whole number of customers, at least 1, or leave it empty."),
    "months": lazy("Enter a whole number of months from 1 to 36."),
    "strata": lazy("Choose among the offered fields."),
    "source": lazy("Choose one of the offered values."),
    "enabled": lazy("Choose yes or no."),
}


@router.get("", response_class=HTMLResponse)
def global_control_page(
    request: Request,
    session: DbSession,
    _: Viewer,
    date_from: Annotated[str | None, Query(alias="from")] = None,
    date_to: Annotated[str | None, Query(alias="to")] = None,
) -> Response:
    """The global control group: its settings, the group now, its draws and its report."""
    return _page(request, session, {}, _period(request, _day(date_from), _day(date_to)))


@router.post("")
def save_global_control(
    request: Request, session: DbSession, principal: Editor, form: PostedForm
) -> Response:
    values = {name: form.get(name) for name in SETTINGS_FIELDS if name != "strata"}
    values["strata"] = form.get("strata") or []
    errors = _refused(global_control_service.settings(session), values)
    if errors:
        return _page(request, session, errors, _period(request), shown=values, status=422)
    try:
        global_control_service.update(session, principal.actor, values)
    except DomainError as error:
        return _page(request, session, rejected(session, error), _period(request), values, error.status_code)
    flash(request, "Global control group settings saved.")
    return redirect(request, URL)


@router.post("/draw")
def draw_now(request: Request, session: DbSession, principal: Editor) -> Response:
    try:
        global_control_service.draw(session, principal.actor)
    except DomainError as error:
        return _page(request, session, rejected(session, error), _period(request), status=error.status_code)
    flash(request, "The global control group was drawn.")
    return redirect(request, URL)


@router.post("/upload")
def upload_list(request: Request, session: DbSession, principal: Editor, form: PostedForm) -> Response:
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        errors = {"file": str(lazy("Choose a file to upload."))}
        return _page(request, session, errors, _period(request), status=422)
    try:
        global_control_service.upload(session, principal.actor, upload.filename, upload.file.read())
    except DomainError as error:
        return _page(request, session, rejected(session, error), _period(request), status=error.status_code)
    flash(request, "The global control group was uploaded.")
    return redirect(request, URL)


# --- the page ---------------------------------------------------------------------------------------------


def _page(
    request: Request,
    session: DbSession,
    errors: FormErrors,
    period: tuple[date, date],
    shown: dict[str, Any] | None = None,
    status: int = 200,
) -> HTMLResponse:
    state = global_control_service.status(session)
    found = report(session, *period, request.state.general.time_zone)
    context = {
        "state": state,
        "values": state.settings.model_dump() | (shown or {}),
        "errors": errors,
        "file_errors": [message for key, message in errors.items() if key.startswith("file")],
        "strata": STRATA,
        "draws": global_control_service.draws(session),
        "report": found,
        "chart": report_chart(found),
        "period": period,
    }
    return render(request, "settings/global_control.html", context, status_code=status)


def _period(request: Request, first: date | None = None, last: date | None = None) -> tuple[date, date]:
    """The report's days: those asked for, else the last 90 days in the project time zone."""
    if first is None or last is None:
        return default_period(to_zone(utcnow(), request.state.general.time_zone).date())
    return (first, last) if first <= last else (last, first)


def _day(value: str | None) -> date | None:
    """A day typed in the period form (a value that is no date is ignored: the default period is shown)."""
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _refused(current: GlobalControlSettings, values: dict[str, Any]) -> FormErrors:
    """Each refused field with a message saying what it takes (nothing is stored when any is refused)."""
    try:
        GlobalControlSettings.model_validate(current.model_dump() | values)
    except ValidationError as error:
        names = {str(item["loc"][0]) for item in error.errors() if item["loc"]}
        return {name: str(FIELD_MESSAGES.get(name, lazy("Enter a valid value."))) for name in names}
    return {}


def report_chart(found: GlobalControlReport) -> dict[str, Any]:
    """The bars of the report: conversion (%) and revenue per customer of the group and of the rest (the
    dashboard's block draws the same)."""
    rows = (found.group, found.rest)
    return {
        "labels": [str(lazy("Global control group")), str(lazy("Rest of the base"))],
        "conversion": [round((row.conversion or 0) * 100, 2) for row in rows],
        "revenue": [float(row.revenue_per_customer or 0) for row in rows],
        "conversion_label": str(lazy("Conversion, %")),
        "revenue_label": str(lazy("Revenue per customer")),
    }
