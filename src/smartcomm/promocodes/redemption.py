"""Redeeming codes: one by code (the API, a row of the group page), a file of codes, and the codes printed
on receipts (after the receipt is written, by the domain-event subscriber).

A code redeems once: a code that is unknown, blocked, of a blocked group or already redeemed changes
nothing. Receipts are silent about such codes (the till already took the payment); the API and the pages
say which it was.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from smartcomm.audit.actor import Actor
from smartcomm.audit.service import audit_service
from smartcomm.kit.errors import Conflict, FieldError, NotFound
from smartcomm.kit.time import ensure_utc, utcnow
from smartcomm.models import PromoCode
from smartcomm.promocodes.importing import BATCH, NumberedLines, code_problem
from smartcomm.promocodes.repository import PromoCodeGroupRepository, PromoCodeRepository
from smartcomm.promocodes.service import CODE, GROUP

REDEEMED = "redeemed"


@dataclass
class RedeemReport:
    """What a file of codes did: redeemed now, and the lines that changed nothing."""

    redeemed: int = 0
    unknown: int = 0
    refused: int = 0  # blocked or already redeemed

    @property
    def lines(self) -> int:
        return self.redeemed + self.unknown + self.refused


def redeem(session: Session, actor: Actor, code: str, receipt_id: int | None = None) -> PromoCode:
    """Redeem one code; 404 for an unknown code, 409 (saying why) for one that cannot redeem."""
    repository = PromoCodeRepository(session)
    found = repository.by_code(code.strip())
    if found is None:
        raise NotFound("Promo code")
    _check_redeemable(session, found)
    repository.redeem([found.code], receipt_id, None, utcnow())
    session.refresh(found)
    audit_service.record(
        session,
        actor,
        object_type=CODE,
        object_id=found.id,
        action="redeem",
        changes={"status": [None, REDEEMED], "receipt_id": [None, receipt_id]},
        object_label=found.code,
    )
    return found


def _check_redeemable(session: Session, code: PromoCode) -> None:
    if code.status == REDEEMED:
        raise Conflict(
            "The code is already redeemed", [FieldError("code", "is already redeemed", "redeemed")]
        )
    if code.blocked:
        raise Conflict("The code is blocked", [FieldError("code", "is blocked", "blocked")])
    group = PromoCodeGroupRepository(session).get(code.group_id)
    if group is not None and group.blocked:
        raise Conflict("The code's group is blocked", [FieldError("code", "its group is blocked", "blocked")])


def redeem_lines(session: Session, actor: Actor, lines: NumberedLines, source: str) -> RedeemReport:
    """Redeem every code of a file (one per line, or a CSV's first column), in batches."""
    report = RedeemReport()
    batch: list[str] = []
    for _, raw in lines:
        code = raw.strip()
        if not code:
            continue
        if code_problem(code) is not None:
            report.unknown += 1
            continue
        batch.append(code)
        if len(batch) >= BATCH:
            _redeem_batch(session, batch, report)
            batch = []
    _redeem_batch(session, batch, report)
    changes: dict[str, list[Any]] = {
        "redeemed": [None, report.redeemed],
        "unknown": [None, report.unknown],
        "source": [None, source],
    }
    audit_service.record(
        session,
        actor,
        object_type=GROUP,
        object_id="-",
        action="redeem_codes",
        changes=changes,
        object_label=source,
    )
    return report


def _redeem_batch(session: Session, batch: Sequence[str], report: RedeemReport) -> None:
    if not batch:
        return
    unique = set(batch)
    repository = PromoCodeRepository(session)
    known = repository.existing(list(unique))
    redeemed = repository.redeem(unique, None, None, utcnow())
    report.redeemed += redeemed
    report.unknown += sum(1 for code in batch if code not in known)
    report.refused += sum(1 for code in batch if code in known) - redeemed


def redeem_from_receipts(session: Session, receipts: Iterable[Mapping[str, Any]]) -> int:
    """Redeem the codes the written receipts carried (the `receipt.written` event's entries)."""
    repository = PromoCodeRepository(session)
    redeemed = 0
    for receipt in receipts:
        codes = {str(code).strip() for code in receipt.get("promo_codes") or () if str(code).strip()}
        if codes:
            at = _when(receipt.get("purchased_at"))
            redeemed += repository.redeem(codes, int(receipt["id"]), receipt.get("customer_id"), at)
    return redeemed


def _when(value: object) -> datetime:
    if isinstance(value, str):
        try:
            return ensure_utc(datetime.fromisoformat(value))
        except ValueError:
            pass
    return utcnow()
