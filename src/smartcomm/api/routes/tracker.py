"""What the site tracker (the stock analytics.js served by smartcomm) calls at /v1, beside the Segment intake.

- `GET /v1/projects/{writeKey}/settings`: the project settings analytics.js loads at start-up instead of
  Segment's CDN, pointing its Segment.io destination at this intake;
- `POST /v1/t`, `/i`, `/p`, `/s`, `/a`, `/g`: the short paths analytics.js posts single calls to (track,
  identify, page, screen, alias, group), answered by the same handlers as the long ones;
- `POST /v1/b`: its batches (the project settings ask for them), applied in order like `/v1/batch`, except
  that a message refused on its own is left out instead of refusing the batch;
- `GET /v1/popups` and `POST /v1/popups/{id}/shown|clicked|dismissed`: the pop-up script's calls.

Browsers call these from the shop's own domain: `api/cors.py` answers their cross-origin checks.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import Depends, Path, Request
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from smartcomm.api.routes import segment
from smartcomm.api.routes.segment import Body, WriteKey, write_key_guard
from smartcomm.api.schemas import error_responses
from smartcomm.kit.errors import InvalidInput
from smartcomm.kit.http import DbSession
from smartcomm.kit.routing import PrefixRouter
from smartcomm.kit.types import MAX_INT64
from smartcomm.popups.schemas import PopupAction, PopupAnswer, PopupList, VisitorIn
from smartcomm.popups.service import popup_service
from smartcomm.tracking.project_settings import project_settings
from smartcomm.tracking.schemas import SegmentAnswer, SegmentMessage
from smartcomm.tracking.service import tracking_service

router = PrefixRouter(
    prefix="/v1", tags=["site tracker"], responses=error_responses(400, 401, 404, 413, 422, 429)
)

# analytics.js posts each call to the first letter of its type.
MAX_BATCH = 5000  # as /v1/batch
SHORT_PATHS = {
    "t": segment.track,
    "i": segment.identify,
    "p": segment.page,
    "s": segment.screen,
    "a": segment.alias,
}
for letter, endpoint in SHORT_PATHS.items():
    router.add_api_route(
        f"/{letter}", endpoint, methods=["POST"], response_model=SegmentAnswer, include_in_schema=False
    )

BATCH_PATH = re.compile(r"^batch\[(\d+)\]")
PopupId = Annotated[int, Path(ge=1, le=MAX_INT64, description="The pop-up's id")]


@router.post("/g", response_model=SegmentAnswer, include_in_schema=False)
def group(session: DbSession, write_key: WriteKey, body: Body) -> SegmentAnswer:
    """A group call: the write key is checked, the call ignored (accounts are not modelled)."""
    tracking_service.authenticate(session, write_key or body.get("writeKey"))
    return SegmentAnswer()


@router.post("/b", response_model=SegmentAnswer, include_in_schema=False)
def browser_batch(session: DbSession, write_key: WriteKey, body: Body) -> SegmentAnswer:
    """A batch from analytics.js. Each call was one user action: one that is refused (a birthday trait that
    is no date, an order without an id) must not take the others with it, which the browser would drop
    unsent — so the refused ones are left out and the rest applied, in order, in one transaction."""
    source = tracking_service.authenticate(session, write_key or body.get("writeKey"))
    indexed = _valid_messages(body)
    while indexed:
        try:
            messages = [message for _, message in indexed]
            tracking_service.process(session, source, messages, [f"batch[{i}]" for i, _ in indexed])
            break
        except InvalidInput as error:
            refused = _refused_indexes(error)
            if not refused:
                raise
            session.rollback()  # all of it, with the events it published; then again without those
            indexed = [(i, message) for i, message in indexed if i not in refused]
    return SegmentAnswer()


# The guard declares the route public (the write key, here in the path, is checked by the service).
@router.get("/projects/{write_key}/settings", dependencies=[Depends(write_key_guard)])
def settings(request: Request, session: DbSession, write_key: str) -> dict[str, Any]:
    """The project settings analytics.js loads at start-up: it sends to this server's intake."""
    source = tracking_service.authenticate(session, write_key)
    return project_settings(source, str(request.base_url))


@router.get("/popups", response_model=PopupList)
def pending_popups(request: Request, session: DbSession, write_key: WriteKey) -> PopupList:
    """The pending pop-ups of the customer the visitor (`anonymousId`, with `userId` when known) identified
    as; the write key comes as `writeKey` or as the Basic auth user name."""
    query = dict(request.query_params)
    tracking_service.authenticate(session, write_key or query.get("writeKey"))
    return PopupList(popups=popup_service.pending(session, _visitor(query)))


@router.post("/popups/{popup_id}/{action}", response_model=PopupAnswer)
def report_popup(
    session: DbSession, write_key: WriteKey, body: Body, popup_id: PopupId, action: PopupAction
) -> PopupAnswer:
    """The visitor's page showed the pop-up, its button was clicked, or it was closed."""
    tracking_service.authenticate(session, write_key or body.get("writeKey"))
    status = popup_service.report(session, popup_id, _visitor(body), action)
    return PopupAnswer(status=status)


def _valid_messages(body: dict[str, Any]) -> list[tuple[int, SegmentMessage]]:
    """The batch's messages that are well-formed, with their places in it (the others are left out)."""
    items = body.get("batch")
    if not isinstance(items, list):
        raise RequestValidationError(
            [{"type": "list_type", "loc": ("batch",), "msg": "Input should be a list"}]
        )
    context = body.get("context")
    shared: dict[str, Any] = context if isinstance(context, dict) else {}
    valid: list[tuple[int, SegmentMessage]] = []
    for index, item in enumerate(items[:MAX_BATCH]):
        try:
            message = SegmentMessage.model_validate(item)
        except ValidationError:
            continue
        message.context = {**shared, **message.context}
        valid.append((index, message))
    return valid


def _refused_indexes(error: InvalidInput) -> set[int]:
    """The places of the messages an error names (`batch[3].traits.email` names the fourth)."""
    found = {BATCH_PATH.match(problem.field) for problem in error.errors}
    return {int(match.group(1)) for match in found if match is not None}


def _visitor(data: dict[str, Any]) -> VisitorIn:
    try:
        return VisitorIn.model_validate(data)
    except ValidationError as error:
        raise RequestValidationError(error.errors()) from None
