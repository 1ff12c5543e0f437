"""The versioned REST API under /api/v1."""

from __future__ import annotations

from fastapi import APIRouter

from smartcomm.api.idempotency import protect_writes
from smartcomm.api.routes import (
    audiences,
    audit,
    campaign_reports,
    campaigns,
    catalog,
    containers,
    customers,
    events,
    global_control,
    loyalty,
    mailing_reports,
    mailings,
    messages,
    orders,
    polls,
    promocodes,
    receipts,
    rfm,
    segment,
    segments,
    templates,
    token,
    tracker,
)
from smartcomm.api.schemas import COMMON_ERRORS, error_responses
from smartcomm.kit.routing import PrefixRouter

ERROR_RESPONSES = error_responses(*COMMON_ERRORS)


def build_router() -> APIRouter:
    router = PrefixRouter(prefix="/api/v1", responses=ERROR_RESPONSES)
    # Requests are matched against the routers in this order: the busiest intake comes first.
    for module in (
        events,
        receipts,
        customers,
        token,
        containers,
        catalog,
        segments,
        audiences,
        rfm,
        audit,
        templates,
        messages,
        mailings,
        mailing_reports,
        campaign_reports,
        promocodes,
        polls,
        campaigns,
        global_control,
        orders,
        loyalty,
    ):
        router.include_router(module.router)
    return protect_writes(router)


def build_segment_router() -> APIRouter:
    """The Segment-spec intake lives at /v1 so that stock Segment and RudderStack SDKs reach it unchanged."""
    return segment.router


def build_tracker_router() -> APIRouter:
    """What the site tracker calls at /v1 besides the intake: its project settings, the short paths
    analytics.js posts to, and the pop-up script's calls."""
    return tracker.router


def build_callback_router() -> APIRouter:
    """Providers' delivery receipts at /callbacks/{channel}/{provider_id}, outside the versioned API."""
    return messages.callbacks
