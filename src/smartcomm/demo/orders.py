"""The demo's orders: a share of the online store's purchases placed as orders on the site.

Each order repeats an online receipt of the history — its customer, its lines and amounts, and the bonuses
spent and earned — with the delivery and payment the shopper chose and the story of its three status
dimensions: placed a few minutes before it was paid (the receipt), confirmed, assembled, shipped or put
at a pickup point, delivered; a cancelled receipt is a cancelled order, a returned one is refunded. Only
what happened before the history's present is told, so the latest orders are still open. The orders are
written by the orders module's own writer in one batch (no domain events, as for any history load:
triggers must not fire for the past), then their status history gets the moments of its story.

The orders module is switched on for the demo. About one order per four customers, at most 5,000.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy.orm import Session

from smartcomm.audit.actor import Actor
from smartcomm.demo.commerce_repository import CommerceRepository, OnlineReceipt, ReceiptItem
from smartcomm.kit.time import ensure_utc
from smartcomm.orders.book import StatusBook
from smartcomm.orders.service import order_service
from smartcomm.orders.writer import LineRecord, OrderRecord, OrderWriter

PER_CUSTOMER = 0.25
MOST = 5_000
LATEST = 6  # the newest online purchases are always orders: some of them are still under way
CENT = Decimal("0.01")
DELIVERY = {"courier": 50, "pickup_point": 35, "pickup": 15}
CARRIERS = {
    "courier": ("Курьерская служба магазина", "СДЭК", "Яндекс Доставка"),
    "pickup_point": ("СДЭК", "Boxberry", "Почта России", "5Post"),
}
PROVIDERS = ("ЮKassa", "CloudPayments")
NOTES = ("Позвоните за час до приезда", "Домофон не работает, наберите по телефону", "Оставьте у двери")
FREE_FROM = {"courier": (Decimal("3000"), Decimal("299")), "pickup_point": (Decimal("2000"), Decimal("149"))}


@dataclass
class Story:
    """An order's status changes in the order they happened: (dimension, from, to, moment)."""

    created_at: datetime
    steps: list[tuple[str, str | None, str, datetime]] = field(default_factory=list)
    last: dict[str, str] = field(default_factory=dict)

    def move(self, dimension: str, code: str, at: datetime) -> None:
        self.steps.append((dimension, self.last.get(dimension), code, at))
        self.last[dimension] = code

    def until(self, now: datetime) -> Story:
        """What of the story happened before `now`."""
        told = Story(self.created_at)
        for dimension, _, code, at in sorted(self.steps, key=lambda step: step[3]):
            if at < now:
                told.move(dimension, code, at)
        return told


@dataclass(frozen=True)
class Choice:
    delivery: str
    payment: str


