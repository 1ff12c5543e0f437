"""RFM analysis over the API: the calculations with their thresholds and cells, and a customer's cell."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, status

from smartcomm.api.deps import api_requires
from smartcomm.api.schemas import PageOut
from smartcomm.auth.permissions import Permission
from smartcomm.auth.principal import Principal
from smartcomm.customers.service import customer_service
from smartcomm.kit.errors import NotFound
from smartcomm.kit.http import DbSession
from smartcomm.kit.pagination import MAX_PAGE_SIZE, PageParams
from smartcomm.rfm.schemas import CalculationDetailOut, CalculationOut, CustomerRfmOut
from smartcomm.rfm.service import rfm_service

router = APIRouter(tags=["RFM analysis"])

Reader = Annotated[Principal, Depends(api_requires(Permission.API_READ))]
Writer = Annotated[Principal, Depends(api_requires(Permission.API_WRITE))]


@router.get("/rfm/calculations", response_model=PageOut[CalculationOut])
def list_calculations(
    session: DbSession,
    _: Reader,
    page: Annotated[int, Query(ge=1)] = 1,
    size: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 50,
) -> PageOut[CalculationOut]:
    """RFM calculations, latest first, with their status, settings, Best and Lost counts."""
    return PageOut.of(rfm_service.calculations(session, PageParams(page=page, size=size)), CalculationOut)


@router.get("/rfm/calculations/latest", response_model=CalculationDetailOut)
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


@router.get("/customers/{external_id}/rfm", response_model=CustomerRfmOut)
def customer_rfm(
    session: DbSession,
    _: Reader,
    external_id: Annotated[
        str, Path(min_length=1, max_length=64, description="The customer's id in your system")
    ],
) -> CustomerRfmOut:
    """A customer's R, F and M scores with the values behind them (`scored: false` without a purchase)."""
    customer = customer_service.get_by_external_id(session, external_id)
    found = rfm_service.customer_scores(session, customer.id)
    return CustomerRfmOut.of(customer.external_id, found[0] if found else None)
