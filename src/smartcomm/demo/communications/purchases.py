"""What the mailings sold: a share of the people who opened a message buy something one to three days
later — a basket other customers bought, in the store they last bought in (online when they clicked) —
written through the receipt service, so the customers' purchase aggregates follow. Attribution is then
computed again for the history's period, so the receipts credited to the mailings are those its own code
finds.
"""

from __future__ import annotations

import random
from datetime import datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from smartcomm.attribution.service import attribution_service
from smartcomm.audit.actor import Actor
from smartcomm.demo.communications.engagement import Engaged
from smartcomm.demo.places import ONLINE_STORE_CODE
from smartcomm.demo.repository import DemoRepository
from smartcomm.receipts.schemas import ReceiptIn, ReceiptLineIn
from smartcomm.receipts.service import receipt_service

BASKETS = 500  # receipts of the last half year whose baskets the buyers repeat
BASKET_DAYS = 180
BONUS_PERCENT = Decimal("0.05")  # the demo's loyalty programme earns 5 % in bonus points
OPEN_HOURS = (9, 21)  # stores sell from 9:00 to 21:59 local time
WRITE_BATCH = 500


def add_purchases(
    session: Session,
    actor: Actor,
    buyers: list[tuple[int, Engaged]],
    until: datetime,
    zone: str,
    rng: random.Random,
) -> int:
    """Write a receipt for each (mailing id, buyer) whose purchase falls before `until`; returns how many
    were written."""
    repository = DemoRepository(session)
    baskets = repository.baskets(until - timedelta(days=BASKET_DAYS), BASKETS)
    shoppers = repository.shoppers(sorted({engaged.customer_id for _, engaged in buyers}))
    receipts: list[ReceiptIn] = []
    for mailing_id, engaged in buyers:
        at = purchase_time(engaged.at, ZoneInfo(zone), rng)
        if at >= until or not baskets or engaged.customer_id not in shoppers:
            continue
        external_id, store = shoppers[engaged.customer_id]
        store = ONLINE_STORE_CODE if engaged.clicked or store is None else store
        receipts.append(
            receipt_of(f"M{mailing_id}", engaged.customer_id, external_id, store, at, rng.choice(baskets))
        )
    for start in range(0, len(receipts), WRITE_BATCH):
        receipt_service.write(session, actor, receipts[start : start + WRITE_BATCH])
    return len(receipts)


def attribute(session: Session, start: datetime, end: datetime) -> int:
    """Attribute every receipt of the history's period again; returns how many were looked at."""
    return attribution_service.rebuild(session, start, end)


def purchase_time(opened: datetime, zone: ZoneInfo, rng: random.Random) -> datetime:
    """One to three days after the open, while the stores are open."""
    day = (opened + timedelta(days=rng.choice((1, 1, 2, 2, 3)))).astimezone(zone).date()
    clock = time(rng.randint(*OPEN_HOURS), rng.randrange(60), rng.randrange(60))
    return datetime.combine(day, clock, zone)


def receipt_of(
    tag: str,
    customer_id: int,
    external_id: str,
    store: str,
    at: datetime,
    basket: list[tuple[str, Decimal, Decimal, Decimal]],
    promo_codes: list[str] | None = None,
) -> ReceiptIn:
    """A receipt of the basket; its number ends with the tag of what sold it (`M<mailing id>`, …)."""
    lines = [
        ReceiptLineIn(sku=sku, quantity=qty, price=price, discount=off) for sku, qty, price, off in basket
    ]
    total = sum((line.line_amount() for line in lines), Decimal("0"))
    prefix = "WEB" if store == ONLINE_STORE_CODE else store.replace("-", "")
    return ReceiptIn(
        number=f"{prefix}-{external_id}-{tag}",
        store=store,
        customer_id=customer_id,
        purchased_at=at,
        lines=lines,
        bonus_earned=(total * BONUS_PERCENT).quantize(Decimal("1")),
        promo_codes=promo_codes or [],
    )
