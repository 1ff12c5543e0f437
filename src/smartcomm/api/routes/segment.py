"""The Segment HTTP Tracking API at /v1, so that stock Segment (and RudderStack) SDKs send to smartcomm.

Authentication is the event source's write key: the HTTP Basic user name with an empty password, or
`writeKey` in the body. Every message is applied in the request's transaction; a repeated `messageId` is
accepted and ignored. Answers are `{"success": true}` like Segment's.
"""

from __future__ import annotations

import json
import zlib
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from fastapi.exceptions import RequestValidationError
from fastapi.security import HTTPBasic, HTTPBasicCredentials
from pydantic import BaseModel, ValidationError

from smartcomm.api.schemas import error_responses
from smartcomm.auth.principal import RouteGuard
from smartcomm.kit.errors import DomainError
from smartcomm.kit.http import DbSession
from smartcomm.kit.routing import PrefixRouter
from smartcomm.tracking.schemas import MessageType, SegmentAnswer, SegmentBatch, SegmentMessage
from smartcomm.tracking.service import tracking_service

MAX_BODY_BYTES = 500 * 1024
ModelT = TypeVar("ModelT", bound=BaseModel)

_basic = HTTPBasic(auto_error=False, description="User name: the event source's write key; password: empty")


class SegmentWriteKey(RouteGuard):
    """A public route of the tracking intake: the caller proves itself with an event source's write key,
    which the tracking service checks (401 for an unknown or inactive one)."""

    surface = "api"
    permission = None

    def __call__(self, credentials: Annotated[HTTPBasicCredentials | None, Depends(_basic)]) -> str | None:
        return credentials.username if credentials else None


write_key_guard = SegmentWriteKey()
WriteKey = Annotated[str | None, Depends(write_key_guard)]


async def _json_body(request: Request) -> dict[str, Any]:
    """The JSON object of the body (gzip allowed), at most 500 KB once unpacked."""
    raw = await request.body()
    if len(raw) > MAX_BODY_BYTES:
        raise _too_large()
    if request.headers.get("content-encoding", "").lower() == "gzip":
        try:
            unpacker = zlib.decompressobj(16 + zlib.MAX_WBITS)
            raw = unpacker.decompress(raw, MAX_BODY_BYTES + 1)
        except zlib.error as error:
            raise DomainError("The body is not valid gzip", 400, "invalid_body") from error
        if len(raw) > MAX_BODY_BYTES or unpacker.unconsumed_tail:
            raise _too_large()
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError) as error:
        raise DomainError("The body is not valid JSON", 400, "invalid_body") from error
    if not isinstance(data, dict):
        raise DomainError("The body must be a JSON object", 400, "invalid_body")
    return data


def _too_large() -> DomainError:
    # Worded and coded like the API's own body limit (api/body_limit.py), which counts the bytes sent.
    title = f"The body is too large once unpacked: the limit is {MAX_BODY_BYTES} bytes"
    return DomainError(title, 413, "body_too_large")


Body = Annotated[dict[str, Any], Depends(_json_body)]

router = PrefixRouter(
    prefix="/v1", tags=["tracking (Segment spec)"], responses=error_responses(400, 401, 413, 422, 429)
)


def _parse(model: type[ModelT], data: dict[str, Any]) -> ModelT:
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise RequestValidationError(error.errors()) from None


def _single(
    session: DbSession, write_key: str | None, body: dict[str, Any], kind: MessageType
) -> SegmentAnswer:
    source = tracking_service.authenticate(session, write_key or body.get("writeKey"))
    message = _parse(SegmentMessage, body)
    message.type = kind
    tracking_service.process(session, source, [message], [""])
    return SegmentAnswer()


@router.post("/batch", response_model=SegmentAnswer)
def batch(session: DbSession, write_key: WriteKey, body: Body) -> SegmentAnswer:
    """Messages of any type (`batch`, at most 500 KB), applied in order in one transaction."""
    source = tracking_service.authenticate(session, write_key or body.get("writeKey"))
    data = _parse(SegmentBatch, body)
    for message in data.batch:
        message.context = {**data.context, **message.context}
    paths = [f"batch[{index}]" for index in range(len(data.batch))]
    tracking_service.process(session, source, data.batch, paths)
    return SegmentAnswer()


@router.post("/identify", response_model=SegmentAnswer)
def identify(session: DbSession, write_key: WriteKey, body: Body) -> SegmentAnswer:
    """Create or update the customer `userId` from its traits and merge the `anonymousId` visitor into it."""
    return _single(session, write_key, body, "identify")


@router.post("/track", response_model=SegmentAnswer)
def track(session: DbSession, write_key: WriteKey, body: Body) -> SegmentAnswer:
    """An event with its properties; the purchase event (`Order Completed`) also makes a receipt."""
    return _single(session, write_key, body, "track")


@router.post("/page", response_model=SegmentAnswer)
def page(session: DbSession, write_key: WriteKey, body: Body) -> SegmentAnswer:
    """A page view: a visit when it opens a session, else a section view named after the page."""
    return _single(session, write_key, body, "page")


@router.post("/screen", response_model=SegmentAnswer)
def screen(session: DbSession, write_key: WriteKey, body: Body) -> SegmentAnswer:
    """An app screen view, recorded like a page view."""
    return _single(session, write_key, body, "screen")


@router.post("/alias", response_model=SegmentAnswer)
def alias(session: DbSession, write_key: WriteKey, body: Body) -> SegmentAnswer:
    """Merge the visitor `previousId` into the customer `userId`."""
    return _single(session, write_key, body, "alias")
