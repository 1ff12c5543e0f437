"""The mailing editor (a draft, for those who prepare mailings) and the read-only page of any other
mailing: its status, progress and the actions of its status; the messaging volume on demand."""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from sqlalchemy.orm import Session

from smartcomm.attribution.service import attribution_service
from smartcomm.auth.permissions import Permission
from smartcomm.auth.principal import Principal
from smartcomm.kit.errors import Conflict, DomainError, NotFound
from smartcomm.kit.http import DbSession
from smartcomm.kit.i18n import lazy
from smartcomm.mailings.listing import MailingListing
from smartcomm.mailings.schemas import MailingStatus
from smartcomm.mailings.service import mailing_service
from smartcomm.mailings.validation import TEMPLATE_CHANNELS
from smartcomm.models import Mailing
from smartcomm.web.forms import FormErrors, PostedForm, rejected
from smartcomm.web.routes.mailings import form as mailing_form
from smartcomm.web.routes.mailings.common import (
    ACTIVE,
    CHANNEL_GROUP,
    Editor,
    Launcher,
    Viewer,
    done_share,
    joined,
)
from smartcomm.web.templating import flash, redirect, render

router = APIRouter()
CHANNELS = ("email", "sms", "sms_viber", "push")
REFUSED = 422
# The labels of the schema's StratumField and WinnerMetric values.
STRATA: dict[str, Any] = {
    "gender": lazy("Gender"),
    "age_band": lazy("Age band"),
    "city": lazy("City"),
    "region": lazy("Region"),
    "card_status": lazy("Card status"),
    "buyer": lazy("Buyer or not"),
}
METRICS: dict[str, Any] = {"opens": lazy("Opens"), "clicks": lazy("Clicks"), "revenue": lazy("Revenue")}
# The error keys the editor shows next to a field; any other error is listed above the form.
SHOWN_ERRORS = re.compile(
    r"^(name|category_id|segment_id|include_audience_ids|exclude_audience_ids|template_version_id"
    r"|sms_template_version_id|sender\.(name|address|reply_to)|variants"
    r"|variants\[\d\]\.(template_version_id|sms_template_version_id|subject|share|sender\.(name|address|reply_to))"
    r"|ab_test\.(test_percent|wait_hours|metric)|control_percent|control_audience_id|control_strata"
    r"|scheduled_at|lifetime_hours|rate_per_minute|failure_limit|utm\.utm_[a-z]+|watcher_group_ids"
    r"|attribution_rule|attribution_rule\.(window|days|date_from|date_to)"
    r"|attribution_rule\.criteria\.(min_amount|min_items|skus|category_ids))$"
)


# --- a new mailing -------------------------------------------------------------------------------------


@router.get("/new", response_class=HTMLResponse)
def new_mailing(request: Request, session: DbSession, principal: Editor, channel: str = "email") -> Response:
    """An empty draft's form for the channel."""
    if channel not in CHANNELS:
        raise NotFound("Channel", channel)
    return _editor(request, session, principal, None, channel, mailing_form.new_values(channel), {})


@router.post("/new")
def create_mailing(request: Request, session: DbSession, principal: Editor, form: PostedForm) -> Response:
    return _create(request, session, principal, form, launch=False)


@router.post("/new/launch")
def create_and_launch(
    request: Request, session: DbSession, principal: Launcher, form: PostedForm
) -> Response:
    return _create(request, session, principal, form, launch=True)


def _create(
    request: Request, session: Session, principal: Principal, form: dict[str, Any], *, launch: bool
) -> Response:
    channel = str(form.get("channel") or "")
    if channel not in CHANNELS:
        raise NotFound("Channel", channel)
    zone = request.state.general.time_zone
    data, errors = mailing_form.payload(form, channel, zone)
    created, more = mailing_form.validate_create(data | {"channel": channel})
    errors |= more
    if created is None or errors:
        return _refused(request, session, principal, None, channel, form, data, errors)
    try:
        mailing = mailing_service.create(session, principal.actor, created)
        if launch:
            mailing_service.launch(session, principal.actor, mailing.id)
    except DomainError as error:
        return _refused(request, session, principal, None, channel, form, data, rejected(session, error))
    flash(request, _launched_message(mailing) if launch else "The draft was saved.")
    return redirect(request, f"/mailings/{mailing.id}")


