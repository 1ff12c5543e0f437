"""Segments over the API: rule trees, live counts, builds, members, and the metric catalogue."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Response, status

from smartcomm.api.deps import api_requires
from smartcomm.api.schemas import ExternalId, PageOut, PageSize, SearchText, error_responses
from smartcomm.auth.permissions import Permission
from smartcomm.auth.principal import Principal
from smartcomm.customers.service import customer_service
from smartcomm.kit.http import DbSession
from smartcomm.kit.pagination import PageParams
from smartcomm.kit.types import PageNumber, PathId
from smartcomm.models import Customer
from smartcomm.segments.rules import SegmentRules
from smartcomm.segments.schemas import (
    BuildOut,
    BuildQueuedOut,
    CustomerSegmentOut,
    MetricOut,
    PreviewOut,
    SegmentIn,
    SegmentMemberOut,
    SegmentOut,
    SegmentUpdate,
)
from smartcomm.segments.service import segment_service

router = APIRouter(tags=["segments"])

Reader = Annotated[Principal, Depends(api_requires(Permission.API_READ))]
Writer = Annotated[Principal, Depends(api_requires(Permission.API_WRITE))]
NOT_FOUND = error_responses(404)


@router.get("/segments", response_model=PageOut[SegmentOut])
def list_segments(
    session: DbSession, _: Reader, q: SearchText = "", page: PageNumber = 1, size: PageSize = 50
) -> PageOut[SegmentOut]:
    """Segments by name with their figures as of the last build; `q` keeps those whose name contains it."""
    found = segment_service.search(session, PageParams(page=page, size=size), q.strip())
    return PageOut.of(found, SegmentOut)


@router.post(
    "/segments",
    response_model=SegmentOut,
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(409),
)
def create_segment(session: DbSession, principal: Writer, body: SegmentIn) -> SegmentOut:
    """Create a segment; it is built right after. An invalid condition answers 422 naming its path."""
    return SegmentOut.model_validate(segment_service.create(session, principal.actor, body))


@router.get("/segments/metrics", response_model=list[MetricOut])
def metric_catalogue(session: DbSession, _: Reader) -> list[MetricOut]:
    """Every metric a condition may use: key, label, group, value type, operators, parameters, choices."""
    return segment_service.catalogue(session)


@router.post("/segments/preview", response_model=PreviewOut)
def preview(session: DbSession, _: Reader, body: SegmentRules) -> PreviewOut:
    """How many customers a rule tree selects right now, without saving anything."""
    return segment_service.preview(session, body)


@router.get("/segments/{segment_id}", response_model=SegmentOut, responses=NOT_FOUND)
def get_segment(session: DbSession, _: Reader, segment_id: PathId) -> SegmentOut:
    """One segment with its rules and figures."""
    return SegmentOut.model_validate(segment_service.get(session, segment_id))


@router.patch("/segments/{segment_id}", response_model=SegmentOut, responses=error_responses(404, 409))
def update_segment(
    session: DbSession, principal: Writer, segment_id: PathId, body: SegmentUpdate
) -> SegmentOut:
    """Rename, describe or change the rules (fields not sent stay); new rules rebuild the segment."""
    return SegmentOut.model_validate(segment_service.update(session, principal.actor, segment_id, body))


@router.delete(
    "/segments/{segment_id}", status_code=status.HTTP_204_NO_CONTENT, responses=error_responses(404, 409)
)
def delete_segment(session: DbSession, principal: Writer, segment_id: PathId) -> Response:
    """Delete a segment; one that another segment or the RFM settings rely on answers 409."""
    segment_service.delete(session, principal.actor, segment_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/segments/{segment_id}/builds",
    response_model=BuildQueuedOut,
    status_code=status.HTTP_202_ACCEPTED,
    responses=NOT_FOUND,
)
def start_build(session: DbSession, principal: Writer, segment_id: PathId) -> BuildQueuedOut:
    """Queue a build now; follow it with GET /segments/{id}/builds."""
    segment = segment_service.request_build(session, principal.actor, segment_id)
    return BuildQueuedOut(segment_id=segment.id, status="queued")


@router.get("/segments/{segment_id}/builds", response_model=list[BuildOut], responses=NOT_FOUND)
def list_builds(session: DbSession, _: Reader, segment_id: PathId) -> list[BuildOut]:
    """The last 20 builds, newest first: trigger, timing, members, entered, exited, status and error."""
    segment = segment_service.get(session, segment_id)
    return [BuildOut.model_validate(build) for build in segment_service.builds(session, segment.id)]


@router.get("/segments/{segment_id}/members", response_model=PageOut[SegmentMemberOut], responses=NOT_FOUND)
def list_members(
    session: DbSession, _: Reader, segment_id: PathId, page: PageNumber = 1, size: PageSize = 50
) -> PageOut[SegmentMemberOut]:
    """Current members (as of the last build) by name, with the moment each entered."""
    segment = segment_service.get(session, segment_id)
    found = segment_service.member_rows(session, segment.id, PageParams(page=page, size=size))
    items = [_member(customer, entered_at) for customer, entered_at in found.items]
    return PageOut[SegmentMemberOut](
        items=items, total=found.total, page=found.page, size=found.size, pages=found.pages
    )


@router.get("/customers/{external_id}/segments", response_model=list[CustomerSegmentOut], responses=NOT_FOUND)
def customer_segments(
    session: DbSession,
    _: Reader,
    external_id: ExternalId,
) -> list[CustomerSegmentOut]:
    """The segments a customer is in as of their last builds, by name, with the moment each was entered."""
    customer = customer_service.get_by_external_id(session, external_id)
    return [
        CustomerSegmentOut(id=segment.id, name=segment.name, entered_at=stay.entered_at)
        for segment, stay in segment_service.segments_of(session, customer.id)
    ]


def _member(customer: Customer, entered_at: datetime) -> SegmentMemberOut:
    return SegmentMemberOut(
        id=customer.id,
        external_id=customer.external_id,
        last_name=customer.last_name,
        first_name=customer.first_name,
        email=customer.email,
        phone=customer.phone,
        entered_at=entered_at,
    )
