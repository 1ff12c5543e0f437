"""Settings → Channels → E-mail → Deliverability: the sending domain's DNS check, the bounce and complaint
rates per day against the mailbox providers' thresholds, and the IP warm-up ramp."""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from smartcomm.analytics import deliverability as rates
from smartcomm.auth.permissions import Permission
from smartcomm.auth.principal import Principal
from smartcomm.channels.email import warm_up
from smartcomm.channels.email.deliverability import Domain, check_domain, configured_domain
from smartcomm.kit.errors import DomainError
from smartcomm.kit.http import DbSession
from smartcomm.kit.time import to_zone, utcnow
from smartcomm.settings.schemas import GeneralSettings
from smartcomm.settings.service import settings_service
from smartcomm.web.deps import requires
from smartcomm.web.forms import FormErrors, PostedForm, rejected
from smartcomm.web.templating import flash, redirect, render

router = APIRouter(prefix="/settings/channels/email/deliverability")
Viewer = Annotated[Principal, Depends(requires(Permission.SETTINGS_VIEW))]
Editor = Annotated[Principal, Depends(requires(Permission.SETTINGS_EDIT))]
PAGE = "/settings/channels/email/deliverability"
DOMAIN_NAME = r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$"


@router.get("", response_class=HTMLResponse)
def deliverability_page(request: Request, session: DbSession, _: Viewer) -> Response:
    """The domain check, the rates per day and the warm-up ramp of the e-mail channel."""
    return _page(request, session, {}, None)


def _page(
    request: Request, session: Session, errors: FormErrors, typed: dict[str, Any] | None, status: int = 200
) -> HTMLResponse:
    zone = settings_service.read(session, GeneralSettings).time_zone
    now = utcnow()
    days = rates.rate_days(session, zone, to_zone(now, zone).date())
    stored = settings_service.read(session, warm_up.WarmUpSettings)
    context = {
        "domain": configured_domain(session),
        "days": days,
        "totals": _totals(days),
        "chart": _chart(days),
        "levels": rates.level,
        "thresholds": rates,
        "warm_up": stored,
        "typed": typed,
        # Thousands grouped with a space: the form separates days with commas.
        "schedule_text": ", ".join(f"{n:,}".replace(",", " ") for n in stored.schedule),
        "today_allowance": stored.allowance(warm_up.project_day(now, zone)[0]),
        "errors": errors,
    }
    return render(request, "settings/channels/deliverability.html", context, status_code=status)


def _totals(days: list[rates.RateDay]) -> rates.RateDay:
    return rates.RateDay(
        day=days[-1].day,
        sent=sum(d.sent for d in days),
        bounced=sum(d.bounced for d in days),
        complaints=sum(d.complaints for d in days),
    )


def _chart(days: list[rates.RateDay]) -> dict[str, Any]:
    """The chart's data: rates in per cent per day, and the thresholds' lines."""
    return {
        "labels": [day.day.isoformat() for day in days],
        "bounce": [round((d.bounce_rate or 0) * 100, 3) for d in days],
        "complaint": [round((d.complaint_rate or 0) * 100, 3) for d in days],
        "bounce_warn": rates.BOUNCE_WARN * 100,
        "bounce_bad": rates.BOUNCE_BAD * 100,
        "complaint_warn": rates.COMPLAINT_WARN * 100,
        "complaint_bad": rates.COMPLAINT_BAD * 100,
    }


@router.post("/check", response_class=HTMLResponse)
def check(request: Request, session: DbSession, _: Viewer, form: PostedForm) -> Response:
    """Look up the domain's SPF, DKIM and DMARC records (reads DNS, changes nothing)."""
    configured = configured_domain(session)
    name = str(form.get("domain") or "").strip().lower().rstrip(".")
    if not name or not _is_domain(name):
        context: dict[str, Any] = {"checks": None, "checked": name, "error": True}
        return render(request, "settings/channels/_domain_checks.html", context, status_code=422)
    if configured is None or configured.name != name:
        configured = Domain(name, configured.selector if configured else None)
    context = {"checks": check_domain(configured), "checked": name, "error": False}
    return render(request, "settings/channels/_domain_checks.html", context)


def _is_domain(name: str) -> bool:
    return re.match(DOMAIN_NAME, name) is not None


@router.post("/warm-up")
def save_warm_up(request: Request, session: DbSession, principal: Editor, form: PostedForm) -> Response:
    """Switch the IP warm-up on or off and set its start and daily schedule."""
    try:
        values = warm_up.form_values(form)
        settings_service.update(session, principal.actor, warm_up.WarmUpSettings, values)
    except DomainError as error:
        return _page(request, session, rejected(session, error), dict(form), status=error.status_code)
    flash(request, "The warm-up settings were saved.")
    return redirect(request, PAGE)
