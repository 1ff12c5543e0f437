"""The public addresses in messages: the open pixel and the click redirect (plain Starlette routes placed
before everything else, answered from the signed token alone), and the customer's pages — unsubscribe,
preferences, e-mail confirmation, view in browser — branded from Settings → Design.

No page here has a session or a CSRF token: the signed token in the address is the authentication (a
form posts back to its own token; the RFC 8058 one-click POST comes from a mailbox provider's server).
A GET never changes consent — link scanners fetch every link of a message — and a token that does not
verify, or names a message that is gone, gets a 404/410 page, never a redirect and never a 5xx.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request as PlainRequest
from starlette.routing import Route

from smartcomm.auth.principal import RouteGuard
from smartcomm.delivery.confirmation import confirmation_service
from smartcomm.delivery.consent import CATEGORY, Subject, Visitor, consent_service
from smartcomm.delivery.design import Brand, brand, page_language
from smartcomm.delivery.tokens import Purpose, preferences_url, verify, verify_one
from smartcomm.delivery.tracking import (
    CLICKED,
    OPENED,
    TRACKER_COOKIE,
    Hit,
    link_url,
    links,
    recorder,
    visitor_from_cookie,
)
from smartcomm.delivery.viewing import viewed_html
from smartcomm.kit import i18n
from smartcomm.kit.db import session_scope
from smartcomm.kit.errors import DomainError
from smartcomm.kit.http import DbSession, client_ip
from smartcomm.kit.i18n import LazyString, lazy
from smartcomm.kit.time import utcnow
from smartcomm.models import Customer
from smartcomm.settings.schemas import GeneralSettings
from smartcomm.settings.service import settings_service
from smartcomm.web.forms import PostedForm, rejected
from smartcomm.web.templating import environment

# A transparent 1×1 GIF.
PIXEL = (
    b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00"
    b",\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
)
NO_STORE = {"Cache-Control": "no-store, private", "X-Robots-Tag": "noindex, nofollow"}
ONE_CLICK = ("List-Unsubscribe", "One-Click")
# The message a customer reads, shown in the browser: its own styles and remote images, never a script.
VIEW_POLICY = (
    "default-src 'none'; img-src * data:; style-src 'unsafe-inline' *; font-src * data:; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)

CHANNEL_MESSAGES: dict[str, LazyString] = {
    "email": lazy("e-mails"),
    "sms": lazy("SMS messages"),
    "viber": lazy("Viber messages"),
    "push": lazy("push notifications"),
}
CHANNEL_CONTACTS: dict[str, LazyString] = {
    "email": lazy("E-mail"),
    "sms": lazy("Phone"),
    "viber": lazy("Phone"),
    "push": lazy("Device"),
}
CHANNEL_NAMES: dict[str, LazyString] = {
    "email": lazy("E-mail"),
    "sms": lazy("SMS"),
    "viber": lazy("Viber"),
    "push": lazy("Push notifications"),
}
CHANNEL_ICONS = {"email": "ti-mail", "sms": "ti-message", "viber": "ti-message-circle", "push": "ti-bell"}
CHANNEL_SHORT: dict[str, LazyString] = {
    "email": lazy("E-mail"),
    "sms": lazy("SMS"),
    "viber": lazy("Viber"),
    "push": lazy("Push"),
}
LINK_GONE = lazy("This link is no longer valid")
LINK_UNKNOWN = lazy("This link is not valid")
LINK_GONE_TEXT = lazy("The message it came from is no longer kept. If you need help, contact us.")
LINK_UNKNOWN_TEXT = lazy("Check that the whole address was copied from the message.")
ADDRESS_CHANGED = lazy("This address is no longer yours")
ADDRESS_CHANGED_TEXT = lazy(
    "The link was for an e-mail address your account no longer uses, so nothing was confirmed."
)
UNSUBSCRIBED_CATEGORY = lazy("You will no longer get “%(category)s” %(messages)s.")
UNSUBSCRIBED_CHANNEL = lazy("You will no longer get %(messages)s from us.")
CONFIRMED = lazy("Your e-mail address is confirmed.")


class PublicLink(RouteGuard):
    """A public page authenticated by the signed token in its address (no sign-in, no CSRF token)."""

    surface = "ui"
    permission = None

    def __call__(self) -> None:
        return None


router = APIRouter(dependencies=[Depends(PublicLink())], include_in_schema=False)


# --- rendering ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Look:
    """The brand and language a public page is shown in."""

    brand: Brand
    language: str


def look_of(session: Session, request: Request, customer: Customer | None) -> Look:
    default = settings_service.read(session, GeneralSettings).default_language
    chosen = request.query_params.get("lang")
    language = page_language(customer, request.headers.get("accept-language"), default, chosen)
    return Look(brand(session), language)


def render_public(
    look: Look,
    template: str,
    context: dict[str, Any],
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    """A public page in its brand and language."""
    values = {
        "brand": look.brand,
        "brand_css": look.brand.as_css(),
        "language": look.language,
        "languages": list(i18n.LANGUAGES.items()),
        "errors": {},
        "values": {},
        "preview": False,
    }
    with i18n.language(look.language):
        html = environment.get_template(f"public/{template}").render(values | context)
    return HTMLResponse(html, status_code=status, headers=NO_STORE | (headers or {}))


def missing_page(look: Look, gone: bool) -> HTMLResponse:
    title, text = (LINK_GONE, LINK_GONE_TEXT) if gone else (LINK_UNKNOWN, LINK_UNKNOWN_TEXT)
    with i18n.language(look.language):
        context = {"title": str(title), "text": str(text)}
    return render_public(look, "missing.html", context, status=410 if gone else 404)


def visitor_of(request: Request) -> Visitor:
    return Visitor(client_ip(request), request.headers.get("user-agent"))


def mask_email(address: str) -> str:
    local, _, domain = address.partition("@")
    shown = local[:2] if len(local) > 3 else local[:1]
    return f"{shown}•••@{domain}" if domain else "•••"


def mask_recipient(channel: str, recipient: str | None) -> str | None:
    if not recipient:
        return None
    if channel == "email":
        return mask_email(recipient)
    if channel in ("sms", "viber"):
        return f"{recipient[:2]}•••••{recipient[-4:]}" if len(recipient) > 6 else "•••"
    return None


def _subject(session: Session, purpose: Purpose, token: str) -> Subject | bool:
    """The subject of a token's message; False for an unknown token, True for a message that is gone."""
    message_id = verify_one(purpose, token)
    if message_id is None:
        return False
    return consent_service.subject(session, message_id) or True


