"""Polls over the API (read-only): the polls, their responses (paged, or all of them as CSV) and a
customer's responses."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response, StreamingResponse

from smartcomm.api.deps import api_requires
from smartcomm.api.schemas import ExternalId, PageOut, PageSize, error_responses
from smartcomm.auth.permissions import Permission
from smartcomm.auth.principal import Principal
from smartcomm.customers.service import customer_service
from smartcomm.kit.http import DbSession
from smartcomm.kit.pagination import Page
from smartcomm.kit.time import utcnow
from smartcomm.kit.types import PageNumber, PathId
from smartcomm.polls import reports
from smartcomm.polls.listing import poll_answers
from smartcomm.polls.schemas import CustomerPollResponseOut, PollListItemOut, PollOut, PollResponseOut
from smartcomm.polls.service import poll_service

router = APIRouter(tags=["polls"])

Reader = Annotated[Principal, Depends(api_requires(Permission.API_READ))]
NOT_FOUND = error_responses(404)
SourceKind = Annotated[
    Literal["mailing", "campaign", "transactional"] | None,
    Query(description="Only responses by this source's links"),
]
SourceId = Annotated[int | None, Query(ge=1, le=2**31 - 1, description="The source's id (with source_kind)")]
Search = Annotated[str | None, Query(max_length=200, description="Part of the name or the code")]


def _source(kind: str | None, source_id: int | None) -> tuple[str, int] | None:
    return (kind, source_id) if kind is not None and source_id is not None else None


@router.get("/polls", response_model=PageOut[PollListItemOut])
def list_polls(
    session: DbSession, _: Reader, q: Search = None, page: PageNumber = 1, size: PageSize = 25
) -> PageOut[PollListItemOut]:
    """Polls, newest first, with the customers invited and the respondents; `q` searches name and code."""
    rows, total = poll_service.search(session, q, page, size)
    items = [
        PollListItemOut.model_validate(
            {
                **PollOut.model_validate(row.poll).model_dump(),
                "invited": row.invited,
                "respondents": row.respondents,
            }
        )
        for row in rows
    ]
    return PageOut.of(Page(items=items, total=total, page=page, size=size), PollListItemOut)


@router.get("/polls/{poll_id}", response_model=PollOut, responses=NOT_FOUND)
def get_poll(session: DbSession, _: Reader, poll_id: PathId) -> PollOut:
    """A poll with its questions (ids, types, options, matrix rows, conditions)."""
    return PollOut.model_validate(poll_service.get(session, poll_id))


@router.get("/polls/{poll_id}/answers", response_model=PageOut[PollResponseOut], responses=NOT_FOUND)
def list_answers(
    session: DbSession,
    _: Reader,
    poll_id: PathId,
    page: PageNumber = 1,
    size: PageSize = 25,
    source_kind: SourceKind = None,
    source_id: SourceId = None,
) -> PageOut[PollResponseOut]:
    """The poll's responses, newest first: customer, time, answers by question id, the message and source."""
    poll = poll_service.get(session, poll_id)
    found = poll_answers(session, poll.id, _source(source_kind, source_id), page, size)
    return PageOut.of(found, PollResponseOut)


@router.get("/polls/{poll_id}/answers.csv", response_class=StreamingResponse, responses=NOT_FOUND)
def export_answers(
    session: DbSession, _: Reader, poll_id: PathId, source_kind: SourceKind = None, source_id: SourceId = None
) -> Response:
    """Every response as CSV (`;`-separated, UTF-8 with BOM): customer id, external id, completed at,
    source, then one column per question (choices by their labels)."""
    poll = poll_service.get(session, poll_id)  # 404 before the download starts
    name = reports.file_name(poll, utcnow().date())
    return StreamingResponse(
        reports.csv_stream(poll.id, _source(source_kind, source_id)),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get(
    "/customers/{external_id}/poll-answers", response_model=list[CustomerPollResponseOut], responses=NOT_FOUND
)
def customer_poll_answers(
    session: DbSession, _: Reader, external_id: ExternalId
) -> list[CustomerPollResponseOut]:
    """The customer's responses to every poll, newest first."""
    customer = customer_service.get_by_external_id(session, external_id)
    return poll_service.customer_responses(session, customer.id)
