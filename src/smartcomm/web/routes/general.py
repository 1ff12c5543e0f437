"""Settings → General: company name and logo, time zone, currency, default interface language."""

from __future__ import annotations

from typing import Annotated, Any

import phonenumbers
from babel import Locale
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import UploadFile

from smartcomm.auth.permissions import Permission
from smartcomm.auth.principal import Principal
from smartcomm.channels.secrets import MASK, SecretUnreadable, masked, unseal
from smartcomm.fields.repository import FieldRepository
from smartcomm.kit import i18n
from smartcomm.kit.errors import DomainError
from smartcomm.kit.http import DbSession
from smartcomm.kit.time import time_zone_names
from smartcomm.settings.schemas import DeliverySettings, GeneralSettings, PromoCodeSettings
from smartcomm.settings.service import settings_service
from smartcomm.web.deps import requires
from smartcomm.web.forms import FormErrors, PostedForm, rejected
from smartcomm.web.templating import flash, redirect, render

router = APIRouter(prefix="/settings/general")
Viewer = Annotated[Principal, Depends(requires(Permission.SETTINGS_VIEW))]
Editor = Annotated[Principal, Depends(requires(Permission.SETTINGS_EDIT))]

CURRENCIES = (
    "RUB",
    "USD",
    "EUR",
    "KZT",
    "BYN",
    "UZS",
    "AMD",
    "GEL",
    "AZN",
    "KGS",
    "TRY",
    "AED",
    "GBP",
    "CNY",
)


def _countries() -> list[tuple[str, str]]:
    """Countries phone numbers can belong to, named in the interface language: (ISO code, "Name (CODE)")."""
    names = Locale.parse(i18n.current_language()).territories
    options = [(code, f"{names.get(code, code)} ({code})") for code in phonenumbers.SUPPORTED_REGIONS]
    return sorted(options, key=lambda option: option[1])


# The delivery settings edited here. The webhook's secret is never shown back: a blank field keeps it.
DELIVERY_FIELDS = tuple(name for name in DeliverySettings.model_fields if name != "webhook_secret")


def _page(
    request: Request,
    session: DbSession,
    values: dict[str, Any],
    errors: FormErrors,
    status: int = 200,
    delivery: dict[str, Any] | None = None,
    promo: dict[str, Any] | None = None,
) -> HTMLResponse:
    delivery = delivery or DeliverySettings().model_dump()
    context = {
        "values": values,
        "promo": promo or PromoCodeSettings().model_dump(),
        "errors": errors,
        "delivery": delivery,
        "delivery_errors": {
            name: errors[name] for name in (*DELIVERY_FIELDS, "webhook_secret") if name in errors
        },
        "webhook_secret_shown": _shown_secret(delivery.get("webhook_secret")),
        "zones": time_zone_names(),
        "currencies": CURRENCIES,
        "countries": _countries(),
        "manager_fields": _text_fields(session),
    }
    return render(request, "settings/general.html", context, status_code=status)


def _text_fields(session: DbSession) -> list[tuple[str, str]]:
    """The custom text fields of customers (one may hold the e-mail of the customer's manager)."""
    fields = FieldRepository(session).for_object("customer")
    return [(field.code, field.name) for field in fields if not field.is_system and field.type == "string"]


def _shown_secret(stored: str | None) -> str | None:
    """The stored secret as shown back: a mask and its last characters."""
    if not stored:
        return None
    try:
        return masked(unseal(stored))
    except SecretUnreadable:
        return MASK


@router.get("", response_class=HTMLResponse)
def general_settings(request: Request, session: DbSession, _: Viewer) -> Response:
    """The general settings of the installation."""
    delivery = settings_service.read(session, DeliverySettings).model_dump()
    promo = settings_service.read(session, PromoCodeSettings).model_dump()
    general = settings_service.read(session, GeneralSettings).model_dump()
    return _page(request, session, general, {}, delivery=delivery, promo=promo)


@router.post("")
def save_general_settings(
    request: Request, session: DbSession, principal: Editor, form: PostedForm
) -> Response:
    values = {k: v for k, v in form.items() if k in GeneralSettings.model_fields and k != "logo_file_id"}
    delivery = {k: v for k, v in form.items() if k in DELIVERY_FIELDS}
    promo = {k: v for k, v in form.items() if k in PromoCodeSettings.model_fields}
    typed_secret = str(form.get("webhook_secret") or "").strip()
    if typed_secret:
        delivery["webhook_secret"] = typed_secret
    elif form.get("remove_webhook_secret") == "true":
        delivery["webhook_secret"] = None
    try:
        logo = form.get("logo")
        if isinstance(logo, UploadFile) and logo.filename:
            stored = settings_service.store_file(
                session, logo.filename, logo.content_type or "", logo.file.read()
            )
            values["logo_file_id"] = stored.id
        if form.get("remove_logo") == "true":
            values["logo_file_id"] = None
        settings_service.update(session, principal.actor, GeneralSettings, values)
        settings_service.update(session, principal.actor, DeliverySettings, delivery)
        settings_service.update(session, principal.actor, PromoCodeSettings, promo)
    except DomainError as error:
        current = settings_service.read(session, GeneralSettings).model_dump()
        kept = settings_service.read(session, DeliverySettings).model_dump()
        shown = kept | delivery | {"webhook_secret": kept["webhook_secret"]}
        promo_shown = settings_service.read(session, PromoCodeSettings).model_dump() | promo
        return _page(
            request,
            session,
            current | values,
            rejected(session, error),
            error.status_code,
            shown,
            promo_shown,
        )
    flash(request, "Settings saved.")
    return redirect(request, "/settings/general")