def _subject_context(subject: Subject) -> dict[str, Any]:
    customer = subject.customer
    recipient = subject.message.recipient or (
        customer.email if customer and subject.channel == "email" else None
    )
    return {
        "has_customer": customer is not None,
        "recipient": mask_recipient(subject.channel, recipient),
        "channel_label": CHANNEL_CONTACTS.get(subject.channel, ""),
        "messages_label": CHANNEL_MESSAGES.get(subject.channel, ""),
        "category_name": subject.category.name if subject.category else None,
        "preferences_url": preferences_url(subject.message.id),
    }


# --- unsubscribe -------------------------------------------------------------------------------------------


@router.get("/u/{token}", response_class=HTMLResponse)
def unsubscribe_page(request: Request, session: DbSession, token: str) -> Response:
    """The unsubscribe page: shows the choice, changes nothing (link scanners fetch it)."""
    subject = _subject(session, Purpose.UNSUBSCRIBE, token)
    if not isinstance(subject, Subject):
        return missing_page(look_of(session, request, None), gone=subject)
    return _unsubscribe_form(session, request, subject, token, {}, {})


def _unsubscribe_form(
    session: Session,
    request: Request,
    subject: Subject,
    token: str,
    values: dict[str, Any],
    errors: dict[str, str],
    status: int = 200,
) -> HTMLResponse:
    context = _subject_context(subject) | {
        "action": f"/u/{token}",
        "already": subject.customer is not None and consent_service.is_unsubscribed(subject, session),
        "reasons": consent_service.reasons(session),
        "values": values,
        "errors": errors,
    }
    return render_public(look_of(session, request, subject.customer), "unsubscribe.html", context, status)


@router.post("/u/{token}", response_class=HTMLResponse)
def unsubscribe(request: Request, session: DbSession, token: str, form: PostedForm) -> Response:
    """Unsubscribe: the page's form (the scope chosen, a reason), or the RFC 8058 one-click POST of a
    mailbox provider (`List-Unsubscribe=One-Click`), which acts at once."""
    subject = _subject(session, Purpose.UNSUBSCRIBE, token)
    if not isinstance(subject, Subject):
        return missing_page(look_of(session, request, None), gone=subject)
    look = look_of(session, request, subject.customer)
    if subject.customer is None:
        return _unsubscribe_form(session, request, subject, token, {}, {})
    try:
        if form.get(ONE_CLICK[0]) == ONE_CLICK[1]:
            outcome = consent_service.one_click(session, subject, visitor_of(request))
        else:
            outcome = consent_service.unsubscribe(
                session,
                subject,
                visitor_of(request),
                scope=_text(form.get("scope")),
                reason_code=_text(form.get("reason")),
                reason_text=_text(form.get("comment")),
            )
    except DomainError as error:
        errors = rejected(session, error)
        return _unsubscribe_form(session, request, subject, token, form, errors, error.status_code)
    with i18n.language(look.language):
        done = _unsubscribed_words(subject, outcome.scope)
    context = {"outcome": done, "preferences_url": preferences_url(subject.message.id)}
    return render_public(look, "thanks.html", context)


