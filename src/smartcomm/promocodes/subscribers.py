"""Promo codes printed on receipts are redeemed once the receipt is written, in the dispatcher's
transaction: the receipt intake stays as fast as before, and a crash before the commit hands the same
receipts over again (redeeming is idempotent: a redeemed code is left alone)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from smartcomm.kit.outbox import Event, subscriber
from smartcomm.promocodes.redemption import redeem_from_receipts


@subscriber("promocodes.redeem", kinds={"receipt.written"})
def redeem_receipt_codes(session: Session, events: Sequence[Event]) -> None:
    receipts = [r for e in events for r in e.payload.get("receipts", ()) if r.get("promo_codes")]
    if receipts:
        redeem_from_receipts(session, receipts)