def add_orders(
    session: Session, actor: Actor, customers: int, now: datetime, streets: list[str], seed: int
) -> int:
    """Switch the orders module on and place the orders of the online purchases; returns how many."""
    if not order_service.enabled(session):
        order_service.set_enabled(session, actor, True)
    repository = CommerceRepository(session)
    wanted = min(MOST, max(1, round(customers * PER_CUSTOMER)))
    every = max(1, repository.online_count() // wanted)
    receipts = repository.online_receipts(every, LATEST)
    if not receipts:
        return 0
    items = repository.receipt_items([receipt.id for receipt in receipts])
    rng = random.Random(f"{seed}:orders")  # noqa: S311 (demo data, not secrets)
    placed = [_Placed(receipt, items.get(receipt.id, []), rng, streets, now) for receipt in receipts]
    placed = [order for order in placed if order.lines]
    book = StatusBook.load(session)
    records = [order.record(book) for order in placed]
    result = OrderWriter(session, book).write(records, publish_events=False)
    _date(repository, result.ids, placed)
    return len(records)


def _date(repository: CommerceRepository, ids: list[int], placed: list[_Placed]) -> None:
    rows = [
        {"order_id": order_id, "dimension": d, "from_code": before, "to_code": after, "changed_at": at}
        for order_id, order in zip(ids, placed, strict=True)
        for d, before, after, at in order.story.steps
    ]
    repository.replace_history(ids, rows)
    latest = [
        (order_id, max((step[3] for step in order.story.steps), default=order.story.created_at))
        for order_id, order in zip(ids, placed, strict=True)
    ]
    repository.date_orders(latest)


class _Placed:
    """One online receipt as the order the shopper placed."""

    def __init__(
        self,
        receipt: OnlineReceipt,
        items: list[ReceiptItem],
        rng: random.Random,
        streets: list[str],
        now: datetime,
    ) -> None:
        self.receipt, self.rng, self.streets = receipt, rng, streets
        self.lines = [_line(item) for item in items]
        paid_at = ensure_utc(receipt.purchased_at)
        self.choice = _choose(rng)
        self.created_at = paid_at - timedelta(minutes=rng.randint(2, 25))
        self.story = _story(receipt.status, self.choice, self.created_at, paid_at, rng).until(now)

    def record(self, book: StatusBook) -> OrderRecord:
        receipt, choice, rng = self.receipt, self.choice, self.rng
        subtotal = sum((line.amount for line in self.lines), Decimal("0"))
        threshold, fee = FREE_FROM.get(choice.delivery, (Decimal("0"), Decimal("0")))
        delivery_cost = fee if subtotal < threshold else Decimal("0")
        _share_bonuses(self.lines, receipt.bonus_spent, receipt.bonus_earned)
        total = subtotal + delivery_cost
        return OrderRecord(
            number="W-" + receipt.number.split("-", 1)[1],
            customer_id=receipt.customer_id,
            created_at=self.created_at,
            total=total,
            store_id=receipt.store_id,
            status_ids=_status_ids(book, self.story),
            cash_part=total - receipt.bonus_spent,
            bonus_part=receipt.bonus_spent,
            delivery_cost=delivery_cost,
            discount=sum((line.discount for line in self.lines), Decimal("0")),
            delivery_type=choice.delivery,
            carrier=rng.choice(CARRIERS[choice.delivery]) if choice.delivery in CARRIERS else None,
            country="Россия",
            city=receipt.city,
            street=self._street() if choice.delivery == "courier" else None,
            delivery_at=self._delivered_at(),
            customer_note=rng.choice(NOTES) if choice.delivery == "courier" and rng.random() < 0.2 else None,
            payment_type=choice.payment,
            payment_provider=rng.choice(PROVIDERS) if choice.payment == "card" else None,
            lines=self.lines,
        )

    def _street(self) -> str:
        rng = self.rng
        return f"{rng.choice(self.streets)}, д. {rng.randint(1, 150)}, кв. {rng.randint(1, 300)}"

    def _delivered_at(self) -> datetime | None:
        moments = [at for dimension, _, code, at in self.story.steps if code == "delivered"]
        return moments[0] if moments else None


def _line(item: ReceiptItem) -> LineRecord:
    return LineRecord(
        sku=item.sku,
        name=item.name,
        quantity=item.quantity,
        price=item.price,
        amount=item.amount,
        discount=item.discount,
        cash_part=item.amount,
        product_id=item.product_id,
        category_id=item.category_id,
    )


def _share_bonuses(lines: list[LineRecord], spent: Decimal, earned: Decimal) -> None:
    """The receipt's bonuses spread over its lines by amount (the last line takes the rounding)."""
    subtotal = sum((line.amount for line in lines), Decimal("0"))
    if subtotal <= 0:
        return
    left_spent, left_earned = spent, earned
    for line in lines[:-1]:
        line.bonus_redeemed = min(line.amount, (spent * line.amount / subtotal).quantize(CENT))
        line.bonus_accrued = (earned * line.amount / subtotal).quantize(CENT)
        left_spent, left_earned = left_spent - line.bonus_redeemed, left_earned - line.bonus_accrued
    lines[-1].bonus_redeemed, lines[-1].bonus_accrued = max(left_spent, Decimal("0")), left_earned
    for line in lines:
        line.cash_part = line.amount - line.bonus_redeemed


def _choose(rng: random.Random) -> Choice:
    delivery = rng.choices(list(DELIVERY), list(DELIVERY.values()))[0]
    on_delivery = delivery != "pickup" and rng.random() < 0.2
    return Choice(delivery, "cash_on_delivery" if on_delivery else "card")


def _story(status: str, choice: Choice, created: datetime, paid: datetime, rng: random.Random) -> Story:
    """Every change the order goes through, told in full (`Story.until` keeps what already happened)."""
    story = Story(created)
    story.move("general", "new", created)
    story.move("payment", "awaiting_payment", created)
    confirmed = created + timedelta(minutes=rng.randint(5, 90))
    if status == "cancelled":
        story.move("general", "cancelled", confirmed + timedelta(hours=rng.randint(1, 20)))
        return story
    if choice.payment == "card":
        story.move("payment", "paid", paid)
    story.move("general", "confirmed", confirmed)
    story.move("general", "in_progress", confirmed + timedelta(hours=rng.randint(1, 5)))
    story.move("delivery", "assembling", confirmed + timedelta(hours=rng.randint(1, 5), minutes=30))
    delivered = _deliver(story, choice, confirmed, rng)
    if choice.payment == "cash_on_delivery":
        story.move("payment", "paid", delivered)
    story.move("general", "completed", delivered + timedelta(minutes=rng.randint(5, 120)))
    if status == "returned":
        story.move("payment", "refunded", delivered + timedelta(days=rng.randint(2, 12)))
    return story


def _deliver(story: Story, choice: Choice, confirmed: datetime, rng: random.Random) -> datetime:
    """The delivery dimension from assembling to delivered; the moment of the delivery."""
    ready = confirmed + timedelta(hours=rng.randint(8, 30))
    if choice.delivery == "courier":
        story.move("delivery", "shipped", ready)
        delivered = ready + timedelta(hours=rng.randint(6, 60))
    else:
        if choice.delivery == "pickup_point":
            story.move("delivery", "shipped", ready)
            ready += timedelta(hours=rng.randint(20, 72))
        story.move("delivery", "at_pickup_point", ready)
        delivered = ready + timedelta(hours=rng.randint(2, 96))
    story.move("delivery", "delivered", delivered)
    return delivered


def _status_ids(book: StatusBook, story: Story) -> dict[str, int | None]:
    found: dict[str, int | None] = {}
    for dimension, code in story.last.items():
        entry = book.find(dimension, code)
        found[dimension] = entry.id if entry is not None else None
    return found