def _unsubscribed_words(subject: Subject, scope: str) -> str:
    messages = str(CHANNEL_MESSAGES.get(subject.channel, ""))
    if scope == CATEGORY and subject.category is not None:
        return str(UNSUBSCRIBED_CATEGORY) % {"category": subject.category.name, "messages": messages}
    return str(UNSUBSCRIBED_CHANNEL) % {"messages": messages}


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


# --- preferences -------------------------------------------------------------------------------------------


def channel_rows() -> list[dict[str, Any]]:
    return [
        {
            "code": code,
            "label": CHANNEL_NAMES[code],
            "short": CHANNEL_SHORT[code],
            "icon": CHANNEL_ICONS[code],
        }
        for code in ("email", "sms", "viber", "push")
    ]


def _preferences_page(
    session: Session, request: Request, subject: Subject, token: str, *, saved: bool = False
) -> HTMLResponse:
    context = _subject_context(subject) | {
        "action": f"/p/{token}",
        "channels": channel_rows(),
        "preferences": consent_service.preferences(session, subject.customer) if subject.customer else None,
        "saved": saved,
    }
    return render_public(look_of(session, request, subject.customer), "preferences.html", context)


@router.get("/p/{token}", response_class=HTMLResponse)
def preferences_page(request: Request, session: DbSession, token: str) -> Response:
    """The preferences page: every channel and every mailing category × channel, as they stand."""
    subject = _subject(session, Purpose.PREFERENCES, token)
    if not isinstance(subject, Subject):
        return missing_page(look_of(session, request, None), gone=subject)
    return _preferences_page(session, request, subject, token)


@router.post("/p/{token}", response_class=HTMLResponse)
def save_preferences(request: Request, session: DbSession, token: str, form: PostedForm) -> Response:
    """Save the switches: a box not ticked is off."""
    subject = _subject(session, Purpose.PREFERENCES, token)
    if not isinstance(subject, Subject):
        return missing_page(look_of(session, request, None), gone=subject)
    if subject.customer is None:
        return _preferences_page(session, request, subject, token)
    channels = [channel["code"] for channel in channel_rows()]
    allowed = {channel: form.get(f"allow_{channel}") == "on" for channel in channels}
    current = consent_service.preferences(session, subject.customer)
    subscribed = {
        (category.id, channel): form.get(f"sub_{category.id}_{channel}") == "on"
        for category in current.categories
        for channel in channels
    }
    consent_service.save_preferences(session, subject, visitor_of(request), allowed, subscribed)
    return _preferences_page(session, request, subject, token, saved=True)


# --- e-mail confirmation (double opt-in) ---------------------------------------------------------------


@router.get("/confirm/{token}", response_class=HTMLResponse)
def confirmation_page(request: Request, session: DbSession, token: str) -> Response:
    """The confirmation page: a button; opening the link confirms nothing by itself."""
    confirmation_id = verify_one(Purpose.CONFIRM, token)
    found = confirmation_service.find(session, confirmation_id) if confirmation_id is not None else None
    if found is None:
        return missing_page(look_of(session, request, None), gone=confirmation_id is not None)
    look = look_of(session, request, found.customer)
    if found.confirmed:
        return _confirmed(look)
    if not found.current:
        return _address_changed(look)
    context = {"action": f"/confirm/{token}", "recipient": mask_email(found.confirmation.email)}
    return render_public(look, "confirm.html", context)


@router.post("/confirm/{token}", response_class=HTMLResponse)
def confirm(request: Request, session: DbSession, token: str) -> Response:
    confirmation_id = verify_one(Purpose.CONFIRM, token)
    found = confirmation_service.find(session, confirmation_id) if confirmation_id is not None else None
    if found is None:
        return missing_page(look_of(session, request, None), gone=confirmation_id is not None)
    look = look_of(session, request, found.customer)
    if not confirmation_service.confirm(session, found, visitor_of(request)):
        return _address_changed(look)
    return _confirmed(look)


def _confirmed(look: Look) -> HTMLResponse:
    with i18n.language(look.language):
        outcome = str(CONFIRMED)
    return render_public(look, "thanks.html", {"outcome": outcome})


