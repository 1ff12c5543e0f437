"""What the demo's trigger campaigns gave out and sold.

- Codes: a letter that shows a promo code (the welcome series' second letter, WELCOME) got its code when
  it went, issued under the message's issue key as its render issues it — so the Outbox, which renders the
  message again, shows that very code (as for the history's welcome mailing, `promos`).
- Purchases: a share of the customers who opened (an SMS: received) a campaign's message buy one to three
  days later — online when they clicked — with the code of their letter when it had one (redeemed as the
  receipt subscriber redeems it). The receipts go through the receipt service.
- Attribution: the receipts of every customer a campaign wrote to since its first message are attributed
  again by the attribution code, so the campaigns' reports credit the purchases it finds.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from smartcomm.attribution.service import attribution_service
from smartcomm.audit.actor import Actor
from smartcomm.delivery.ledger import issue_key_of
from smartcomm.demo.campaign_repository import CampaignDemoRepository
from smartcomm.demo.communications import promos
from smartcomm.demo.communications.journeys import Buyer
from smartcomm.demo.communications.purchases import BASKET_DAYS, BASKETS, purchase_time, receipt_of
from smartcomm.demo.places import ONLINE_STORE_CODE
from smartcomm.demo.repository import DemoRepository
from smartcomm.kit.time import ensure_utc
from smartcomm.promocodes import issuing
from smartcomm.promocodes.repository import PromoCodeGroupRepository
from smartcomm.receipts.schemas import ReceiptIn
from smartcomm.receipts.service import receipt_service

WRITE_BATCH = 500
PLANS = {plan.code: plan for plan in promos.GROUPS}


def issue_codes(session: Session, campaign_id: int, node: str, group_code: str) -> dict[int, str]:
    """The code each letter of the node showed, issued when it went: {message id: code}."""
    group = PromoCodeGroupRepository(session).by_code(group_code)
    if group is None:
        return {}
    codes: dict[int, str] = {}
    for message in CampaignDemoRepository(session).messages_of_node(campaign_id, node):
        if message.customer_id is None or message.sent_at is None:
            continue
        key = issue_key_of(message.idempotency_key, message.options)
        try:
            code = issuing.issue(
                session, group, message.customer_id, key, message.id, ensure_utc(message.sent_at)
            )
        except issuing.NoCodeLeft:
            break
        codes[message.id] = code.code
    return codes


def sell(
    session: Session,
    actor: Actor,
    buyers: Sequence[Buyer],
    codes: dict[int, tuple[str, str]],
    now: datetime,
    zone: str,
    rng: random.Random,
) -> int:
    """A receipt for each buyer whose purchase falls before `now` (`codes`: message id → (group, code)
    of the letters that showed one); returns how many were written."""
    repository = DemoRepository(session)
    baskets = repository.baskets(now - timedelta(days=BASKET_DAYS), BASKETS)
    shoppers = repository.shoppers(sorted({buyer.engaged.customer_id for buyer in buyers}))
    plain: list[ReceiptIn] = []
    coded: list[ReceiptIn] = []
    for buyer in buyers:
        engaged = buyer.engaged
        at = purchase_time(engaged.at, ZoneInfo(zone), rng)
        if at >= now or not baskets or engaged.customer_id not in shoppers:
            continue
        external_id, store = shoppers[engaged.customer_id]
        store = ONLINE_STORE_CODE if engaged.clicked or store is None else store
        basket = rng.choice(baskets)
        if buyer.message_id in codes:
            group, code = codes[buyer.message_id]
            holder = promos.Holder(code, engaged.customer_id, engaged.at, PLANS[group], True, engaged.clicked)
            coded.append(promos.code_receipt(holder, external_id, store, at, basket))
        else:
            tag = f"T{buyer.message_id}"
            plain.append(receipt_of(tag, engaged.customer_id, external_id, store, at, basket))
    for start in range(0, len(plain), WRITE_BATCH):
        receipt_service.write(session, actor, plain[start : start + WRITE_BATCH])
    promos.write_and_redeem(session, actor, coded)
    return len(plain) + len(coded)


def attribute(session: Session, campaign_ids: Sequence[int], since: datetime) -> int:
    """Attribute again the receipts of the campaigns' recipients since `since`; how many were looked at."""
    receipts = CampaignDemoRepository(session).recipients_receipts(campaign_ids, since)
    attribution_service.attribute(session, receipts)
    return len(receipts)
