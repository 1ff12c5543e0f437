"""The demo's promo codes: three groups made by the promo code service, and what became of their codes.

- "Welcome discount" (WELCOME): 3,000 codes; the e-mail "Welcome offer: 10 % off" showed each recipient a
  code of their own. The history hands its messages over without rendering them (`sending`), so each
  message's code is issued here as its render would have issued it — `issuing.issue` under the message's
  issue key, at the moment it went — and the Outbox, which renders the message again, shows that code.
- "Birthday gift" (BIRTHDAY): 160 codes, 125 given to the customers whose birthday was the latest: the
  group is running low.
- "Black Friday" (BF): 40 codes, all given out at the Black Friday sale: the group is exhausted.

A fifth of the welcome codes, a third of the birthday gifts and 12 Black Friday codes come back on
receipts: the receipts are written with the code (`promo_codes`) through the receipt service, and redeemed
as the receipt subscriber redeems them (`redeem_from_receipts`) — called here, because the dispatcher only
sees the receipts once the demo's transaction commits (it then finds them redeemed: a code redeems once).

The codes' texts come from the service's generator, which draws from `secrets` (real codes must not be
guessable), so they differ from load to load; who got a code, when, and who came back with it are seeded.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from smartcomm.audit.actor import Actor
from smartcomm.delivery.ledger import issue_key_of
from smartcomm.demo.places import ONLINE_STORE_CODE
from smartcomm.demo.repository import DemoRepository
from smartcomm.kit.time import ensure_utc
from smartcomm.models import PromoCodeGroup
from smartcomm.promocodes import issuing
from smartcomm.promocodes.redemption import redeem_from_receipts
from smartcomm.promocodes.repository import PromoCodeGroupRepository
from smartcomm.promocodes.schemas import GenerateIn, GroupCreate
from smartcomm.promocodes.service import promocode_service
from smartcomm.receipts.schemas import ReceiptIn, ReceiptLineIn
from smartcomm.receipts.service import receipt_service

WELCOME_MAILING = "Welcome offer: 10 % off"  # the mailing whose letters show a WELCOME code
BLACK_FRIDAY_MAILING = "Black Friday"  # the codes of BF go to some of its recipients
BIRTHDAY_GIFTS = 125
BLACK_FRIDAY_REDEEMED = 12
BASKET_DAYS = 180
BONUS_PERCENT = Decimal("0.05")
OPEN_HOURS = (9, 21)
CENT = Decimal("0.01")
SEEN_SHARE = 0.85  # of the welcome codes redeemed, those of letters with an open recorded


@dataclass(frozen=True)
class GroupPlan:
    code: str
    name: str
    description: str
    nominal: str
    offer: str
    starts: int  # valid from this many days from today (negative: ago)
    ends: int | None  # valid to (None: no end)
    quantity: int
    format: str
    low_threshold: int | None = None
    percent_off: Decimal | None = None  # what a code takes off a receipt: a share of it …
    amount_off: Decimal | None = None  # … or an amount (at most half the receipt)
    redeemed: float = 0.0  # the share of the codes given that come back on a receipt
    use_within_days: int = 14  # … within this many days of being given (or seen)


WELCOME = GroupPlan(
    "WELCOME",
    "Welcome discount",
    "Personal codes of the e-mail “Welcome offer: 10 % off”",
    "10 %",
    "10 % off one purchase, in the stores and online",
    -100,
    120,
    3000,
    "WELCOME-{string('A-Z0-9', 6)}",
    percent_off=Decimal("0.10"),
    redeemed=0.2,
)
BIRTHDAY = GroupPlan(
    "BIRTHDAY",
    "Birthday gift",
    "Given to loyalty card holders on their birthday",
    "500",
    "500 roubles off a purchase during the birthday week",
    -365,
    None,
    160,
    "BDAY-{string('0-9', 6)}",
    low_threshold=50,
    amount_off=Decimal("500"),
    redeemed=0.3,
    use_within_days=7,
)
BLACK_FRIDAY = GroupPlan(
    "BF",
    "Black Friday",
    "A small batch of extra discounts for the Black Friday weekend",
    "20 %",
    "20 % off one purchase during the Black Friday weekend",
    -12,
    5,
    40,
    "BF-{string('A-Z0-9', 5)}",
    percent_off=Decimal("0.20"),
    use_within_days=3,
)
GROUPS = (WELCOME, BIRTHDAY, BLACK_FRIDAY)


@dataclass(frozen=True)
class Holder:
    """A code given to a customer, and since when they could use it (given, or the letter opened)."""

    code: str
    customer_id: int
    since: datetime
    plan: GroupPlan
    seen: bool = True  # a letter's code: the letter was opened
    online: bool = False  # … and clicked through to the shop


def add_groups(session: Session, actor: Actor, now: datetime, zone: str) -> None:
    """Create the groups whose codes are free and generate their codes; a group of the same code that
    exists already is kept as it is."""
    for plan in GROUPS:
        if PromoCodeGroupRepository(session).by_code(plan.code) is None:
            _create(session, actor, plan, now.astimezone(ZoneInfo(zone)).date(), ZoneInfo(zone))


def _create(session: Session, actor: Actor, plan: GroupPlan, today: date, zone: ZoneInfo) -> None:
    data = GroupCreate(
        name=plan.name,
        code=plan.code,
        description=plan.description,
        nominal=plan.nominal,
        offer=plan.offer,
        valid_from=today + timedelta(days=plan.starts),
        valid_to=today + timedelta(days=plan.ends) if plan.ends is not None else None,
        low_threshold=plan.low_threshold,
    )
    group = promocode_service.create(session, actor, data)
    promocode_service.generate(
        session, actor, group.id, GenerateIn(format=plan.format, quantity=plan.quantity)
    )
    # Made before the first code went out: a day before the group's start.
    made = datetime.combine(today + timedelta(days=plan.starts - 1), time(10), zone).astimezone(UTC)
    group.created_at = group.updated_at = made
    DemoRepository(session).date_codes(group.id, made)


def add_code_history(session: Session, actor: Actor, now: datetime, zone: str) -> int:
    """Give out the codes (the welcome letters', the birthday gifts, Black Friday's) and redeem some on
    receipts; returns how many were redeemed."""
    rng = random.Random("smartcomm-demo-promo-codes")  # noqa: S311 (demo data, not secrets)
    welcome = _issue_welcome(session)
    birthday = _issue_birthdays(session, now, ZoneInfo(zone), rng)
    black_friday = _issue_black_friday(session, now, rng)
    back = _returning(welcome, WELCOME.redeemed, rng) + _returning(birthday, BIRTHDAY.redeemed, rng)
    back += rng.sample(black_friday, min(BLACK_FRIDAY_REDEEMED, len(black_friday)))
    return _redeem(session, actor, back, now, ZoneInfo(zone), rng)


def _group(session: Session, plan: GroupPlan) -> PromoCodeGroup | None:
    return PromoCodeGroupRepository(session).by_code(plan.code)


# --- giving codes out ----------------------------------------------------------------------------------


def _issue_welcome(session: Session) -> list[Holder]:
    """One code per letter of the welcome offer, as the dispatcher's render issues it."""
    group = _group(session, WELCOME)
    if group is None:
        return []
    holders: list[Holder] = []
    for message in DemoRepository(session).handed_messages(WELCOME_MAILING):
        if message.customer_id is None or message.sent_at is None:
            continue
        sent = ensure_utc(message.sent_at)
        key = issue_key_of(message.idempotency_key, message.options)
        try:
            code = issuing.issue(session, group, message.customer_id, key, message.id, sent)
        except issuing.NoCodeLeft:
            break  # a group made by hand with too few codes: the rest would have been skipped
        opened = message.opened_at or message.clicked_at
        since = ensure_utc(opened) if opened is not None else sent
        clicked = message.clicked_at is not None
        holders.append(Holder(code.code, message.customer_id, since, WELCOME, opened is not None, clicked))
    return holders