def _address_changed(look: Look) -> HTMLResponse:
    with i18n.language(look.language):
        context = {"title": str(ADDRESS_CHANGED), "text": str(ADDRESS_CHANGED_TEXT)}
    return render_public(look, "missing.html", context, status=410)


# --- view in browser -------------------------------------------------------------------------------------


@router.get("/v/{token}", response_class=HTMLResponse)
def view_in_browser(request: Request, session: DbSession, token: str) -> Response:
    """The e-mail as it was sent (or rendered again the same way), with no script allowed."""
    subject = _subject(session, Purpose.VIEW, token)
    if not isinstance(subject, Subject):
        return missing_page(look_of(session, request, None), gone=subject)
    shown = viewed_html(session, subject.message)
    if shown is None:
        return missing_page(look_of(session, request, subject.customer), gone=True)
    return HTMLResponse(shown, headers={**NO_STORE, "Content-Security-Policy": VIEW_POLICY})


# --- the open pixel and the click redirect -----------------------------------------------------------------


async def _record(hit: Hit) -> None:
    """Hand the hit to the process's writer: at once, after a short pause when the writer is behind, or
    in a thread when it must wait (`Recorder.pressure`)."""
    pause = recorder.pressure()
    if pause == math.inf:
        await run_in_threadpool(recorder.record, hit)
        return
    if pause is not None:
        await asyncio.sleep(pause)
    recorder.record(hit)


def _hit(request: PlainRequest, kind: str, message_id: int, **values: Any) -> Hit:
    return Hit(
        kind,
        message_id,
        utcnow(),
        ip=request.client.host if request.client else None,
        user_agent=request.headers.get("user-agent"),
        method=request.method,
        **values,
    )


async def open_pixel(request: PlainRequest) -> Response:
    """The open pixel: the GIF at once; the open is written by the process's writer."""
    message_id = verify_one(Purpose.OPEN, request.path_params["token"])
    if message_id is None:
        return Response(PIXEL, status_code=404, media_type="image/gif", headers=NO_STORE)
    await _record(_hit(request, OPENED, message_id))
    return Response(PIXEL, media_type="image/gif", headers=NO_STORE)


async def click(request: PlainRequest) -> Response:
    """A tracked link: 302 to the address recorded for that link of that message, and nothing else."""
    found = verify(Purpose.CLICK, request.path_params["token"], 2)
    url = None
    if found is not None:
        url = links.get(found[1]) or await run_in_threadpool(link_url, found[1])
    if found is None or url is None or not url.startswith(("http://", "https://")):
        return await run_in_threadpool(_unknown_link, request)
    visitor = visitor_from_cookie(request.cookies.get(TRACKER_COOKIE))
    await _record(_hit(request, CLICKED, found[0], link_id=found[1], url=url, visitor_id=visitor))
    return Response(
        status_code=302, headers={"Location": location(url), "Referrer-Policy": "no-referrer", **NO_STORE}
    )


def _unknown_link(request: PlainRequest) -> HTMLResponse:
    with session_scope(read_only=True) as session:
        return missing_page(look_of(session, request, None), gone=False)


@lru_cache(maxsize=4096)
def location(url: str) -> str:
    """The address as a Location header can carry it: host in IDNA, the rest percent-encoded where it is
    not ASCII or not allowed (a header never carries a line break)."""
    safe = "/:@!$&'()*+,;=~%-._"
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        netloc = (host if host.isascii() else host.encode("idna").decode("ascii")) + (
            f":{parts.port}" if parts.port else ""
        )
    except (ValueError, UnicodeError):
        return quote(url, safe + "?#")
    if parts.username:
        netloc = f"{quote(parts.username, '')}@{netloc}"
    path, query, fragment = (quote(value, safe + "?") for value in (parts.path, parts.query, parts.fragment))
    return urlunsplit((parts.scheme, netloc, path, query, fragment))


@asynccontextmanager
async def tracking_lifespan(_app: Any) -> AsyncIterator[None]:
    """When the web process stops, the hits it answered are written before it exits (its writer thread
    would not outlive it)."""
    yield
    await run_in_threadpool(recorder.flush)


def tracking_routes() -> list[Route]:
    """The pixel and the redirect as plain routes: the app places them first, so they pay neither
    FastAPI's per-request dependency resolution nor the matching of the other routes."""
    return [
        Route("/t/o/{token}.gif", open_pixel, methods=["GET", "HEAD"], include_in_schema=False),
        Route("/t/c/{token}", click, methods=["GET", "HEAD"], include_in_schema=False),
    ]
