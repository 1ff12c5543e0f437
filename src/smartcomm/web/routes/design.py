"""Settings → Design: the logo, colours and texts of the customer-facing pages, with a live preview.

The preview is the real public page rendered with the values being edited (not yet saved), shown in a
frame of this page: the preview route alone may be framed, and only by this site.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile

from smartcomm.auth.permissions import Permission
from smartcomm.auth.principal import Principal
from smartcomm.delivery.consent import Preferences, Reason
from smartcomm.delivery.consent_repository import ConsentRepository
from smartcomm.delivery.design import DEFAULT_TEXTS, PAGES, brand_of
from smartcomm.kit import i18n
from smartcomm.kit.errors import DomainError
from smartcomm.kit.http import DbSession
from smartcomm.kit.i18n import LazyString, lazy
from smartcomm.models import MailingCategory
from smartcomm.settings.schemas import DesignSettings, GeneralSettings
from smartcomm.settings.service import settings_service
from smartcomm.web.deps import requires
from smartcomm.web.forms import FormErrors, PostedForm, rejected
from smartcomm.web.routes.public import CHANNEL_CONTACTS, CHANNEL_MESSAGES, Look, channel_rows, render_public
from smartcomm.web.templating import flash, redirect, render

router = APIRouter(prefix="/settings/design")
Designer = Annotated[Principal, Depends(requires(Permission.DESIGN_EDIT))]

PAGE_NAMES: dict[str, LazyString] = {
    "unsubscribe": lazy("Unsubscribe"),
    "preferences": lazy("Preferences"),
    "confirmation": lazy("E-mail confirmation"),
    "thanks": lazy("Thank you"),
}
COLOURS = ("primary_color", "background_color", "text_color")
TEXT_FIELDS = tuple(
    f"{page}_{kind}_{lang}" for page in PAGES for lang in i18n.LANGUAGES for kind in ("title", "text")
)
# What the preview shows for a customer: an example, never a real person.
SAMPLE_RECIPIENT = "an•••@example.com"
PREVIEW_HEADERS = {
    "X-Frame-Options": "SAMEORIGIN",
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; font-src 'self'; "
        "form-action 'none'; base-uri 'self'; frame-ancestors 'self'"
    ),
}


def _defaults() -> dict[str, str]:
    """The built-in texts of every page in every language (the placeholders of the text fields)."""
    found: dict[str, str] = {}
    for language in i18n.LANGUAGES:
        with i18n.language(language):
            for page, (title, text) in DEFAULT_TEXTS.items():
                found[f"{page}_title_{language}"] = str(title)
                found[f"{page}_text_{language}"] = str(text)
    return found


def _page(
    request: Request, session: Session, values: dict[str, Any], errors: FormErrors, status: int = 200
) -> HTMLResponse:
    general = settings_service.read(session, GeneralSettings)
    context = {
        "values": values,
        "errors": errors,
        "pages": [(page, PAGE_NAMES[page]) for page in PAGES],
        "defaults": _defaults(),
        "company_logo_id": general.logo_file_id,
    }
    return render(request, "settings/design/page.html", context, status_code=status)


@router.get("", response_class=HTMLResponse)
def design_settings(request: Request, session: DbSession, _: Designer) -> Response:
    """The design of the customer-facing pages."""
    return _page(request, session, settings_service.read(session, DesignSettings).model_dump(), {})


@router.post("")
def save_design(request: Request, session: DbSession, principal: Designer, form: PostedForm) -> Response:
    values = {name: form.get(name) for name in (*COLOURS, *TEXT_FIELDS)}
    try:
        logo = form.get("logo")
        if isinstance(logo, UploadFile) and logo.filename:
            stored = settings_service.store_file(
                session, logo.filename, logo.content_type or "", logo.file.read()
            )
            values["logo_file_id"] = stored.id
        if form.get("use_company_logo") == "true":
            values["logo_file_id"] = None
        settings_service.update(session, principal.actor, DesignSettings, values)
    except DomainError as error:
        errors = rejected(session, error)
        current = settings_service.read(session, DesignSettings).model_dump()
        return _page(request, session, current | values, errors, status=error.status_code)
    flash(request, "The design was saved.")
    return redirect(request, "/settings/design")


# --- the live preview ----------------------------------------------------------------------------------


def _previewed(session: Session, request: Request) -> DesignSettings:
    """The saved design with the values being edited (those that are valid) laid over it."""
    current = settings_service.read(session, DesignSettings)
    edited = {
        name: request.query_params[name] for name in (*COLOURS, *TEXT_FIELDS) if name in request.query_params
    }
    merged = current.model_dump()
    for name, value in edited.items():
        try:
            merged = DesignSettings.model_validate(merged | {name: value}).model_dump()
        except ValidationError:
            continue
    return DesignSettings.model_validate(merged)


def _sample_preferences(session: Session) -> Preferences:
    categories = ConsentRepository(session).categories()[:4]
    if not categories:
        categories = [MailingCategory(id=0, code="news", name=str(lazy("News")), description=None)]
    subscribed = {(category.id, "email"): True for category in categories}
    subscribed |= {(categories[0].id, "sms"): True}
    allowed = {"email": True, "sms": True, "viber": False, "push": True}
    return Preferences(allowed=allowed, categories=categories, subscribed=subscribed)


def _sample_reasons() -> list[Reason]:
    return [
        Reason("too_often", str(lazy("I receive messages too often"))),
        Reason("not_relevant", str(lazy("The messages are not relevant to me"))),
    ]


@router.get("/preview", response_class=HTMLResponse)
def preview(request: Request, session: DbSession, _: Designer) -> Response:
    """A public page with the design being edited, for the frame of the design page."""
    page = request.query_params.get("page", "unsubscribe")
    page = page if page in PAGES else "unsubscribe"
    language = request.query_params.get("lang", "")
    language = language if language in i18n.LANGUAGES else i18n.current_language()
    look = Look(
        brand_of(settings_service.read(session, GeneralSettings), _previewed(session, request)), language
    )
    with i18n.language(language):
        template, context = _preview_context(session, page)
    return render_public(
        look, template, context | {"preview": True, "languages": []}, headers=PREVIEW_HEADERS
    )


def _preview_context(session: Session, page: str) -> tuple[str, dict[str, Any]]:
    common = {"action": "#", "has_customer": True, "recipient": SAMPLE_RECIPIENT, "preferences_url": "#"}
    if page == "preferences":
        return "preferences.html", common | {
            "channels": channel_rows(),
            "preferences": _sample_preferences(session),
        }
    if page == "confirmation":
        return "confirm.html", common
    if page == "thanks":
        return "thanks.html", common | {"outcome": str(lazy("Your e-mail address is confirmed."))}
    return "unsubscribe.html", common | {
        "already": False,
        "reasons": _sample_reasons(),
        "channel_label": CHANNEL_CONTACTS["email"],
        "messages_label": CHANNEL_MESSAGES["email"],
        "category_name": str(lazy("Promotions")),
    }
