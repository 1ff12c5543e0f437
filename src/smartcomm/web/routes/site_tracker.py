"""The site tracker in the back office: the abandoned-cart settings (a card of Settings → Event sources)
and the customer profile's "Abandoned cart" and "Pop-ups" cards. Both are loaded into their pages by
htmx, so the pages they sit on stay as they are."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, ConfigDict

from smartcomm.auth.permissions import Permission
from smartcomm.auth.principal import Principal
from smartcomm.containers.abandoned import abandoned_cart
from smartcomm.customers.service import customer_service
from smartcomm.kit.errors import DomainError
from smartcomm.kit.http import DbSession
from smartcomm.popups.service import popup_service
from smartcomm.settings.schemas import TrackingSettings
from smartcomm.settings.service import settings_service
from smartcomm.web.deps import requires
from smartcomm.web.forms import FormErrors, PostedForm, rejected, validate_form
from smartcomm.web.templating import flash, is_htmx, redirect, render

router = APIRouter()
SettingsViewer = Annotated[Principal, Depends(requires(Permission.SETTINGS_VIEW))]
SettingsEditor = Annotated[Principal, Depends(requires(Permission.SETTINGS_EDIT))]
CustomerViewer = Annotated[Principal, Depends(requires(Permission.CUSTOMERS_VIEW))]
SETTINGS_PAGE = "/settings/event-sources"


class CartSettingsForm(BaseModel):
    model_config = ConfigDict(extra="ignore")

    abandoned_cart_minutes: int
    abandoned_cart_keep_days: int


@router.get("/settings/abandoned-carts", response_class=HTMLResponse)
def cart_settings(request: Request, session: DbSession, _: SettingsViewer) -> Response:
    """The abandoned-cart settings card (the Event sources page loads it)."""
    if not is_htmx(request):
        return redirect(request, SETTINGS_PAGE)
    values = settings_service.read(session, TrackingSettings).model_dump()
    return _settings_card(request, values, {})


@router.post("/settings/abandoned-carts", response_class=HTMLResponse)
def save_cart_settings(
    request: Request, session: DbSession, principal: SettingsEditor, form: PostedForm
) -> Response:
    """Change when a cart counts as abandoned and how long it is kept (audited)."""
    data, errors = validate_form(CartSettingsForm, form)
    if data is None:
        return _settings_card(request, form, errors, 422)
    try:
        settings_service.update(session, principal.actor, TrackingSettings, data.model_dump())
    except DomainError as error:
        return _settings_card(request, form, rejected(session, error), 422)
    flash(request, "The abandoned-cart settings were saved.")
    return redirect(request, SETTINGS_PAGE)


@router.get("/customers/{customer_id}/site-activity", response_class=HTMLResponse)
def site_activity(request: Request, session: DbSession, _: CustomerViewer, customer_id: int) -> Response:
    """The profile's abandoned cart and pop-ups (nothing when the customer has neither)."""
    if not is_htmx(request):
        return redirect(request, f"/customers/{customer_id}")
    customer = customer_service.get(session, customer_id)
    context = {
        "customer": customer,
        "cart": abandoned_cart(session, customer_id),
        "popups": popup_service.for_profile(session, customer_id),
    }
    return render(request, "customers/profile/_site_activity.html", context)


def _settings_card(
    request: Request, values: dict[str, Any], errors: FormErrors, status: int = 200
) -> HTMLResponse:
    context = {"values": values, "errors": errors}
    return render(request, "settings/event_sources/_abandoned_carts.html", context, status_code=status)
