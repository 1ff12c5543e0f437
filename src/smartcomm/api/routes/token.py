"""POST /api/v1/token: exchange the credentials of an API user for a bearer token."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from smartcomm.api.deps import public_api
from smartcomm.audit.actor import Actor
from smartcomm.auth.permissions import Role
from smartcomm.auth.schemas import TokenOut, TokenRequest
from smartcomm.auth.service import user_service
from smartcomm.kit.errors import Forbidden, Unauthorized
from smartcomm.kit.http import DbSession, client_ip
from smartcomm.kit.security import issue_api_token

router = APIRouter(tags=["auth"])


@router.post("/token", response_model=TokenOut, dependencies=[Depends(public_api)])
def create_token(request: Request, session: DbSession, body: TokenRequest) -> TokenOut:
    """Get a bearer token for a user with the API role (send it as `Authorization: Bearer …`)."""
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
