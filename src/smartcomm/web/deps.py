"""Access control for UI routes: session sign-in, permission check, CSRF on every state change."""

from __future__ import annotations

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from smartcomm.audit.actor import Actor
from smartcomm.auth.permissions import Permission, can_use_interface, role_allows
from smartcomm.auth.principal import Principal, RouteGuard
from smartcomm.auth.service import may_sign_in
from smartcomm.auth.sessions import staff_sessions
from smartcomm.kit.db import session_scope
from smartcomm.kit.errors import Forbidden
from smartcomm.kit.http import SAFE_METHODS, DbSession, client_ip
from smartcomm.kit.security import new_csrf_token, tokens_match
from smartcomm.kit.time import utcnow
from smartcomm.models import User
from smartcomm.models.users import StaffSession
from smartcomm.settings.schemas import GeneralSettings
from smartcomm.settings.service import settings_service

CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
# The cookie's key holding the token of the server-side session (auth/sessions.py).
SESSION_TOKEN_KEY = "sid"  # noqa: S105 (a key name, not a secret)


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


def start_session(request: Request, session: Session, user: User) -> None:
    """Sign the browser in: a new server-side session, a fresh cookie and a fresh CSRF token (a token
    seen before sign-in, on a shared computer say, must not work for the signed-in user)."""
    _, token = staff_sessions.start(session, user, client_ip(request), request.headers.get("user-agent"))
    request.session.clear()
    request.session.update({SESSION_TOKEN_KEY: token, "lang": user.language, "csrf": new_csrf_token()})


def signed_in_user(request: Request, session: DbSession) -> User | None:
    """The user of the request's open server-side session, if any (a copied cookie of an ended one is not)."""
    token = request.session.get(SESSION_TOKEN_KEY)
    found = staff_sessions.resolve(session, token) if isinstance(token, str) and token else None
    if found is None or not may_sign_in(found[1]) or not can_use_interface(found[1].role):
        for key in (SESSION_TOKEN_KEY, "uid", "ver"):  # uid/ver: cookies of the stateless sessions before
            request.session.pop(key, None)
        return None
    row, user = found
    request.state.staff_session_id = row.id
    _note_activity(request, session, row)
    return user


def _note_activity(request: Request, session: Session, row: StaffSession) -> None:
    now = utcnow()
    if not staff_sessions.needs_touch(row, now):
        return
    if request.method not in SAFE_METHODS:  # the request writes anyway: in its own transaction
        staff_sessions.touch(session, row.id, now)
        return
    # A page view reads in a read transaction (on SQLite, beside writers): the rare write goes apart.
    with session_scope() as writer:
        staff_sessions.touch(writer, row.id, now)


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
            user,
            Actor("user", user.id, f"{user.full_name} <{user.email}>", client_ip(request)),
            staff_session_id=request.state.staff_session_id,
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
