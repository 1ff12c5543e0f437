"""Promo codes over the API: groups, their codes (listed, added, generated), issuing a code to a customer
outside a message, redeeming and blocking codes, and a customer's codes."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Response, status

from smartcomm.api.deps import api_requires
from smartcomm.api.schemas import ExternalId, PageOut, PageSize, error_responses
from smartcomm.auth.permissions import Permission
from smartcomm.auth.principal import Principal
from smartcomm.customers.service import customer_service
from smartcomm.intake.idempotency import HEADER
from smartcomm.kit.http import DbSession
from smartcomm.kit.pagination import PageParams
from smartcomm.kit.types import PageNumber, PathId
from smartcomm.models import Customer
from smartcomm.promocodes import redemption
from smartcomm.promocodes.schemas import (
    AddedOut,
    CodeIn,
    CodeOut,
    CodesIn,
    CodeStatus,
    GenerateIn,
    GroupCreate,
    GroupOut,
    GroupUpdate,
    IssueIn,
    RedeemIn,
)
from smartcomm.promocodes.service import promocode_service

router = APIRouter(tags=["promo codes"])

Reader = Annotated[Principal, Depends(api_requires(Permission.API_READ))]
Writer = Annotated[Principal, Depends(api_requires(Permission.API_WRITE))]
NOT_FOUND = error_responses(404)
CHANGE_ERRORS = error_responses(404, 409)


@router.get("/promocode-groups", response_model=list[GroupOut])
def list_groups(session: DbSession, _: Reader) -> list[GroupOut]:
    """Every group, the newest first, with its codes counted by state and its stock: `ok`, `low` (at or
    below its threshold of active codes), `exhausted` or `empty`."""
    return promocode_service.groups(session)


@router.post(
    "/promocode-groups",
    response_model=GroupOut,
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(409),
)
def create_group(session: DbSession, principal: Writer, body: GroupCreate) -> GroupOut:
    """Create a group; its `code` (letters, digits, `_`, `-`) is unique in any letter case, else 409."""
    group = promocode_service.create(session, principal.actor, body)
    return promocode_service.group_out(session, group)


@router.get("/promocode-groups/{group_id}", response_model=GroupOut, responses=NOT_FOUND)
def get_group(session: DbSession, _: Reader, group_id: PathId) -> GroupOut:
    """One group with its counts."""
    return promocode_service.group_out(session, promocode_service.get(session, group_id))


@router.patch("/promocode-groups/{group_id}", response_model=GroupOut, responses=CHANGE_ERRORS)
def update_group(session: DbSession, principal: Writer, group_id: PathId, body: GroupUpdate) -> GroupOut:
    """Change the fields sent; fields not sent stay."""
    group = promocode_service.update(session, principal.actor, group_id, body)
    return promocode_service.group_out(session, group)


@router.delete(
    "/promocode-groups/{group_id}", status_code=status.HTTP_204_NO_CONTENT, responses=CHANGE_ERRORS
)
def delete_group(session: DbSession, principal: Writer, group_id: PathId) -> Response:
    """Delete a group with its codes. A group that issued codes answers 409: block it instead."""
    promocode_service.delete(session, principal.actor, group_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/promocode-groups/{group_id}/block", response_model=GroupOut, responses=NOT_FOUND)
def block_group(session: DbSession, principal: Writer, group_id: PathId) -> GroupOut:
    """Block the group: it issues no code and its codes no longer redeem."""
    group = promocode_service.set_blocked(session, principal.actor, group_id, True)
    return promocode_service.group_out(session, group)


@router.post("/promocode-groups/{group_id}/unblock", response_model=GroupOut, responses=NOT_FOUND)
def unblock_group(session: DbSession, principal: Writer, group_id: PathId) -> GroupOut:
    """Unblock the group."""
    group = promocode_service.set_blocked(session, principal.actor, group_id, False)
    return promocode_service.group_out(session, group)


@router.get("/promocode-groups/{group_id}/codes", response_model=PageOut[CodeOut], responses=NOT_FOUND)
def list_codes(
    session: DbSession,
    _: Reader,
    group_id: PathId,
    code_status: Annotated[CodeStatus | None, Query(alias="status")] = None,
    page: PageNumber = 1,
    size: PageSize = 50,
) -> PageOut[CodeOut]:
    """The group's codes, the latest added first; `status` is active, issued, redeemed or blocked."""
    found = promocode_service.codes(session, group_id, PageParams(page=page, size=size), code_status)
    return PageOut[CodeOut].of(found, CodeOut)


