"""Sign in, sign out and the start page."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response

from smartcomm.api.ratelimit import Refusal, rate_limits_of
from smartcomm.audit.actor import Actor
from smartcomm.auth.permissions import Permission, can_use_interface
from smartcomm.auth.principal import Principal
from smartcomm.auth.service import user_service
from smartcomm.auth.sessions import EndReason, staff_sessions
from smartcomm.kit import i18n
from smartcomm.kit.http import DbSession, client_ip
from smartcomm.kit.i18n import lazy
from smartcomm.kit.redirects import safe_local_target
from smartcomm.settings.schemas import GeneralSettings
from smartcomm.web.deps import public, requires, signed_in_user, start_session
from smartcomm.web.menu import landing_url
from smartcomm.web.templating import redirect, render

router = APIRouter()

LOGIN_ERRORS = {
    "invalid": lazy("Wrong e-mail or password."),
    "locked": lazy("Too many failed attempts: the account is locked for a while. Try again later."),
    "disabled": lazy("This account is disabled. Ask your administrator."),
    "expired": lazy("This account has expired. Ask your administrator."),
    "no_interface": lazy("API users work through the REST API only."),
}


def _safe_next(value: str | None) -> str:
    """Only paths of this product are followed after sign-in (anything else is dropped: "/" it is)."""
    return safe_local_target(value) or ""


def _login_language(request: Request) -> str:
    chosen = request.query_params.get("lang")
    if chosen in i18n.LANGUAGES:
        request.session["lang"] = chosen
    general: GeneralSettings = request.state.general
    return str(request.session.get("lang") or general.default_language)


def _login_page(
    request: Request, *, email: str = "", error: str = "", next_url: str = "", status: int = 200
) -> HTMLResponse:
    request.state.language = _login_language(request)
    context = {"email": email, "error": error, "next_url": next_url}
    return render(request, "auth/login.html", context, status_code=status)


@router.get("/login", dependencies=[Depends(public)], response_class=HTMLResponse)
def login_form(request: Request, session: DbSession, next: str | None = None) -> Response:
    """The sign-in page (signed-in users go straight to their start page)."""
    if signed_in_user(request, session) is not None:
        return redirect(request, "/")
    return _login_page(request, next_url=_safe_next(next))


async def _sign_in_refusal(request: Request) -> Refusal | None:
    """Counts the attempt per client address and per e-mail (10 a minute each by default)."""
    email = (await request.form()).get("email")
    return await rate_limits_of(request).sign_in_attempt(request, email if isinstance(email, str) else None)


@router.post("/login", dependencies=[Depends(public)])
def login(
    request: Request,
    session: DbSession,
    refusal: Annotated[Refusal | None, Depends(_sign_in_refusal)],
    email: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "",
) -> Response:
    if refusal is not None:
        message = i18n.gettext_("Too many sign-in attempts. Wait %(seconds)s s and try again.") % {
            "seconds": refusal.retry_after
        }
        response = _login_page(request, email=email, error=message, next_url=_safe_next(next), status=429)
        response.headers["Retry-After"] = str(refusal.retry_after)
        return response
    result = user_service.authenticate(session, email, password, client_ip(request))
    user = result.user
    if user is not None and not can_use_interface(user.role):
        user, result.error = None, "no_interface"
    if user is None:
        message = str(LOGIN_ERRORS.get(result.error or "invalid", LOGIN_ERRORS["invalid"]))
        return _login_page(request, email=email, error=message, next_url=_safe_next(next), status=401)
    actor = Actor("user", user.id, f"{user.full_name} <{user.email}>", client_ip(request))
    user_service.record_sign_in(session, actor, user, "login")
    start_session(request, session, user)
    return redirect(request, _safe_next(next) or "/")


@router.post("/logout")
def logout(
    request: Request,
    session: DbSession,
    principal: Annotated[Principal, Depends(requires(Permission.ACCOUNT))],
) -> Response:
    user_service.record_sign_in(session, principal.actor, principal.user, "logout")
    if principal.staff_session_id is not None:
        staff_sessions.end(session, principal.staff_session_id, EndReason.LOGOUT)
    request.session.clear()
    return redirect(request, "/login")


@router.get("/")
def home(
    request: Request, principal: Annotated[Principal, Depends(requires(Permission.ACCOUNT))]
) -> Response:
    """The start page: the first section this user may open."""
    return redirect(request, landing_url(principal))
