"""RFM analysis over the API: the calculations with their thresholds and cells, and a customer's cell."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, status

from smartcomm.api.deps import api_requires
from smartcomm.api.schemas import ExternalId, PageOut, PageSize, error_responses
from smartcomm.auth.permissions import Permission
from smartcomm.auth.principal import Principal
from smartcomm.customers.service import customer_service
from smartcomm.kit.errors import NotFound
from smartcomm.kit.http import DbSession
from smartcomm.kit.pagination import PageParams
from smartcomm.kit.types import PageNumber
from smartcomm.rfm.schemas import CalculationDetailOut, CalculationOut, CustomerRfmOut
from smartcomm.rfm.service import rfm_service

router = APIRouter(tags=["RFM analysis"])

Reader = Annotated[Principal, Depends(api_requires(Permission.API_READ))]
Writer = Annotated[Principal, Depends(api_requires(Permission.API_WRITE))]


@router.get("/rfm/calculations", response_model=PageOut[CalculationOut])
def list_calculations(
    session: DbSession,
    _: Reader,
    page: PageNumber = 1,
    size: PageSize = 50,
) -> PageOut[CalculationOut]:
    """RFM calculations, latest first, with their status, settings, Best and Lost counts."""
    return PageOut.of(rfm_service.calculations(session, PageParams(page=page, size=size)), CalculationOut)


@router.get("/rfm/calculations/latest", response_model=CalculationDetailOut, responses=error_responses(404))
def latest_calculation(session: DbSession, _: Reader) -> CalculationDetailOut:
    """The latest successful calculation with the value range of every score and the count of every cell."""
    calculation = rfm_service.latest(session)
    if calculation is None:
        raise NotFound("RFM calculation")
    return CalculationDetailOut.of(calculation)


@router.post("/rfm/calculations", response_model=CalculationOut, status_code=status.HTTP_202_ACCEPTED)
def start_calculation(session: DbSession, principal: Writer) -> CalculationOut:
    """Queue a full recalculation (202); while one is queued or running, that one is returned."""
    return CalculationOut.model_validate(rfm_service.request(session, principal.actor))


@router.get("/customers/{external_id}/rfm", response_model=CustomerRfmOut, responses=error_responses(404))
def customer_rfm(
    session: DbSession,
    _: Reader,
    external_id: ExternalId,
) -> CustomerRfmOut:
    """A customer's R, F and M scores with the values behind them (`scored: false` without a purchase)."""
    customer = customer_service.get_by_external_id(session, external_id)
    found = rfm_service.customer_scores(session, customer.id)
    return CustomerRfmOut.of(customer.external_id, found[0] if found else None)
