"""Access control for UI routes: session sign-in, permission check, CSRF on every state change."""

from __future__ import annotations

from fastapi import Depends, Request

from smartcomm.audit.actor import Actor
from smartcomm.auth.permissions import Permission, can_use_interface, role_allows
from smartcomm.auth.principal import Principal, RouteGuard
from smartcomm.auth.service import may_sign_in
from smartcomm.kit.errors import Forbidden
from smartcomm.kit.http import SAFE_METHODS, DbSession, client_ip
from smartcomm.kit.security import new_csrf_token, tokens_match
from smartcomm.models import User
from smartcomm.settings.schemas import GeneralSettings
from smartcomm.settings.service import settings_service

CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"


class LoginRequired(Exception):
    """The visitor is not signed in (or the session ended): send them to the login page."""


class CsrfFailed(Exception):
    """A state-changing request arrived without the session's CSRF token."""


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not token:
        token = new_csrf_token()
        request.session["csrf"] = token
    return str(token)


async def verify_csrf(request: Request) -> None:
    """Unsafe methods must echo the session's token in a header (htmx) or a form field."""
    if request.method in SAFE_METHODS:
        return
    given = request.headers.get(CSRF_HEADER)
    if not given:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            form = await request.form()
            value = form.get(CSRF_FIELD)
            given = value if isinstance(value, str) else None
    if not tokens_match(request.session.get("csrf"), given):
        raise CsrfFailed


def signed_in_user(request: Request, session: DbSession) -> User | None:
    user_id, version = request.session.get("uid"), request.session.get("ver")
    if not user_id:
        return None
    user = session.get(User, user_id)
    if (
        user is None
        or user.session_version != version
        or not may_sign_in(user)
        or not can_use_interface(user.role)
    ):
        request.session.pop("uid", None)
        request.session.pop("ver", None)
        return None
    return user


class UIGuard(RouteGuard):
    """Requires a signed-in staff user whose role holds `permission`."""

    surface = "ui"

    def __init__(self, permission: Permission) -> None:
        self.permission = permission

    def __call__(self, request: Request, session: DbSession, _csrf: None = Depends(verify_csrf)) -> Principal:
        user = signed_in_user(request, session)
        if user is None:
            raise LoginRequired
        principal = Principal(
            user, Actor("user", user.id, f"{user.full_name} <{user.email}>", client_ip(request))
        )
        # Set before the check so that a refusal still renders inside the user's own menu.
        request.state.principal = principal
        request.state.general = settings_service.read(session, GeneralSettings)
        assert self.permission is not None
        if not role_allows(user.role, self.permission):
            raise Forbidden()
        return principal


class PublicUI(RouteGuard):
    """A page anyone may open (login, public files). CSRF still applies to its forms."""

    surface = "ui"
    permission = None

    def __call__(self, request: Request, session: DbSession, _csrf: None = Depends(verify_csrf)) -> None:
        request.state.general = settings_service.read(session, GeneralSettings)


def requires(permission: Permission) -> UIGuard:
    return UIGuard(permission)


public = PublicUI()
