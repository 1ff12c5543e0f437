"""POST /api/v1/token: exchange the credentials of an API user for a bearer token."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from smartcomm.api.deps import public_api
from smartcomm.api.ratelimit import Refusal, rate_limits_of
from smartcomm.audit.actor import Actor
from smartcomm.auth.permissions import Role
from smartcomm.auth.schemas import TokenOut, TokenRequest
from smartcomm.auth.service import user_service
from smartcomm.kit.errors import Forbidden, Unauthorized
from smartcomm.kit.http import DbSession, client_ip
from smartcomm.kit.security import issue_api_token

router = APIRouter(tags=["auth"])


async def _sign_in_refusal(request: Request) -> Refusal | None:
    """Counts the attempt per client address and per user name (10 a minute each by default)."""
    try:
        body: Any = await request.json()
    except ValueError:
        body = None
    username = body.get("username") if isinstance(body, dict) else None
    account = username if isinstance(username, str) else None
    return await rate_limits_of(request).sign_in_attempt(request, account)


@router.post(
    "/token",
    response_model=TokenOut,
    dependencies=[Depends(public_api)],
    responses={429: {"description": "Too many sign-in attempts from this address or for this user name"}},
)
def create_token(
    request: Request,
    session: DbSession,
    body: TokenRequest,
    refusal: Annotated[Refusal | None, Depends(_sign_in_refusal)],
) -> TokenOut | Response:
    """Get a bearer token for a user with the API role (send it as `Authorization: Bearer …`)."""
    if refusal is not None:
        return refusal.json_response()
    result = user_service.authenticate(session, body.username, body.password, client_ip(request))
    if result.user is None:
        # Failures are counted by `authenticate`; the request must still commit them.
        session.commit()
        raise Unauthorized(
            "Wrong username or password" if result.error == "invalid" else f"Sign-in refused: {result.error}"
        )
    user = result.user
    if user.role != Role.API:
        raise Forbidden("Only users with the API role can obtain API tokens")
    token, lifetime = issue_api_token(user.id, user.session_version)
    actor = Actor("api", user.id, f"{user.full_name} <{user.email}>", client_ip(request))
    user_service.record_sign_in(session, actor, user, "token")
    return TokenOut(access_token=token, expires_in=lifetime)
