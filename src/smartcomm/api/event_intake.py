"""`POST /api/v1/events` answered without FastAPI's per-request dependency resolution.

Events are the busiest write of the API, and for a single event FastAPI's resolution of the route's
dependencies (token guard, body, key check, session) cost about as much CPU as writing the event. This
plain route checks the token, validates the body and reports errors exactly as the FastAPI route does
(`api/routes/events.py`), which stays for the API reference and for requests that carry an
Idempotency-Key or a body that is not JSON: those are left to it.
"""

from __future__ import annotations

import email.message
import json

from fastapi.exceptions import HTTPException, RequestValidationError
from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match, Route
from starlette.types import Scope

from smartcomm.api.deps import api_requires, bearer_credentials
from smartcomm.auth.permissions import Permission
from smartcomm.events.intake import event_writer
from smartcomm.events.schemas import EventBatchIn
from smartcomm.events.service import EventSubmission
from smartcomm.intake.idempotency import HEADER

PATH = "/api/v1/events"
_KEY_HEADER = HEADER.lower().encode()
_writer = api_requires(Permission.API_WRITE)


class EventIntakeRoute(Route):
    def __init__(self) -> None:
        super().__init__(PATH, post_events, methods=["POST"], include_in_schema=False)

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] != "http" or not _plain_json_write(scope):
            return Match.NONE, {}
        return super().matches(scope)


def _plain_json_write(scope: Scope) -> bool:
    """A request this route answers: a JSON body and no Idempotency-Key."""
    content_type = None
    for name, value in scope["headers"]:
        if name == _KEY_HEADER:
            return False
        if name == b"content-type":
            content_type = value.decode("latin-1")
    if content_type is None:
        return False
    message = email.message.Message()
    message["content-type"] = content_type
    subtype = message.get_content_subtype()
    return message.get_content_maintype() == "application" and (
        subtype == "json" or subtype.endswith("+json")
    )


async def post_events(request: Request) -> Response:
    principal = await _writer(request, await bearer_credentials(request))
    batch = _batch(await request.body())
    submission = EventSubmission(principal.actor, batch.events)
    answer = await event_writer.submit(submission, weight=len(batch.events))
    return Response(answer.model_dump_json(), media_type="application/json")


def _batch(body: bytes) -> EventBatchIn:
    """The body as FastAPI reads it: JSON first, then the model; errors located under `body`."""
    if not body:
        raise RequestValidationError(
            [{"type": "missing", "loc": ("body",), "msg": "Field required", "input": None}]
        )
    try:
        data = json.loads(body)
    except json.JSONDecodeError as error:
        invalid = {"type": "json_invalid", "loc": ("body", error.pos), "msg": "JSON decode error"}
        raise RequestValidationError([{**invalid, "input": {}, "ctx": {"error": error.msg}}]) from None
    except (ValueError, RecursionError) as error:  # not UTF-8, or nested beyond Python's recursion limit
        raise HTTPException(400, "There was an error parsing the body") from error
    try:
        # FastAPI validates bodies allowing attributes, which words the error for a non-object body.
        return EventBatchIn.model_validate(data, from_attributes=True)
    except ValidationError as error:
        located = [{**problem, "loc": ("body", *problem["loc"])} for problem in error.errors()]
        raise RequestValidationError(located) from None