def _issue_birthdays(session: Session, now: datetime, zone: ZoneInfo, rng: random.Random) -> list[Holder]:
    """A birthday gift for each of the customers whose birthday came last, on the morning of it."""
    group = _group(session, BIRTHDAY)
    if group is None:
        return []
    today = now.astimezone(zone).date()
    latest = sorted(
        (
            (_last_birthday(born, today), customer_id)
            for customer_id, born in DemoRepository(session).birth_dates()
        ),
        key=lambda pair: (-pair[0].toordinal(), pair[1]),
    )[:BIRTHDAY_GIFTS]
    picks = []
    for day, customer_id in sorted(latest):
        at = datetime.combine(day, time(9), zone) + timedelta(minutes=rng.randint(0, 180))
        picks.append((customer_id, min(at, now - timedelta(minutes=rng.randint(1, 60)))))
    return _issue_to(session, group, BIRTHDAY, picks)


def _last_birthday(born: date, today: date) -> date:
    for year in (today.year, today.year - 1):
        try:
            day = born.replace(year=year)
        except ValueError:  # born on 29 February: the 1st of March in other years
            day = date(year, 3, 1)
        if day <= today:
            return day
    return today


def _issue_black_friday(session: Session, now: datetime, rng: random.Random) -> list[Holder]:
    """The Black Friday codes, to recipients of its letter over the sale's first two days."""
    group = _group(session, BLACK_FRIDAY)
    if group is None:
        return []
    sent = {
        m.customer_id: ensure_utc(m.sent_at)
        for m in DemoRepository(session).handed_messages(BLACK_FRIDAY_MAILING)
        if m.customer_id is not None and m.sent_at is not None
    }
    chosen = rng.sample(sorted(sent), min(BLACK_FRIDAY.quantity, len(sent)))
    picks = [(c, min(sent[c] + timedelta(minutes=rng.randint(30, 48 * 60)), now)) for c in chosen]
    return _issue_to(session, group, BLACK_FRIDAY, sorted(picks, key=lambda pick: pick[1]))


