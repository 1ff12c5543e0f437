"""The Idempotency-Key header on every authenticated write of the REST API.

A write sent again with the same key and the same request gets the stored answer (same status and body,
header `Idempotent-Replayed: true`) without running again; the same key with another request is refused.
The answer is stored in the transaction of the write: the route's handler adds it after the endpoint has
returned and before the request's session commits.
"""

# No `from __future__ import annotations`: the dependency below names the route's own guard in its
# signature, which FastAPI must see as an object rather than as a string to resolve later.

import json
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Request
from fastapi.dependencies.models import Dependant
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from smartcomm.api.deps import ApiGuard
from smartcomm.api.schemas import error_responses
from smartcomm.auth.principal import Principal
from smartcomm.intake.idempotency import (
    HEADER,
    MAX_KEY_LENGTH,
    RETENTION,
    StoredAnswer,
    idempotency_service,
    request_fingerprint,
)
from smartcomm.kit.http import DbSession
from smartcomm.models import IdempotencyRecord

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
REPLAYED_HEADER = "Idempotent-Replayed"
_STATE = "idempotency"
_KEY_HELP = (
    f"Any unique string (at most {MAX_KEY_LENGTH} characters). Sending the same request again with the same "
    f"key returns the first answer without repeating the write; keys are kept "
    f"{int(RETENTION.total_seconds()) // 3600} hours."
)


class _Replay(Exception):
    """Raised by the key check to answer with the stored response instead of running the endpoint."""

    def __init__(self, answer: StoredAnswer) -> None:
        super().__init__("replay")
        self.answer = answer

    def response(self) -> Response:
        headers = {REPLAYED_HEADER: "true"}
        if self.answer.body is None:
            return Response(status_code=self.answer.status_code, headers=headers)
        return JSONResponse(self.answer.body, status_code=self.answer.status_code, headers=headers)


@dataclass
class _Pending:
    """A key reserved by this request, waiting for the endpoint's answer."""

    session: Session
    record: IdempotencyRecord

    def finish(self, response: Response) -> None:
        body = bytes(getattr(response, "body", b""))
        try:
            answer = json.loads(body) if body else None
        except ValueError:
            # Only JSON answers (or none) can be replayed faithfully.
            idempotency_service.release(self.session, self.record)
            return
        idempotency_service.complete(self.session, self.record, response.status_code, answer)


def _key_check(guard: ApiGuard) -> Callable[..., Awaitable[None]]:
    """The dependency that checks the key; it runs after `guard`, so the key is scoped by a known caller."""

    async def idempotency_key(
        request: Request,
        session: DbSession,
        principal: Annotated[Principal, Depends(guard)],
        key: Annotated[
            str | None, Header(alias=HEADER, min_length=1, max_length=MAX_KEY_LENGTH, description=_KEY_HELP)
        ] = None,
    ) -> None:
        if key is None:
            return
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        fingerprint = request_fingerprint(request.method, target, await request.body())
        claimed = await run_in_threadpool(idempotency_service.claim, session, principal.id, key, fingerprint)
        if isinstance(claimed, StoredAnswer):
            raise _Replay(claimed)
        setattr(request.state, _STATE, _Pending(session, claimed))

    return idempotency_key


def holds_idempotency_key(request: Request) -> bool:
    """Whether this request reserved an Idempotency-Key: its answer must commit with its write."""
    return isinstance(getattr(request.state, _STATE, None), _Pending)


class IdempotentRoute(APIRoute):
    """An API write whose handler replays stored answers and stores the answer of a first request."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def handle_once(request: Request) -> Response:
            try:
                response = await handle(request)
            except _Replay as replay:
                return replay.response()
            pending = getattr(request.state, _STATE, None)
            if isinstance(pending, _Pending):
                await run_in_threadpool(pending.finish, response)
            return response

        return handle_once


def protect_writes(router: APIRouter) -> APIRouter:
    """Give every write of `router` (and of the routers it includes) that needs a token the key check."""
    for route in router.routes:
        included = getattr(route, "original_router", None)
        if isinstance(included, APIRouter):
            protect_writes(included)
        elif isinstance(route, APIRoute) and set(route.methods or ()) & WRITE_METHODS:
            _protect(route)
    return router


def _protect(route: APIRoute) -> None:
    guard = _api_guard(route.dependant)
    if guard is None or isinstance(route, IdempotentRoute):
        return
    if type(route) is not APIRoute:
        raise TypeError(f"{route.path}: a custom route class cannot be given the Idempotency-Key check")
    # Included routers keep their own route objects, so a parent router's `route_class` never reaches
    # them. The route becomes idempotent here instead, before any application builds its handler.
    route.__class__ = IdempotentRoute
    route.dependencies.append(Depends(_key_check(guard)))
    # Another request holding the same key may still be running (documented for the API reference).
    route.responses = {**error_responses(409), **route.responses}


def _api_guard(dependant: Dependant) -> ApiGuard | None:
    for dependency in dependant.dependencies:
        if isinstance(dependency.call, ApiGuard):
            return dependency.call
        found = _api_guard(dependency)
        if found is not None:
            return found
    return None
