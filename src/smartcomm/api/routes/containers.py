"""A customer's containers (cart, favourites, wishlist, …) over the API."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from smartcomm.api.deps import api_requires
from smartcomm.api.schemas import Code, ExternalId, error_responses
from smartcomm.auth.permissions import Permission
from smartcomm.auth.principal import Principal
from smartcomm.containers.schemas import ContainerChangeIn, ContainerOut
from smartcomm.containers.service import container_service
from smartcomm.customers.service import customer_service
from smartcomm.kit.http import DbSession

router = APIRouter(prefix="/customers/{external_id}/containers", tags=["containers"])


@router.post("/{code}", response_model=ContainerOut, responses=error_responses(404))
def change_container(
    session: DbSession,
    principal: Annotated[Principal, Depends(api_requires(Permission.API_WRITE))],
    external_id: ExternalId,
    code: Code,
    body: ContainerChangeIn,
) -> ContainerOut:
    """Add, remove or set products of one container of the customer, or clear it; answers its new contents."""
    customer = customer_service.get_by_external_id(session, external_id)
    return container_service.change(session, principal.actor, customer, code, body)


@router.get("", response_model=list[ContainerOut], responses=error_responses(404))
def customer_containers(
    session: DbSession,
    _: Annotated[Principal, Depends(api_requires(Permission.API_READ))],
    external_id: ExternalId,
) -> list[ContainerOut]:
    """The customer's containers with their products and the time of the last change."""
    customer = customer_service.get_by_external_id(session, external_id)
    return container_service.for_customer(session, customer.id)
