"""Settings → Fields: custom fields per object and their order in the profile and the segment builder."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from smartcomm.datasettings.fields import FieldCreate, FieldUpdate, field_settings
from smartcomm.kit.errors import DomainError
from smartcomm.kit.http import DbSession
from smartcomm.kit.i18n import LazyString, lazy
from smartcomm.models import FieldDefinition
from smartcomm.models.data_settings import FIELD_OBJECTS, FIELD_TYPES
from smartcomm.web.forms import FormErrors, PostedForm
from smartcomm.web.routes.data_settings.common import (
    Editor,
    Viewer,
    apply_form,
    posted_ids,
    recent_history,
    refuse,
)
from smartcomm.web.templating import flash, is_htmx, redirect, render

router = APIRouter(prefix="/settings")
ObjectParam = Annotated[str, Query(alias="object")]


OBJECT_NAMES: dict[str, LazyString] = {
    "customer": lazy("Customers"),
    "receipt": lazy("Receipts"),
    "receipt_line": lazy("Receipt lines"),
    "product": lazy("Products"),
    "category": lazy("Categories"),
}
TYPE_NAMES: dict[str, LazyString] = {
    "string": lazy("Text"),
    "integer": lazy("Whole number"),
    "decimal": lazy("Number"),
    "boolean": lazy("Yes / no"),
    "date": lazy("Date"),
    "datetime": lazy("Date and time"),
}
GROUP_NAMES: dict[str, LazyString] = {
    "identity": lazy("Identity"),
    "customer": lazy("Customer"),
    "contacts": lazy("Contacts"),
    "loyalty": lazy("Loyalty card"),
    "bonuses": lazy("Bonuses"),
    "scoring": lazy("Scoring"),
}


def _fields_context(session: Session, obj: str, order: str) -> dict[str, Any]:
    return {
        "fields": field_settings.ordered(session, obj, order),
        "object": obj,
        "order": order,
        "counts": field_settings.counts(session),
        "objects": OBJECT_NAMES,
        "type_names": TYPE_NAMES,
        "group_names": GROUP_NAMES,
    }


def _list_url(obj: str, order: str = "profile") -> str:
    return "/settings/fields?" + urlencode({"object": obj, "order": order})


@router.get("/fields", response_class=HTMLResponse)
def list_fields(
    request: Request, session: DbSession, _: Viewer, obj: ObjectParam = "customer", order: str = "profile"
) -> Response:
    """The fields of one object, in the profile or the segment-builder order."""
    context = _fields_context(session, obj, order)
    return render(request, "settings/fields/list.html", context, fragment="settings/fields/_table.html")


@router.post("/fields/reorder")
def reorder_fields(request: Request, session: DbSession, principal: Editor, form: PostedForm) -> Response:
    obj, order = str(form.get("object") or ""), str(form.get("order") or "")
    try:
        field_settings.reorder(session, principal.actor, obj, order, posted_ids(form))
    except DomainError as error:
        return refuse(request, session, error, _list_url(obj, order))
    flash(request, "The order was saved.")
    if not is_htmx(request):
        return redirect(request, _list_url(obj, order))
    context = _fields_context(session, obj, order)
    return render(request, "settings/fields/list.html", context, fragment="settings/fields/_table.html")


def _field_form(
    request: Request,
    session: Session,
    field: FieldDefinition | None,
    values: dict[str, Any],
    errors: FormErrors,
    status: int = 200,
) -> HTMLResponse:
    obj = field.object if field else str(values.get("object") or "customer")
    context = {
        "edited": field,
        "values": values,
        "errors": errors,
        "objects": OBJECT_NAMES,
        "object": obj,
        "types": [(t, TYPE_NAMES[t]) for t in FIELD_TYPES],
        "groups": field_settings.groups(session, obj) if obj in FIELD_OBJECTS else [],
        "group_names": GROUP_NAMES,
        "history": recent_history(session, "field", field.id) if field else [],
    }
    return render(request, "settings/fields/form.html", context, status_code=status)


@router.get("/fields/new", response_class=HTMLResponse)
def new_field(request: Request, session: DbSession, _: Viewer, obj: ObjectParam = "customer") -> Response:
    values = {"object": obj, "type": "string", "show_in_profile": True}
    return _field_form(request, session, None, values, {})


@router.post("/fields")
def create_field(request: Request, session: DbSession, principal: Editor, form: PostedForm) -> Response:
    field, errors, status = apply_form(
        session, FieldCreate, form, lambda data: field_settings.create(session, principal.actor, data)
    )
    if errors:
        return _field_form(request, session, None, form, errors, status)
    flash(request, "The field was created.")
    return redirect(request, _list_url(field.object))


@router.get("/fields/{field_id}", response_class=HTMLResponse)
def edit_field(request: Request, session: DbSession, _: Viewer, field_id: int) -> Response:
    field = field_settings.get(session, field_id)
    values = {
        "name": field.name,
        "group": field.group,
        "type": field.type,
        "show_in_profile": field.show_in_profile,
    }
    return _field_form(request, session, field, values, {})


@router.post("/fields/{field_id}")
def update_field(
    request: Request, session: DbSession, principal: Editor, field_id: int, form: PostedForm
) -> Response:
    field = field_settings.get(session, field_id)
    _, errors, status = apply_form(
        session,
        FieldUpdate,
        form,
        lambda data: field_settings.update(session, principal.actor, field_id, data),
    )
    if errors:
        return _field_form(request, session, field_settings.get(session, field_id), form, errors, status)
    flash(request, "The field was saved.")
    return redirect(request, _list_url(field.object))


@router.post("/fields/{field_id}/delete")
def delete_field(request: Request, session: DbSession, principal: Editor, field_id: int) -> Response:
    field = field_settings.get(session, field_id)
    obj = field.object
    try:
        field_settings.delete(session, principal.actor, field_id)
    except DomainError as error:
        return refuse(request, session, error, f"/settings/fields/{field_id}")
    flash(request, "The field was deleted.")
    return redirect(request, _list_url(obj))