@router.post(
    "/promocode-groups/{group_id}/codes",
    response_model=AddedOut,
    status_code=status.HTTP_201_CREATED,
    responses=NOT_FOUND,
)
def add_codes(session: DbSession, principal: Writer, group_id: PathId, body: CodesIn) -> AddedOut:
    """Add up to 10,000 codes (1–64 printable characters, no spaces; case-sensitive). A code repeated in
    the list or already stored in any group rejects the whole list (422, each problem naming `codes[i]`)."""
    lines = ((index + 1, code) for index, code in enumerate(body.codes))
    where = lambda line: f"codes[{line - 1}]"  # noqa: E731
    return promocode_service.add_codes(session, principal.actor, group_id, lines, where, "api")


@router.post(
    "/promocode-groups/{group_id}/codes/generate",
    response_model=AddedOut,
    status_code=status.HTTP_201_CREATED,
    responses=CHANGE_ERRORS,
)
def generate_codes(session: DbSession, principal: Writer, group_id: PathId, body: GenerateIn) -> AddedOut:
    """Generate `quantity` (up to 1,000,000) new random codes of `format`, e.g.
    `{string('A-Z', 3)}-{string('0-9', 4)}`; none equals a code stored in any group. A format that
    cannot make at least twice `quantity` different codes is refused (422 naming `format`). Up to
    100,000 codes are added before the answer (`added`); a larger quantity is generated in the background
    (`queued`), its progress in the group's `generation` (GET /promocode-groups/{id})."""
    return promocode_service.generate(session, principal.actor, group_id, body)


@router.post(
    "/promocode-groups/{group_id}/issue",
    response_model=CodeOut,
    status_code=status.HTTP_201_CREATED,
    responses=CHANGE_ERRORS,
)
def issue_code(
    session: DbSession,
    principal: Writer,
    group_id: PathId,
    body: IssueIn,
    key: Annotated[str | None, Header(alias=HEADER, include_in_schema=False)] = None,
) -> CodeOut:
    """Give the customer the group's next active code outside a message (a till, a support agent). Sent
    again with the same Idempotency-Key it answers the same code; 409 when the group has none to give."""
    customer = _customer(session, body.customer_external_id, body.customer_id)
    request_key = key or uuid.uuid4().hex
    code = promocode_service.issue(session, principal.actor, group_id, customer.id, request_key)
    return CodeOut.model_validate(code)


@router.post("/promocodes/redeem", response_model=CodeOut, responses=CHANGE_ERRORS)
def redeem_code(session: DbSession, principal: Writer, body: RedeemIn) -> CodeOut:
    """Mark a code redeemed (with the receipt it came with, when given). 404 for an unknown code; 409 for
    one already redeemed, blocked, or of a blocked group."""
    return CodeOut.model_validate(redemption.redeem(session, principal.actor, body.code, body.receipt_id))


@router.post("/promocodes/block", response_model=CodeOut, responses=CHANGE_ERRORS)
def block_code(session: DbSession, principal: Writer, body: CodeIn) -> CodeOut:
    """Block a code: it is never issued and no longer redeems. A redeemed code answers 409."""
    code = promocode_service.code_by_text(session, body.code)
    return CodeOut.model_validate(promocode_service.set_code_blocked(session, principal.actor, code, True))


@router.post("/promocodes/unblock", response_model=CodeOut, responses=CHANGE_ERRORS)
def unblock_code(session: DbSession, principal: Writer, body: CodeIn) -> CodeOut:
    """Unblock a code."""
    code = promocode_service.code_by_text(session, body.code)
    return CodeOut.model_validate(promocode_service.set_code_blocked(session, principal.actor, code, False))


@router.get("/customers/{external_id}/promocodes", response_model=PageOut[CodeOut], responses=NOT_FOUND)
def customer_codes(
    session: DbSession, _: Reader, external_id: ExternalId, page: PageNumber = 1, size: PageSize = 50
) -> PageOut[CodeOut]:
    """The codes the customer was given or redeemed, the latest first."""
    customer = customer_service.get_by_external_id(session, external_id)
    found = promocode_service.of_customer(session, customer.id, PageParams(page=page, size=size))
    return PageOut[CodeOut].of(found, CodeOut)


def _customer(session: DbSession, external_id: str | None, customer_id: int | None) -> Customer:
    if external_id is not None:
        return customer_service.get_by_external_id(session, external_id)
    assert customer_id is not None  # IssueIn requires one of the two
    return customer_service.get(session, customer_id)
