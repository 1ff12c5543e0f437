"""My account: every staff user's own name, interface language, password and signed-in browsers."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from smartcomm.auth.permissions import Permission
from smartcomm.auth.principal import Principal
from smartcomm.auth.schemas import AccountUpdate, PasswordChange
from smartcomm.auth.service import user_service
from smartcomm.auth.sessions import staff_sessions
from smartcomm.kit.errors import DomainError
from smartcomm.kit.http import DbSession
from smartcomm.web.deps import requires
from smartcomm.web.forms import FormErrors, PostedForm, rejected, validate_form
from smartcomm.web.templating import flash, redirect, render

router = APIRouter(prefix="/account")
# (token in the user agent, name shown): the first browser and the first system found name a session.
BROWSERS = (
    ("Edg/", "Edge"),
    ("OPR/", "Opera"),
    ("Firefox/", "Firefox"),
    ("Chrome/", "Chrome"),
    ("Chromium/", "Chromium"),
    ("Safari/", "Safari"),
)
SYSTEMS = (
    ("Windows", "Windows"),
    ("Android", "Android"),
    ("iPhone", "iOS"),
    ("iPad", "iOS"),
    ("Mac OS X", "macOS"),
    ("CrOS", "ChromeOS"),
    ("Linux", "Linux"),
)
Account = Annotated[Principal, Depends(requires(Permission.ACCOUNT))]


def _page(
    request: Request,
    session: DbSession,
    principal: Principal,
    *,
    profile_errors: FormErrors | None = None,
    password_errors: FormErrors | None = None,
    status: int = 200,
) -> HTMLResponse:
    context = {
        "profile_errors": profile_errors or {},
        "password_errors": password_errors or {},
        "me": principal.user,
        "sessions": staff_sessions.open_sessions(session, principal.id),
        "device_of": device_label,
        "current_session_id": principal.staff_session_id,
    }
    return render(request, "account/index.html", context, status_code=status)


def device_label(user_agent: str | None) -> str:
    """ "Firefox on Linux" from a user agent string; the string itself when nothing is recognised."""
    text = user_agent or ""
    browser = next((name for token, name in BROWSERS if token in text), "")
    system = next((name for token, name in SYSTEMS if token in text), "")
    if browser and system:
        return f"{browser} · {system}"
    return browser or system or text[:60]


@router.get("", response_class=HTMLResponse)
def account(request: Request, session: DbSession, principal: Account) -> Response:
    """The signed-in user's own account."""
    return _page(request, session, principal)


@router.post("")
def update_account(request: Request, session: DbSession, principal: Account, form: PostedForm) -> Response:
    data, errors = validate_form(AccountUpdate, form)
    if data is None:
        return _page(request, session, principal, profile_errors=errors, status=422)
    user_service.update_account(session, principal.actor, principal.user, data)
    request.session["lang"] = data.language
    flash(request, "Your account was saved.")
    return redirect(request, "/account")


@router.post("/password")
def change_password(request: Request, session: DbSession, principal: Account, form: PostedForm) -> Response:
    data, errors = validate_form(PasswordChange, form)
    if data is None:
        return _page(request, session, principal, password_errors=errors, status=422)
    try:
        user_service.change_own_password(
            session, principal.actor, principal.user, data, current_session_id=principal.staff_session_id
        )
    except DomainError as error:
        errors = rejected(session, error)
        return _page(request, session, principal, password_errors=errors, status=error.status_code)
    flash(request, "Your password was changed. Your other sessions were signed out.")
    return redirect(request, "/account")


@router.post("/sessions/end-others")
def end_other_sessions(request: Request, session: DbSession, principal: Account) -> Response:
    """Sign out every other browser this user is signed in on (this one stays signed in)."""
    user_service.end_other_sessions(session, principal.actor, principal.user, principal.staff_session_id)
    flash(request, "Your other sessions were signed out.")
    return redirect(request, "/account")
