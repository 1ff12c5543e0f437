"""Receipts over the API: idempotent by store and number, with their lines."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from smartcomm.api.deps import api_requires
from smartcomm.api.schemas import error_responses
from smartcomm.auth.permissions import Permission
from smartcomm.auth.principal import Principal
from smartcomm.kit.http import DbSession
from smartcomm.kit.types import PathId
from smartcomm.receipts.schemas import ReceiptBatchIn, ReceiptBatchOut, ReceiptIn, ReceiptOut
from smartcomm.receipts.service import receipt_service

router = APIRouter(prefix="/receipts", tags=["receipts"])

Reader = Annotated[Principal, Depends(api_requires(Permission.API_READ))]
Writer = Annotated[Principal, Depends(api_requires(Permission.API_WRITE))]


@router.post("", response_model=ReceiptBatchOut)
def write_receipt(session: DbSession, principal: Writer, body: ReceiptIn) -> ReceiptBatchOut:
    """Store a receipt; the same store and number sent again replaces it instead of adding a second one."""
    return receipt_service.write_one(session, principal.actor, body)


@router.post("/batch", response_model=ReceiptBatchOut)
def write_receipts(session: DbSession, principal: Writer, body: ReceiptBatchIn) -> ReceiptBatchOut:
    """Store up to 1,000 receipts; one invalid item rejects the whole batch (`receipts[2].lines[0].price`)."""
    return receipt_service.write(session, principal.actor, body.receipts)


@router.get("/{receipt_id}", response_model=ReceiptOut, responses=error_responses(404))
def get_receipt(session: DbSession, _: Reader, receipt_id: PathId) -> ReceiptOut:
    """A receipt with its lines."""
    receipt, lines = receipt_service.get(session, receipt_id)
    return ReceiptOut.with_lines(receipt, lines)
