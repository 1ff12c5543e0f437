"""Settings → Dictionaries: key–value lists and their items."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from smartcomm.datasettings.dictionaries import (
    DictionaryCreate,
    DictionaryUpdate,
    ItemCreate,
    ItemUpdate,
    dictionary_service,
)
from smartcomm.kit.errors import DomainError
from smartcomm.kit.http import DbSession
from smartcomm.kit.i18n import lazy
from smartcomm.models import Dictionary
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


@router.get("/dictionaries", response_class=HTMLResponse)
def list_dictionaries(request: Request, session: DbSession, _: Viewer) -> Response:
    """Dictionaries with their number of items."""
    rows = dictionary_service.overview(session)
    return render(request, "settings/dictionaries/list.html", {"rows": rows})


@router.get("/dictionaries/new", response_class=HTMLResponse)
def new_dictionary(request: Request, _: Viewer) -> Response:
    return render(request, "settings/dictionaries/new.html", {"values": {}, "errors": {}})


@router.post("/dictionaries")
def create_dictionary(request: Request, session: DbSession, principal: Editor, form: PostedForm) -> Response:
    dictionary, errors, status = apply_form(
        session,
        DictionaryCreate,
        form,
        lambda data: dictionary_service.create(session, principal.actor, data),
    )
    if errors:
        context = {"values": form, "errors": errors}
        return render(request, "settings/dictionaries/new.html", context, status_code=status)
    flash(request, "The dictionary was created.")
    return redirect(request, f"/settings/dictionaries/{dictionary.id}")


def _dictionary_page(
    request: Request,
    session: Session,
    dictionary: Dictionary,
    *,
    values: dict[str, Any] | None = None,
    errors: FormErrors | None = None,
    item_values: dict[str, Any] | None = None,
    item_errors: FormErrors | None = None,
    status: int = 200,
) -> HTMLResponse:
    context = {
        "dictionary": dictionary,
        "items": dictionary_service.items(session, dictionary.id),
        "values": values or {"name": dictionary.name},
        "errors": errors or {},
        "item_values": item_values or {},
        "item_errors": item_errors or {},
        "history": recent_history(session, "dictionary", dictionary.id),
    }
    return render(
        request,
        "settings/dictionaries/detail.html",
        context,
        status_code=status,
        fragment="settings/dictionaries/_items.html",
    )


@router.get("/dictionaries/{dictionary_id}", response_class=HTMLResponse)
def show_dictionary(request: Request, session: DbSession, _: Viewer, dictionary_id: int) -> Response:
    """A dictionary with its items in their order."""
    return _dictionary_page(request, session, dictionary_service.get(session, dictionary_id))


@router.post("/dictionaries/{dictionary_id}")
def rename_dictionary(
    request: Request, session: DbSession, principal: Editor, dictionary_id: int, form: PostedForm
) -> Response:
    dictionary_service.get(session, dictionary_id)
    _, errors, status = apply_form(
        session,
        DictionaryUpdate,
        form,
        lambda data: dictionary_service.rename(session, principal.actor, dictionary_id, data),
    )
    if errors:
        dictionary = dictionary_service.get(session, dictionary_id)
        return _dictionary_page(request, session, dictionary, values=form, errors=errors, status=status)
    flash(request, "The dictionary was saved.")
    return redirect(request, f"/settings/dictionaries/{dictionary_id}")


@router.post("/dictionaries/{dictionary_id}/delete")
def delete_dictionary(
    request: Request, session: DbSession, principal: Editor, dictionary_id: int
) -> Response:
    try:
        dictionary_service.delete(session, principal.actor, dictionary_id)
    except DomainError as error:
        return refuse(request, session, error, f"/settings/dictionaries/{dictionary_id}")
    flash(request, "The dictionary was deleted.")
    return redirect(request, "/settings/dictionaries")


def _items_changed(
    request: Request,
    session: Session,
    dictionary_id: int,
    errors: FormErrors,
    message: str,
    item_values: dict[str, Any] | None = None,
) -> Response:
    """After an item change: the items fragment for htmx (errors inline), else back to the page."""
    if not errors:
        flash(request, message)
    elif not is_htmx(request):
        flash(request, next(iter(errors.values())), "danger")
    if not is_htmx(request):
        return redirect(request, f"/settings/dictionaries/{dictionary_id}")
    dictionary = dictionary_service.get(session, dictionary_id)
    values = item_values if errors else {}
    # htmx swaps a refused form only on 422 (see app.js), whatever the domain error's own status.
    return _dictionary_page(
        request, session, dictionary, item_values=values, item_errors=errors, status=422 if errors else 200
    )


@router.post("/dictionaries/{dictionary_id}/items")
def add_item(
    request: Request, session: DbSession, principal: Editor, dictionary_id: int, form: PostedForm
) -> Response:
    dictionary_service.get(session, dictionary_id)
    _, errors, _status = apply_form(
        session,
        ItemCreate,
        form,
        lambda data: dictionary_service.add_item(session, principal.actor, dictionary_id, data),
    )
    return _items_changed(request, session, dictionary_id, errors, lazy("The item was added."), form)


@router.post("/dictionaries/{dictionary_id}/items/reorder")
def reorder_items(
    request: Request, session: DbSession, principal: Editor, dictionary_id: int, form: PostedForm
) -> Response:
    try:
        dictionary_service.reorder_items(session, principal.actor, dictionary_id, posted_ids(form))
    except DomainError as error:
        return refuse(request, session, error, f"/settings/dictionaries/{dictionary_id}")
    return _items_changed(request, session, dictionary_id, {}, lazy("The order was saved."))


@router.post("/dictionaries/{dictionary_id}/items/{item_id}")
def update_item(
    request: Request,
    session: DbSession,
    principal: Editor,
    dictionary_id: int,
    item_id: int,
    form: PostedForm,
) -> Response:
    dictionary_service.get(session, dictionary_id)
    _, errors, _status = apply_form(
        session,
        ItemUpdate,
        form,
        lambda data: dictionary_service.update_item(session, principal.actor, dictionary_id, item_id, data),
    )
    errors = {f"item-{item_id}": message for message in errors.values()}
    values = {"edit_value": form.get("value")}
    return _items_changed(request, session, dictionary_id, errors, lazy("The item was saved."), values)


@router.post("/dictionaries/{dictionary_id}/items/{item_id}/delete")
def delete_item(
    request: Request, session: DbSession, principal: Editor, dictionary_id: int, item_id: int
) -> Response:
    try:
        dictionary_service.delete_item(session, principal.actor, dictionary_id, item_id)
    except DomainError as error:
        return refuse(request, session, error, f"/settings/dictionaries/{dictionary_id}")
    return _items_changed(request, session, dictionary_id, {}, lazy("The item was deleted."))
