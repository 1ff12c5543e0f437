"""The loyalty connector over the API: a customer's bonus data, points (read and award) and requests to the
loyalty system (read and ask for an accrual)."""

from __future__ import annotations

import hashlib
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Response, status
from pydantic import BaseModel, ConfigDict, Field

from smartcomm.api.deps import api_requires
from smartcomm.api.schemas import ExternalId, PageOut, PageSize, error_responses
from smartcomm.auth.permissions import Permission
from smartcomm.auth.principal import Principal
from smartcomm.customers.service import customer_service
from smartcomm.intake.idempotency import HEADER
from smartcomm.kit.errors import Conflict, FieldError, InvalidInput
from smartcomm.kit.http import DbSession
from smartcomm.kit.pagination import PageParams
from smartcomm.kit.types import InputModel, PageNumber, Text
from smartcomm.loyalty.schemas import (
    MAX_KEY_LENGTH,
    MAX_TEXT_LENGTH,
    BonusAmount,
    BonusesOut,
    LoyaltyRequestOut,
    PointsAwardIn,
    PointsEntryOut,
    PointsOut,
    Source,
)
from smartcomm.loyalty.service import loyalty_service
from smartcomm.models import PointsEntry

router = APIRouter(prefix="/customers", tags=["loyalty"])

Reader = Annotated[Principal, Depends(api_requires(Permission.API_READ))]
Writer = Annotated[Principal, Depends(api_requires(Permission.API_WRITE))]
RequestKey = Annotated[str | None, Header(alias=HEADER, include_in_schema=False)]
NOT_FOUND = error_responses(404)
PREFIX = "api:"


class AccrualIn(InputModel):
    """Bonuses the loyalty system is asked to accrue to the customer."""

    model_config = ConfigDict(extra="forbid")

    amount: BonusAmount = Field(gt=0, description="Bonuses to accrue, e.g. 200.00")
    comment: Text | None = Field(default=None, max_length=MAX_TEXT_LENGTH)
    key: Text | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_KEY_LENGTH - len(PREFIX),
        description="Asks once per key; defaults to the Idempotency-Key header (one of them is required)",
    )


def _answers(model: type[BaseModel], repeated: str) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI answers of a write once per key: 200 for a repeat, 404 and 409."""
    return {200: {"model": model, "description": repeated}, **error_responses(404, 409)}


def stored_key(body_key: str | None, header_key: str | None) -> str:
    """The operation's key as stored: `api:` and the body's key, else the Idempotency-Key header's."""
    key = body_key or header_key
    if not key:
        raise InvalidInput.for_field("key", "give a key, or send the request with an Idempotency-Key header")
    if len(key) > MAX_KEY_LENGTH - len(PREFIX):
        return PREFIX + "sha256:" + hashlib.sha256(key.encode()).hexdigest()
    return PREFIX + key


def api_source(principal: Principal) -> Source:
    return Source("api", str(principal.id))


@router.get("/{external_id}/bonuses", response_model=BonusesOut, responses=NOT_FOUND)
def get_bonuses(session: DbSession, _: Reader, external_id: ExternalId) -> BonusesOut:
    """The bonus balance and the bonuses expiring by day as the loyalty system last sent them (with the
    customer's data: `bonus_balance`, `expiring_bonuses`), and the customer's points balance."""
    customer = customer_service.get_by_external_id(session, external_id)
    return loyalty_service.bonuses(session, customer.id)


@router.get("/{external_id}/points", response_model=PointsOut, responses=NOT_FOUND)
def list_points(
    session: DbSession, _: Reader, external_id: ExternalId, page: PageNumber = 1, size: PageSize = 50
) -> PointsOut:
    """The customer's points balance and points entries, the latest first."""
    customer = customer_service.get_by_external_id(session, external_id)
    found = loyalty_service.points(session, customer.id, PageParams(page=page, size=size))
    balance = loyalty_service.bonuses(session, customer.id).points_balance
    items = [PointsEntryOut.model_validate(entry) for entry in found.items]
    return PointsOut(
        balance=balance, items=items, total=found.total, page=found.page, size=found.size, pages=found.pages
    )


@router.post(
    "/{external_id}/points",
    response_model=PointsEntryOut,
    status_code=status.HTTP_201_CREATED,
    responses=_answers(PointsEntryOut, "Awarded before under this key"),
)
def award_points(
    session: DbSession,
    principal: Writer,
    external_id: ExternalId,
    body: PointsAwardIn,
    response: Response,
    header_key: RequestKey = None,
) -> PointsEntryOut:
    """Award points (negative: take them back) once per key (`key`, else the Idempotency-Key header): 201
    with the entry; sent again with the same key, 200 with the first entry and nothing awarded; 409 when
    the key was used for other points."""
    customer = customer_service.get_by_external_id(session, external_id)
    key = stored_key(body.key, header_key)
    source = api_source(principal)
    created = loyalty_service.award_points(
        session, customer.id, body.points, key, body.reason, source, principal.actor
    )
    entry = loyalty_service.points_entry(session, key)
    assert entry is not None
    if not created:
        _same_award(entry, customer.id, body.points)
        response.status_code = status.HTTP_200_OK
    return PointsEntryOut.model_validate(entry)


@router.get("/{external_id}/loyalty-requests", response_model=PageOut[LoyaltyRequestOut], responses=NOT_FOUND)
def list_requests(
    session: DbSession, _: Reader, external_id: ExternalId, page: PageNumber = 1, size: PageSize = 50
) -> PageOut[LoyaltyRequestOut]:
    """The customer's requests to the loyalty system (bonus accruals), the latest first, each with its
    status: `pending` (being sent, or waiting for its next attempt), `delivered` or `failed`."""
    customer = customer_service.get_by_external_id(session, external_id)
    found = loyalty_service.requests(session, customer.id, PageParams(page=page, size=size))
    return PageOut[LoyaltyRequestOut].of(found, LoyaltyRequestOut)


@router.post(
    "/{external_id}/loyalty-requests",
    response_model=LoyaltyRequestOut,
    status_code=status.HTTP_201_CREATED,
    responses=_answers(LoyaltyRequestOut, "Asked before under this key"),
)
def request_accrual(
    session: DbSession,
    principal: Writer,
    external_id: ExternalId,
    body: AccrualIn,
    response: Response,
    header_key: RequestKey = None,
) -> LoyaltyRequestOut:
    """Ask the loyalty system to accrue bonuses to the customer, once per key: the request is sent signed
    after this call (see docs/loyalty.md) and retried until it is taken. 201 with the request; sent
    again with the same key, 200 with the first request; 409 when the key was used for another amount."""
    customer = customer_service.get_by_external_id(session, external_id)
    key = stored_key(body.key, header_key)
    created = loyalty_service.request_accrual(
        session, customer.id, body.amount, key, body.comment, api_source(principal), principal.actor
    )
    found = loyalty_service.request_by_key(session, key)
    assert found is not None
    if not created:
        if found.customer_id != customer.id or found.amount != body.amount:
            raise _key_taken()
        response.status_code = status.HTTP_200_OK
    return LoyaltyRequestOut.model_validate(found)


def _same_award(entry: PointsEntry, customer_id: int, points: int) -> None:
    if entry.customer_id != customer_id or entry.points != points:
        raise _key_taken()


def _key_taken() -> Conflict:
    return Conflict(
        "The key was used for another operation", [FieldError("key", "used for another operation")]
    )
