"""The versioned REST API under /api/v1."""

from __future__ import annotations

from fastapi import APIRouter

from smartcomm.api.idempotency import protect_writes
from smartcomm.api.routes import (
    audiences,
    audit,
    catalog,
    containers,
    customers,
    events,
    receipts,
    rfm,
    segment,
    segments,
    token,
)
from smartcomm.api.schemas import ErrorBody
from smartcomm.kit.routing import PrefixRouter

ERROR_RESPONSES: dict[int | str, dict[str, object]] = {
    401: {"model": ErrorBody, "description": "Missing or invalid token"},
    403: {"model": ErrorBody, "description": "The token's role may not use this endpoint"},
    422: {"model": ErrorBody, "description": "Invalid input; each error names its field"},
    429: {"model": ErrorBody, "description": "More than the allowed requests per minute from this address"},
}


def build_router() -> APIRouter:
    router = PrefixRouter(prefix="/api/v1", responses=ERROR_RESPONSES)
    # Requests are matched against the routers in this order: the busiest intake comes first.
    for module in (events, receipts, customers, token, containers, catalog, segments, audiences, rfm, audit):
        router.include_router(module.router)
    return protect_writes(router)


def build_segment_router() -> APIRouter:
    """The Segment-spec intake lives at /v1 so that stock Segment and RudderStack SDKs reach it unchanged."""
    return segment.router
