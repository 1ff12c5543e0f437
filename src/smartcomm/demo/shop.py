"""Receipts and their lines for one customer: when, where, what, and the aggregates that follow.

Baskets start in the customer's favourite department or in one the season favours, then stay in the
same department or move to a partner department (nappies with baby food, shoes with clothes).
Products are picked by popularity (a Zipf-like curve inside each department). Baskets are drawn
once into a pool per (first department, month) and receipts take them from there. A receipt is made
here as a staging row naming its basket; the database expands it into the receipt and its lines
(see `bulk.py`), so tens of millions of lines never pass through Python one by one.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from smartcomm.demo.calendar import Calendar
from smartcomm.demo.catalogue import DEPARTMENT_INDEX, DEPARTMENTS
from smartcomm.demo.people import NEVER, ONCE, Shopper, Weighted

# A receipt as the generator stages it: ids are local to the block of customers (from 0); the
# basket gives total, discount, item count and the lines; `first_line` is the block-local id of its
# first line.
STAGED_RECEIPT_COLUMNS = (
    "id",
    "number",
    "store_id",
    "customer_id",
    "purchased_at",
    "status",
    "basket",
    "first_line",
    "bonus_earned",
    "bonus_spent",
)
BASKET_COLUMNS = ("id", "total", "discount", "items")
BASKET_LINE_COLUMNS = (
    "basket",
    "position",
    "product_id",
    "category_id",
    "sku",
    "quantity",
    "price",
    "amount",
    "discount",
)
# Pre-drawn baskets per (first department, month), scaled to the number of receipts to make.
BASKETS_PER_KEY = (20, 300)
LINES_PER_RECEIPT = {1: 0.22, 2: 0.25, 3: 0.2, 4: 0.13, 5: 0.08, 6: 0.05, 7: 0.04, 8: 0.03}
RETURNED_SHARE, CANCELLED_SHARE = 0.03, 0.01
BONUS_RATE_PERCENT = 5
Row = tuple[Any, ...]


@dataclass(frozen=True)
class ShopStore:
    id: int
    prefix: str  # of receipt numbers
    utc_offset: int
    online: bool


@dataclass(frozen=True)
class ShopProduct:
    id: int
    category_id: int
    sku: str
    price: int  # minor units
    by_weight: bool
    department: int


@dataclass(frozen=True)
class Basket:
    id: int  # its place in the pools, the same in every process
    lines: tuple[Row, ...]  # (position, product id, category id, sku, quantity, price, amount, discount)
    total: int
    discount: int
    items: int


def receipt_count(habit: int, rate: float, window_days: int, scale: float) -> int:
    """Receipts of a customer whose purchase window is `window_days` long."""
    if habit == NEVER or window_days <= 0:
        return 0
    if habit == ONCE:
        return 1
    return min(max(2, round(rate * window_days / 365 * scale)), window_days)


class Shop:
    def __init__(
        self,
        rng: random.Random,
        calendar: Calendar,
        stores: Sequence[ShopStore],
        stores_by_city: dict[int, list[int]],
        products: Sequence[ShopProduct],
        stamp: Callable[[int], Any],
        scale: float,
        receipts: int,
    ) -> None:
        self.rng = rng
        self.calendar = calendar
        self.stores = stores
        self.stores_by_city = stores_by_city
        self.online = next(index for index, store in enumerate(stores) if store.online)
        self.stamp = stamp
        self.scale = scale
        self.line_counts = Weighted(dict(LINES_PER_RECEIPT))
        self.by_month = {
            m: Weighted({i: d.share_in(m) for i, d in enumerate(DEPARTMENTS)}) for m in range(1, 13)
        }
        self.partners = [tuple(DEPARTMENT_INDEX[code] for code in d.partners) for d in DEPARTMENTS]
        self.popular = [
            self._popularity(rng, [p for p in products if p.department == i]) for i in range(len(DEPARTMENTS))
        ]
        per_key = min(BASKETS_PER_KEY[1], max(BASKETS_PER_KEY[0], receipts // 400))
        self.all_baskets: list[Basket] = []
        self.baskets = {
            (department, month): [self._basket(department, month) for _ in range(per_key)]
            for department in range(len(DEPARTMENTS))
            for month in range(1, 13)
        }
        self.next_receipt = 0  # block-local ids (see STAGED_RECEIPT_COLUMNS)
        self.next_line = 0

    @staticmethod
    def _popularity(rng: random.Random, products: list[ShopProduct]) -> Weighted:
        ranked = list(products)
        rng.shuffle(ranked)
        return Weighted({product: 1 / (rank + 1) ** 0.8 for rank, product in enumerate(ranked)})

    def shop(self, shopper: Shopper, receipts: list[Row]) -> None:
        """Append the customer's staged receipts to the batch and keep their paid aggregates."""
        calendar, rng = self.calendar, self.rng
        first = max(shopper.registered_day, calendar.purchase_start)
        count = receipt_count(shopper.habit, shopper.rate, calendar.days - first, self.scale)
        if count == 0:
            return
        days = sorted(calendar.pick(rng, first, calendar.days - 1) for _ in range(count))
        at_registration = shopper.registered_day >= calendar.purchase_start and rng.random() < 0.6
        if at_registration:  # the card is issued at the till with the first purchase
            days[0] = shopper.registered_day
        once = shopper.habit == ONCE
        for position, day in enumerate(days):
            if position == 0 and at_registration:
                store, seconds = shopper.home_store, shopper.registered + 60 + int(rng.random() * 840)
            else:
                store = self._store(shopper)
                place = self.stores[store]
                local = calendar.local_seconds(rng, place.online)
                seconds = calendar.midnight[day] + local - place.utc_offset * 3600
            roll = 1.0 if once else rng.random()
            status = (
                "paid"
                if roll >= RETURNED_SHARE + CANCELLED_SHARE
                else "returned"
                if roll < RETURNED_SHARE
                else ("cancelled")
            )
            self._receipt(shopper, position, store, seconds, calendar.month[day], status, receipts)

    def _store(self, shopper: Shopper) -> int:
        roll = self.rng.random()
        if shopper.online_first:
            return self.online if roll < 0.78 else self.rng.choice(self.stores_by_city[shopper.city])
        if roll < 0.82:
            return shopper.home_store
        if roll < 0.94:
            return self.online
        return self.rng.choice(self.stores_by_city[shopper.city])

    def _receipt(
        self,
        shopper: Shopper,
        sequence: int,
        store: int,
        seconds: int,
        month: int,
        status: str,
        receipts: list[Row],
    ) -> None:
        rng = self.rng
        receipt_id, first_line = self.next_receipt, self.next_line
        # The customer's external id and their own receipt sequence: unique per store without a
        # counter shared by all customers, so any block of customers can be made on its own.
        number = f"{self.stores[store].prefix}-{shopper.external_id}-{sequence + 1:03d}"
        start = shopper.favourite if rng.random() < 0.45 else self.by_month[month].pick(rng)
        pool = self.baskets[(start, month)]
        basket = pool[int(rng.random() * len(pool))]
        self.next_receipt += 1
        self.next_line += len(basket.lines)
        total = basket.total
        spent = earned = 0
        if status == "paid" and shopper.card:
            if rng.random() < 0.08:
                spent = min(total * 3 // 10, rng.randint(1, 15) * 10_000) // 100 * 100
                if spent:
                    shopper.redemptions.append((seconds, number, spent))
            earned = (total - spent) * BONUS_RATE_PERCENT // 100 // 100 * 100
        if status == "paid":
            shopper.paid(seconds, total)
        receipts.append(
            (
                receipt_id,
                number,
                self.stores[store].id,
                shopper.id,
                self.stamp(seconds),
                status,
                basket.id,
                first_line,
                earned,
                spent,
            )
        )

    def _basket(self, department: int, month: int) -> Basket:
        """A basket that starts in `department`: each further line stays there, moves to a partner
        department or follows the season."""
        rng = self.rng
        lines: list[Row] = []
        total = discount = items = 0
        for position in range(1, self.line_counts.pick(rng) + 1):
            if position > 1:
                roll = rng.random()
                if roll >= 0.65:
                    department = self.by_month[month].pick(rng)
                elif roll >= 0.4:
                    department = rng.choice(self.partners[department])
            product: ShopProduct = self.popular[department].pick(rng)
            quantity = self._quantity(product.by_weight)
            gross = (product.price * quantity + 500) // 1000
            off = gross * rng.choice((10, 15, 20, 25, 30)) // 100 if rng.random() < 0.14 else 0
            lines.append(
                (
                    position,
                    product.id,
                    product.category_id,
                    product.sku,
                    quantity,
                    product.price,
                    gross - off,
                    off,
                )
            )
            total += gross - off
            discount += off
            items += quantity
        basket = Basket(len(self.all_baskets), tuple(lines), total, discount, items)
        self.all_baskets.append(basket)
        return basket

    def basket_rows(self) -> tuple[list[Row], list[Row]]:
        """The basket pools as rows of BASKET_COLUMNS and BASKET_LINE_COLUMNS."""
        baskets = [(b.id, b.total, b.discount, b.items) for b in self.all_baskets]
        lines = [(b.id, *line) for b in self.all_baskets for line in b.lines]
        return baskets, lines

    def _quantity(self, by_weight: bool) -> int:
        """Thousandths: grams of weighed goods, else whole pieces."""
        rng = self.rng
        if by_weight:
            return rng.randint(250, 2500)
        roll = rng.random()
        return (
            1000
            if roll < 0.76
            else 2000
            if roll < 0.93
            else 3000
            if roll < 0.98
            else rng.randint(4, 6) * 1000
        )