def _issue_to(
    session: Session, group: PromoCodeGroup, plan: GroupPlan, picks: list[tuple[int, datetime]]
) -> list[Holder]:
    """Codes given outside a message (at the till, in the app), under a key of the customer."""
    holders: list[Holder] = []
    for customer_id, at in picks:
        try:
            code = issuing.issue(session, group, customer_id, f"demo:{plan.code}:{customer_id}", None, at)
        except issuing.NoCodeLeft:
            break
        holders.append(Holder(code.code, customer_id, at, plan))
    return holders


# --- coming back on receipts ---------------------------------------------------------------------------


def _returning(holders: list[Holder], share: float, rng: random.Random) -> list[Holder]:
    """round(share × n) holders: mostly those who opened the letter, some who read it with the images
    off (no open recorded)."""
    count = round(len(holders) * share)
    seen = [h for h in holders if h.seen]
    unseen = [h for h in holders if not h.seen]
    chosen = rng.sample(seen, min(len(seen), round(count * SEEN_SHARE)))
    return chosen + rng.sample(unseen, min(len(unseen), count - len(chosen)))


def _redeem(
    session: Session, actor: Actor, holders: list[Holder], now: datetime, zone: ZoneInfo, rng: random.Random
) -> int:
    """A receipt for each holder who comes back before `now`, with the code on it; the codes redeemed."""
    repository = DemoRepository(session)
    baskets = repository.baskets(now - timedelta(days=BASKET_DAYS), 500)
    shoppers = repository.shoppers(sorted({h.customer_id for h in holders}))
    receipts: list[ReceiptIn] = []
    for holder in holders:
        at = _purchase_time(holder, zone, rng)
        if at >= now or not baskets or holder.customer_id not in shoppers:
            continue
        external_id, store = shoppers[holder.customer_id]
        store = ONLINE_STORE_CODE if holder.online or store is None else store
        receipts.append(code_receipt(holder, external_id, store, at, rng.choice(baskets)))
    return write_and_redeem(session, actor, receipts)


def write_and_redeem(session: Session, actor: Actor, receipts: list[ReceiptIn]) -> int:
    """Write receipts that carry codes and redeem them as the receipt subscriber would; the codes
    redeemed."""
    if not receipts:
        return 0
    ids = receipt_service.write(session, actor, receipts).ids
    return redeem_from_receipts(session, [_written(i, r) for i, r in zip(ids, receipts, strict=True)])


def _purchase_time(holder: Holder, zone: ZoneInfo, rng: random.Random) -> datetime:
    """Within the days the code is used in, most of them early, while the stores are open."""
    days = min(int(rng.expovariate(3 / holder.plan.use_within_days)), holder.plan.use_within_days)
    day = (holder.since + timedelta(days=days)).astimezone(zone).date()
    moment = datetime.combine(day, time(rng.randint(*OPEN_HOURS), rng.randrange(60), rng.randrange(60)), zone)
    return moment if moment > holder.since else holder.since + timedelta(minutes=rng.randint(20, 240))


def code_receipt(
    holder: Holder,
    external_id: str,
    store: str,
    at: datetime,
    basket: list[tuple[str, Decimal, Decimal, Decimal]],
) -> ReceiptIn:
    """A receipt of the basket with the holder's code on it, less what the code takes off."""
    share = _share_off(holder.plan, sum((q * p - d for _, q, p, d in basket), Decimal("0")))
    lines = [
        ReceiptLineIn(sku=sku, quantity=q, price=p, discount=d + ((q * p - d) * share).quantize(CENT))
        for sku, q, p, d in basket
    ]
    total = sum((line.line_amount() for line in lines), Decimal("0"))
    prefix = "WEB" if store == ONLINE_STORE_CODE else store.replace("-", "")
    return ReceiptIn(
        number=f"{prefix}-{external_id}-{holder.code}",
        store=store,
        customer_id=holder.customer_id,
        purchased_at=at,
        lines=lines,
        bonus_earned=(total * BONUS_PERCENT).quantize(Decimal("1")),
        promo_codes=[holder.code],
    )


def _share_off(plan: GroupPlan, subtotal: Decimal) -> Decimal:
    if plan.percent_off is not None:
        return plan.percent_off
    if plan.amount_off is None or subtotal <= 0:
        return Decimal("0")
    return min(plan.amount_off / subtotal, Decimal("0.5"))


def _written(receipt_id: int, receipt: ReceiptIn) -> dict[str, Any]:
    """The receipt as the "receipt.written" event carries it to the promo codes subscriber."""
    return {
        "id": receipt_id,
        "customer_id": receipt.customer_id,
        "purchased_at": receipt.purchased_at.isoformat(),
        "promo_codes": receipt.promo_codes,
    }
