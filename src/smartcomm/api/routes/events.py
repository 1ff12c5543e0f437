"""Customer and system events, web events, and a customer's behaviour history over the API."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool

from smartcomm.api.deps import api_requires
from smartcomm.api.idempotency import holds_idempotency_key
from smartcomm.api.schemas import ExternalId, PageOut, PageSize, error_responses
from smartcomm.auth.permissions import Permission
from smartcomm.auth.principal import Principal
from smartcomm.customers.service import customer_service
from smartcomm.events.intake import event_writer
from smartcomm.events.schemas import (
    EventBatchIn,
    EventBatchOut,
    EventOut,
    WebEventBatchIn,
    WebEventOut,
    WebSessionOut,
)
from smartcomm.events.service import EventSubmission, event_service
from smartcomm.events.web_events import web_event_service
from smartcomm.kit.http import DbSession
from smartcomm.kit.pagination import PageParams
from smartcomm.kit.types import PageNumber

router = APIRouter(tags=["events"])

Writer = Annotated[Principal, Depends(api_requires(Permission.API_WRITE))]
Reader = Annotated[Principal, Depends(api_requires(Permission.API_READ))]
NOT_FOUND = error_responses(404)


@router.post("/events", response_model=EventBatchOut)
async def post_events(
    request: Request, session: DbSession, principal: Writer, body: EventBatchIn
) -> EventBatchOut:
    """Store 1 to 1,000 customer or system events; events whose message_id is already stored are ignored."""
    if holds_idempotency_key(request):
        # The stored answer commits with the events, so this request writes in its own transaction.
        return await run_in_threadpool(event_service.record, session, principal.actor, body.events)
    submission = EventSubmission(principal.actor, body.events)
    return await event_writer.submit(submission, weight=len(body.events))


@router.post("/web-events", response_model=EventBatchOut)
def post_web_events(session: DbSession, principal: Writer, body: WebEventBatchIn) -> EventBatchOut:
    """Store 1 to 1,000 web events (visits, views, container changes, logins, orders)."""
    return web_event_service.record(session, principal.actor, body.web_events)


@router.get("/customers/{external_id}/events", response_model=PageOut[EventOut], responses=NOT_FOUND)
def customer_events(
    session: DbSession, _: Reader, external_id: ExternalId, page: PageNumber = 1, size: PageSize = 50
) -> PageOut[EventOut]:
    """A customer's events, newest first."""
    customer = customer_service.get_by_external_id(session, external_id)
    result = event_service.for_customer(session, customer.id, PageParams(page=page, size=size))
    return PageOut.of(result, EventOut)


@router.get("/customers/{external_id}/web-events", response_model=PageOut[WebEventOut], responses=NOT_FOUND)
def customer_web_events(
    session: DbSession, _: Reader, external_id: ExternalId, page: PageNumber = 1, size: PageSize = 50
) -> PageOut[WebEventOut]:
    """A customer's web events (including the anonymous ones attached on identification), newest first."""
    customer = customer_service.get_by_external_id(session, external_id)
    result = web_event_service.for_customer(session, customer.id, PageParams(page=page, size=size))
    return PageOut.of(result, WebEventOut)


@router.get(
    "/customers/{external_id}/web-sessions", response_model=PageOut[WebSessionOut], responses=NOT_FOUND
)
def customer_web_sessions(
    session: DbSession, _: Reader, external_id: ExternalId, page: PageNumber = 1, size: PageSize = 50
) -> PageOut[WebSessionOut]:
    """A customer's sessions on sites and apps, newest first."""
    customer = customer_service.get_by_external_id(session, external_id)
    result = web_event_service.sessions_of(session, customer.id, PageParams(page=page, size=size))
    return PageOut.of(result, WebSessionOut)
