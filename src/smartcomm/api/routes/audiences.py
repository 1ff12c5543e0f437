"""Target audiences over the API: the lists, their members, and the audiences of a customer."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response, status

from smartcomm.api.deps import api_requires
from smartcomm.api.schemas import ExternalId, PageOut, PageSize, SearchText, error_responses
from smartcomm.audiences.schemas import (
    AudienceIn,
    AudienceOut,
    AudienceUpdate,
    CustomerAudienceOut,
    MemberOut,
    MembersAddedOut,
    MembersIn,
    MembersRemovedOut,
)
from smartcomm.audiences.service import audience_service
from smartcomm.auth.permissions import Permission
from smartcomm.auth.principal import Principal
from smartcomm.customers.service import customer_service
from smartcomm.kit.http import DbSession
from smartcomm.kit.pagination import PageParams
from smartcomm.kit.types import PageNumber, PathId
from smartcomm.settings.schemas import GeneralSettings
from smartcomm.settings.service import settings_service

router = APIRouter(tags=["target audiences"])

Reader = Annotated[Principal, Depends(api_requires(Permission.API_READ))]
Writer = Annotated[Principal, Depends(api_requires(Permission.API_WRITE))]
NOT_FOUND = error_responses(404)


@router.get("/audiences", response_model=PageOut[AudienceOut])
def list_audiences(
    session: DbSession, _: Reader, q: SearchText = "", page: PageNumber = 1, size: PageSize = 50
) -> PageOut[AudienceOut]:
    """Target audiences by name; `q` keeps those whose name contains it."""
    found = audience_service.search(session, PageParams(page=page, size=size), q.strip())
    return PageOut.of(found, AudienceOut)


@router.post(
    "/audiences",
    response_model=AudienceOut,
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(409),
)
def create_audience(session: DbSession, principal: Writer, body: AudienceIn) -> AudienceOut:
    """Create an empty audience; a name already taken (in any case) answers 409."""
    return AudienceOut.model_validate(audience_service.create(session, principal.actor, body))


@router.get("/audiences/{audience_id}", response_model=AudienceOut, responses=NOT_FOUND)
def get_audience(session: DbSession, _: Reader, audience_id: PathId) -> AudienceOut:
    """One audience with its member count."""
    return AudienceOut.model_validate(audience_service.get(session, audience_id))


@router.patch("/audiences/{audience_id}", response_model=AudienceOut, responses=error_responses(404, 409))
def update_audience(
    session: DbSession, principal: Writer, audience_id: PathId, body: AudienceUpdate
) -> AudienceOut:
    """Rename an audience or change its description (fields not sent stay)."""
    return AudienceOut.model_validate(audience_service.update(session, principal.actor, audience_id, body))


@router.delete(
    "/audiences/{audience_id}", status_code=status.HTTP_204_NO_CONTENT, responses=error_responses(404, 409)
)
def delete_audience(session: DbSession, principal: Writer, audience_id: PathId) -> Response:
    """Delete an audience; one used in a segment's conditions answers 409 naming the segments."""
    audience_service.delete(session, principal.actor, audience_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/audiences/{audience_id}/members", response_model=PageOut[MemberOut], responses=NOT_FOUND)
def list_members(
    session: DbSession, _: Reader, audience_id: PathId, page: PageNumber = 1, size: PageSize = 50
) -> PageOut[MemberOut]:
    """Members by name with their contacts and the date they were added."""
    audience = audience_service.get(session, audience_id)
    country = settings_service.read(session, GeneralSettings).sms_default_country
    found = audience_service.members(session, audience.id, PageParams(page=page, size=size), "", country)
    items = [row.out() for row in found.items]
    return PageOut[MemberOut](
        items=items, total=found.total, page=found.page, size=found.size, pages=found.pages
    )


@router.post("/audiences/{audience_id}/members", response_model=MembersAddedOut, responses=NOT_FOUND)
def add_members(
    session: DbSession, principal: Writer, audience_id: PathId, body: MembersIn
) -> MembersAddedOut:
    """Add up to 10,000 customers by `external_ids` or `customer_ids`; unknown ids are listed in `unknown`."""
    return audience_service.add_members(session, principal.actor, audience_id, body)


@router.delete("/audiences/{audience_id}/members", response_model=MembersRemovedOut, responses=NOT_FOUND)
def remove_members(
    session: DbSession, principal: Writer, audience_id: PathId, body: MembersIn
) -> MembersRemovedOut:
    """Remove up to 10,000 customers by `external_ids` or `customer_ids`; unknown ids are listed."""
    return audience_service.remove_members(session, principal.actor, audience_id, body)


@router.get(
    "/customers/{external_id}/audiences", response_model=list[CustomerAudienceOut], responses=NOT_FOUND
)
def customer_audiences(
    session: DbSession,
    _: Reader,
    external_id: ExternalId,
) -> list[CustomerAudienceOut]:
    """The target audiences a customer is in, by name, with the date the customer was added."""
    customer = customer_service.get_by_external_id(session, external_id)
    return [
        CustomerAudienceOut(id=audience.id, name=audience.name, added_at=added_at)
        for audience, added_at in audience_service.audiences_of(session, customer.id)
    ]
