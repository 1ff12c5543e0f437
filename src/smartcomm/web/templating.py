"""Jinja2 rendering for the back office: translations, formatting in the project time zone, flash toasts.

One route serves the full page or, for htmx requests that target a fragment, only that fragment.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

from babel.dates import format_date, format_datetime
from babel.numbers import format_decimal, get_currency_symbol
from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from jinja2 import Environment, FileSystemLoader, pass_context, select_autoescape
from jinja2.runtime import Context

from smartcomm.auth.permissions import Role
from smartcomm.datasettings.display import description_of, name_of
from smartcomm.kit import i18n
from smartcomm.kit.time import to_zone
from smartcomm.settings.schemas import GeneralSettings
from smartcomm.web.deps import csrf_token
from smartcomm.web.labels import ACTION_CLASSES, ACTION_LABELS, ACTOR_KIND_LABELS, OBJECT_LABELS
from smartcomm.web.menu import visible_menu

TEMPLATE_DIR = Path(__file__).parent / "templates"

environment = Environment(
    loader=FileSystemLoader(TEMPLATE_DIR),
    autoescape=select_autoescape(["html"]),
    extensions=["jinja2.ext.i18n", "jinja2.ext.do"],
    trim_blocks=True,
    lstrip_blocks=True,
)
environment.install_gettext_callables(i18n.gettext_, i18n.ngettext, newstyle=True)  # type: ignore[attr-defined]


def _general(context: Context) -> GeneralSettings:
    general = context.get("general")
    return general if isinstance(general, GeneralSettings) else GeneralSettings()


@pass_context
def format_dt(context: Context, value: datetime | None, style: str = "medium") -> str:
    if value is None:
        return "—"
    local = to_zone(value, _general(context).time_zone)
    return format_datetime(local, format=style, locale=i18n.current_language())


@pass_context
def format_day(context: Context, value: date | None, style: str = "medium") -> str:
    if value is None:
        return "—"
    if isinstance(value, datetime):
        value = to_zone(value, _general(context).time_zone).date()
    return format_date(value, format=style, locale=i18n.current_language())


# Currencies whose symbol CLDR gives only in local locales (English shows "RUB"): use the local symbol.
LOCAL_SYMBOL_LOCALES = {
    "RUB": "ru",
    "BYN": "be",
    "KZT": "kk",
    "UZS": "uz",
    "KGS": "ky",
    "AMD": "hy",
    "GEL": "ka",
    "AZN": "az",
}


@lru_cache(maxsize=64)
def currency_symbol(code: str, language: str) -> str:
    symbol = get_currency_symbol(code, locale=language)
    if symbol == code and code in LOCAL_SYMBOL_LOCALES:
        symbol = get_currency_symbol(code, locale=LOCAL_SYMBOL_LOCALES[code])
    return str(symbol)


@pass_context
def format_money(context: Context, value: Decimal | float | int | None) -> str:
    """An amount with two decimals and the currency symbol after it: 1,234.50 ₽ / 1 234,50 ₽."""
    if value is None:
        return "—"
    language = i18n.current_language()
    amount = format_decimal(value, format="#,##0.00", locale=language)
    return f"{amount}\u00a0{currency_symbol(_general(context).currency, language)}"


def format_number(value: Decimal | float | int | None, digits: int = 0) -> str:
    if value is None:
        return "—"
    pattern = "#,##0" + ("." + "0" * digits if digits else "")
    return format_decimal(value, format=pattern, locale=i18n.current_language())


def format_duration(ms: int | float | None) -> str:
    """How long something took, for people: 17 ms, 3.4 s, 42 s, 2 min 5 s."""
    if ms is None:
        return "—"
    if ms < 1000:
        return i18n.gettext_("%(ms)s ms") % {"ms": format_number(int(ms))}
    if ms < 60_000:
        seconds = format_number(ms / 1000, 1 if ms < 10_000 else 0)
        return i18n.gettext_("%(num)s s") % {"num": seconds}
    minutes, rest = divmod(int(ms) // 1000, 60)
    return i18n.gettext_("%(min)s min %(sec)s s") % {"min": minutes, "sec": rest}


def role_label(role: str) -> str:
    try:
        return str(Role(role).label)
    except ValueError:
        return role


def action_label(action: str) -> str:
    label = ACTION_LABELS.get(action)
    return str(label) if label else action.replace("_", " ")


def action_class(action: str) -> str:
    return ACTION_CLASSES.get(action, "bg-secondary-lt")


def object_label(object_type: str) -> str:
    label = OBJECT_LABELS.get(object_type)
    return str(label) if label else object_type.replace("_", " ")


def actor_kind_label(kind: str) -> str:
    label = ACTOR_KIND_LABELS.get(kind)
    return str(label) if label else kind


environment.filters.update(
    dt=format_dt,
    day=format_day,
    money=format_money,
    number=format_number,
    duration=format_duration,
    display_name=name_of,
    display_description=description_of,
    role_label=role_label,
    action_label=action_label,
    action_class=action_class,
    object_label=object_label,
    actor_kind_label=actor_kind_label,
)
environment.globals.update(LANGUAGES=i18n.LANGUAGES, json=json, zip=zip)


def is_htmx(request: Request) -> bool:
    return request.headers.get("HX-Request") == "true"


def flash(request: Request, message: str, category: str = "success") -> None:
    """Queue a toast for the next rendered page (messages are translated at display time)."""
    # Assign a new list: the session is only saved when one of its keys is set.
    request.session["flash"] = [*request.session.get("flash", []), {"message": message, "category": category}]


def _pop_flashes(request: Request) -> list[dict[str, str]]:
    queued: list[dict[str, str]] = request.session.pop("flash", [])
    return [{**item, "message": i18n.gettext_(item.get("message", ""))} for item in queued]


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
    fragment: str | None = None,
) -> HTMLResponse:
    """Render a page, or only `fragment` (a template path) when htmx asks for part of the page."""
    name = fragment if fragment and is_htmx(request) and request.headers.get("HX-Target") else template
    partial = name != template
    with i18n.language(getattr(request.state, "language", i18n.current_language())):
        flashes = _pop_flashes(request)
        page_context = _base_context(request) | {"flashes": [] if partial else flashes} | (context or {})
        html = environment.get_template(name).render(page_context)
    # A fragment has no layout to show toasts in: hand pending messages to htmx as an event.
    headers = {"HX-Trigger": json.dumps({"toast": flashes})} if partial and flashes else {}
    return HTMLResponse(html, status_code=status_code, headers=headers)


def _base_context(request: Request) -> dict[str, Any]:
    principal = getattr(request.state, "principal", None)
    general = getattr(request.state, "general", None) or GeneralSettings()
    return {
        "request": request,
        "principal": principal,
        "user": principal,
        "general": general,
        "csrf_token": csrf_token(request),
        "menu": visible_menu(principal, request.url.path, general) if principal else [],
        "language": i18n.current_language(),
        "can": principal.can if principal else (lambda _permission: False),
    }


def redirect(request: Request, url: str) -> Response:
    """A redirect that works for plain forms (303) and for htmx requests (HX-Redirect)."""
    if is_htmx(request):
        return Response(status_code=204, headers={"HX-Redirect": url})
    return Response(status_code=303, headers={"Location": url})