# --- one mailing ---------------------------------------------------------------------------------------


@router.get("/{mailing_id:int}", response_class=HTMLResponse)
def mailing_page(request: Request, session: DbSession, principal: Viewer, mailing_id: int) -> Response:
    """A draft opens in the editor for those who prepare mailings; anything else opens read-only."""
    mailing = mailing_service.get(session, mailing_id)
    zone = request.state.general.time_zone
    if mailing.status == MailingStatus.DRAFT and principal.can(Permission.MAILINGS_EDIT):
        values = mailing_form.form_values(mailing, zone)
        return _editor(request, session, principal, mailing, mailing.channel, values, {})
    return _view(request, session, principal, mailing)


@router.post("/{mailing_id:int}")
def update_mailing(
    request: Request, session: DbSession, principal: Editor, mailing_id: int, form: PostedForm
) -> Response:
    return _update(request, session, principal, mailing_id, form, launch=False)


@router.post("/{mailing_id:int}/launch")
def launch_mailing(
    request: Request, session: DbSession, principal: Launcher, mailing_id: int, form: PostedForm
) -> Response:
    """Launch (or schedule) a draft; posted from the editor, its form is saved first, in the same step."""
    if "name" not in form:
        try:
            mailing = mailing_service.launch(session, principal.actor, mailing_id)
        except DomainError as error:
            problems = rejected(session, error)
            flash(request, joined(problems.values()), "danger")
            return redirect(request, f"/mailings/{mailing_id}")
        flash(request, _launched_message(mailing))
        return redirect(request, f"/mailings/{mailing_id}")
    return _update(request, session, principal, mailing_id, form, launch=True)


def _update(
    request: Request,
    session: Session,
    principal: Principal,
    mailing_id: int,
    form: dict[str, Any],
    *,
    launch: bool,
) -> Response:
    mailing = mailing_service.get(session, mailing_id)
    if mailing.status != MailingStatus.DRAFT:
        flash(request, "Only a draft can be changed.", "danger")
        return redirect(request, f"/mailings/{mailing_id}")
    data, errors = mailing_form.payload(form, mailing.channel, request.state.general.time_zone)
    changed, more = mailing_form.validate_update(data)
    errors |= more
    if changed is None or errors:
        return _refused(request, session, principal, mailing, mailing.channel, form, data, errors)
    try:
        mailing_service.update(session, principal.actor, mailing_id, changed)
        if launch:
            mailing_service.launch(session, principal.actor, mailing_id)
    except Conflict as error:
        rejected(session, error)
        flash(request, error.message, "danger")
        return redirect(request, f"/mailings/{mailing_id}")
    except DomainError as error:
        problems = rejected(session, error)
        return _refused(request, session, principal, mailing, mailing.channel, form, data, problems)
    flash(request, _launched_message(mailing) if launch else "The draft was saved.")
    return redirect(request, f"/mailings/{mailing_id}")


@router.get("/{mailing_id:int}/volume")
def volume(session: DbSession, _: Viewer, mailing_id: int) -> JSONResponse:
    """The messaging volume of the saved mailing if it were sent now (nothing is written)."""
    found = mailing_service.volume(session, mailing_id)
    return JSONResponse(found.model_dump())


# --- rendering -----------------------------------------------------------------------------------------


