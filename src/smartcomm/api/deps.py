"""Access control for the REST API: bearer tokens of users with the API role."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from smartcomm.audit.actor import Actor
from smartcomm.auth.checked_tokens import checked_tokens
from smartcomm.auth.permissions import Permission, role_allows
from smartcomm.auth.principal import Principal, RouteGuard
from smartcomm.auth.service import may_sign_in
from smartcomm.kit.db import session_scope
from smartcomm.kit.errors import Forbidden, Unauthorized
from smartcomm.kit.http import client_ip
from smartcomm.kit.security import read_api_token
from smartcomm.kit.types import MAX_INT64
from smartcomm.models import User

_bearer = HTTPBearer(auto_error=False, description="A token from POST /api/v1/token")


class ApiGuard(RouteGuard):
    """Requires a valid bearer token whose user's role holds `permission`."""

    surface = "api"

    def __init__(self, permission: Permission) -> None:
        self.permission = permission

    async def __call__(
        self,
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> Principal:
        user = await _user_from_token(credentials)
        assert self.permission is not None
        if not role_allows(user.role, self.permission):
            raise Forbidden("This token does not give access to this endpoint")
        principal = Principal(
            user, Actor("api", user.id, f"{user.full_name} <{user.email}>", client_ip(request))
        )
        request.state.principal = principal
        return principal


async def _user_from_token(credentials: HTTPAuthorizationCredentials | None) -> User:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorized("Send a bearer token from POST /api/v1/token")
    token = credentials.credentials
    user = checked_tokens.user(token)
    if user is not None:
        return user
    claims = read_api_token(token)
    if claims is None:
        raise Unauthorized("The token is invalid or has expired")
    user = await run_in_threadpool(_token_user, claims)
    checked_tokens.remember(token, user, float(claims["exp"]))
    return user


def _token_user(claims: dict[str, Any]) -> User:
    # A read of its own: the request's transaction (on SQLite, its write lock) starts only when the
    # endpoint writes, and writes that are grouped across requests never need it at all.
    user_id = _subject(claims)
    if user_id is None:
        raise Unauthorized("The token is invalid or has expired")
    with session_scope(read_only=True) as session:
        user = session.get(User, user_id)
    version = claims.get("ver")
    if user is None or type(version) is not int or user.session_version != version or not may_sign_in(user):
        raise Unauthorized("The token is no longer valid")
    return user


def _subject(claims: dict[str, Any]) -> int | None:
    """The user id a token names; a validly signed token may still carry any text there."""
    subject = claims.get("sub")
    if not isinstance(subject, str) or not (subject.isascii() and subject.isdigit()):
        return None
    user_id = int(subject)
    return user_id if 0 < user_id <= MAX_INT64 else None


class PublicApi(RouteGuard):
    """An endpoint that needs no token (only the token endpoint itself)."""

    surface = "api"
    permission = None

    async def __call__(self) -> None:
        return None


def api_requires(permission: Permission) -> ApiGuard:
    return ApiGuard(permission)


public_api = PublicApi()


async def bearer_credentials(request: Request) -> HTTPAuthorizationCredentials | None:
    """The request's bearer credentials, for routes that check the token without FastAPI's dependencies."""
    return await _bearer(request)