def choices(session: Session, channel: str, keep: list[int | None]) -> dict[str, Any]:
    """The options of the editor's pickers (also the names the read-only page shows)."""
    listing = MailingListing(session)
    return {
        "versions": listing.versions(TEMPLATE_CHANNELS[channel], keep),
        "sms_versions": listing.versions("sms", keep) if channel == "sms_viber" else [],
        "categories": listing.categories(),
        "segments": listing.segments(),
        "audiences": listing.audiences(),
        "watcher_groups": listing.watcher_groups(),
        "product_categories": listing.product_categories(),
        "strata": STRATA,
        "metrics": METRICS,
    }


def _kept_versions(values: dict[str, Any]) -> list[int | None]:
    kept = [values.get("template_version_id"), values.get("sms_template_version_id")]
    for variant in values.get("variants") or []:
        kept += [variant.get("template_version_id"), variant.get("sms_template_version_id")]
    return [int(v) for v in kept if isinstance(v, int) or (isinstance(v, str) and v.isdigit())]


def _editor(
    request: Request,
    session: Session,
    principal: Principal,
    mailing: Mailing | None,
    channel: str,
    values: dict[str, Any],
    errors: FormErrors,
    *,
    status: int = 200,
) -> HTMLResponse:
    shown = {_shown_key(key): text for key, text in errors.items() if SHOWN_ERRORS.match(_shown_key(key))}
    context = {
        "mailing": mailing,
        "channel": channel,
        "group": CHANNEL_GROUP[channel],
        "values": values,
        "skus_text": mailing_form.skus_text(values),
        "errors": shown,
        "stray": {key: text for key, text in errors.items() if not SHOWN_ERRORS.match(_shown_key(key))},
        "can_launch": principal.can(Permission.MAILINGS_LAUNCH),
        **choices(session, channel, _kept_versions(values)),
    }
    return render(request, "mailings/edit.html", context, status_code=status)


def _shown_key(key: str) -> str:
    """A list item's error is shown by its list (`control_strata[2]` → `control_strata`)."""
    return re.sub(r"(_ids|_strata|skus)\[\d+\]$", r"\1", key)


def _refused(
    request: Request,
    session: Session,
    principal: Principal,
    mailing: Mailing | None,
    channel: str,
    form: dict[str, Any],
    data: dict[str, Any],
    errors: FormErrors,
) -> HTMLResponse:
    """The form again with what was typed and the errors next to their fields; nothing was saved."""
    values = mailing_form.posted_values(form, data) | {"channel": channel, "name": form.get("name")}
    return _editor(request, session, principal, mailing, channel, values, errors, status=REFUSED)


def _view(request: Request, session: Session, principal: Principal, mailing: Mailing) -> HTMLResponse:
    progress = mailing_service.progress(session, [mailing.id])[mailing.id]
    values = mailing_form.form_values(mailing, request.state.general.time_zone)
    context = {
        "mailing": mailing,
        "channel": mailing.channel,
        "group": CHANNEL_GROUP[mailing.channel],
        "values": values,
        "progress": progress,
        "percent": done_share(progress),
        "active": mailing.status in ACTIVE,
        "attributed": attribution_service.summary(session, "mailing", mailing.id),
        "can_launch": principal.can(Permission.MAILINGS_LAUNCH),
        "can_edit": principal.can(Permission.MAILINGS_EDIT),
        "failures_paused": _paused_by_failures(mailing),
        **choices(session, mailing.channel, _kept_versions(values)),
    }
    return render(request, "mailings/view.html", context)


def _paused_by_failures(mailing: Mailing) -> bool:
    """Paused by the sending itself: the provider failed as many times in a row as the limit allows."""
    limit = getattr(mailing, "failure_limit", None)
    failures = getattr(mailing, "failures_in_row", 0) or 0
    return mailing.status == MailingStatus.PAUSED and failures > 0 and (limit is None or failures >= limit)


def _launched_message(mailing: Mailing) -> str:
    if mailing.status == MailingStatus.SCHEDULED:
        return lazy("The mailing was scheduled.")
    return lazy("The mailing was launched.")
