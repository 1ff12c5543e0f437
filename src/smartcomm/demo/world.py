"""Blocks of customers made independently of each other, in this process or in worker processes.

The `World` is everything the customers share (calendar, stores, catalogue, name pools, basket pools);
the loader builds it once from the reference data and every process rebuilds the same generators from
it. Each customer then draws from a random stream of their own, seeded by the seed and the customer's
number, so a block of customers comes out the same whatever the block size, the number of processes
or the order in which blocks are made. Ids are local to a block; the writer adds the ids of the blocks
before it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from smartcomm.demo import behaviour as bh
from smartcomm.demo.behaviour import Behaviour, Products
from smartcomm.demo.calendar import Calendar
from smartcomm.demo.catalogue import DEPARTMENTS
from smartcomm.demo.formats import Formats
from smartcomm.demo.people import NamePools, People, Shopper, Weighted
from smartcomm.demo.shop import STAGED_RECEIPT_COLUMNS, Shop, ShopProduct, ShopStore

Row = tuple[Any, ...]
CUSTOMER_COLUMNS = (
    "id",
    "external_id",
    "first_name",
    "last_name",
    "middle_name",
    "gender",
    "birth_date",
    "country",
    "region",
    "city",
    "time_zone",
    "registered_at",
    "card_number",
    "card_status",
    "email",
    "email_valid",
    "phone",
    "phone_valid",
    "phone_type",
    "allow_email",
    "allow_sms",
    "allow_viber",
    "allow_push",
    "custom",
    "receipt_count",
    "total_amount",
    "average_receipt",
    "first_purchase_at",
    "last_purchase_at",
    "created_at",
    "updated_at",
)
# What a block holds, in the order the writer writes it (foreign keys first); receipts are staged
# (see shop.STAGED_RECEIPT_COLUMNS) and become receipts and receipt lines in the database.
BLOCK_COLUMNS: dict[str, tuple[str, ...]] = {
    "customers": CUSTOMER_COLUMNS,
    "receipts": STAGED_RECEIPT_COLUMNS,
    "events": bh.EVENT_COLUMNS,
    "push_tokens": bh.PUSH_TOKEN_COLUMNS,
    "visitors": bh.VISITOR_COLUMNS,
    "web_sessions": bh.SESSION_COLUMNS,
    "web_events": bh.WEB_EVENT_COLUMNS,
    "container_states": bh.CONTAINER_STATE_COLUMNS,
    "container_items": bh.CONTAINER_ITEM_COLUMNS,
    "subscriptions": bh.SUBSCRIPTION_COLUMNS,
}


@dataclass(frozen=True)
class World:
    """What every customer is made from; small enough to send to each worker process once."""

    seed: int
    as_of: date
    now: int  # seconds since the epoch: midnight after the last day of the history
    receipts: int  # expected in the whole load (sizes the basket pools)
    scale: float  # see generator._receipt_scale
    first_customer_id: int
    formats: Formats
    pools: NamePools
    stores: list[ShopStore]
    stores_by_city: dict[int, list[int]]
    online_store: int
    products: list[ShopProduct]
    snapshots: dict[int, str]
    category_snapshots: dict[int, tuple[str, str]]
    source_id: int
    containers: dict[str, int]
    categories: dict[str, int]

    def stream(self, name: str) -> random.Random:
        return random.Random(f"{self.seed}:{name}")  # noqa: S311 (demo data, not secrets)


@dataclass
class Block:
    """The rows of a run of consecutive customers, with block-local ids."""

    first: int  # the number of its first customer (0-based)
    rows: dict[str, list[Row]] = field(default_factory=dict)
    lines: int = 0  # receipt lines the staged receipts expand to

    def count(self, table: str) -> int:
        return self.lines if table == "receipt_lines" else len(self.rows.get(table, ()))


class Makers:
    """The generators of one process, built from the world exactly alike in every process."""

    def __init__(self, world: World) -> None:
        self.world = world
        calendar = Calendar(world.as_of)
        self.shop = Shop(
            world.stream("shop"),
            calendar,
            world.stores,
            world.stores_by_city,
            world.products,
            world.formats.stamp,
            world.scale,
            world.receipts,
        )
        self.people = People(
            world.stream("people"),
            world.pools,
            calendar,
            world.stores_by_city,
            world.online_store,
            world.formats.day,
        )
        products = Products(self.shop.popular, world.snapshots, world.category_snapshots)
        self.behaviour = Behaviour(
            world.stream("behaviour"),
            world.now,
            world.formats.stamp,
            products,
            world.source_id,
            world.containers,
            world.categories,
            Weighted({index: d.share for index, d in enumerate(DEPARTMENTS)}),
        )
        self.rng = random.Random()  # noqa: S311 (demo data, not secrets)

    def block(self, first: int, size: int) -> Block:
        """Customers `first` … `first + size - 1` with everything they did."""
        block = Block(first, {name: [] for name in BLOCK_COLUMNS})
        self.shop.next_receipt = self.shop.next_line = 0
        self.behaviour.ids = bh.Ids()
        for number in range(first, first + size):
            self._customer(number, block.rows)
        block.lines = self.shop.next_line
        return block

    def _customer(self, number: int, rows: dict[str, list[Row]]) -> None:
        # One stream per customer: what a customer does never depends on who was made before.
        self.rng.seed(f"{self.world.seed}:customer:{number}")
        self.people.rng = self.shop.rng = self.behaviour.rng = self.rng
        shopper = self.people.shopper(number, self.world.first_customer_id + number)
        self.shop.shop(shopper, rows["receipts"])
        rows["customers"].append(self._customer_row(shopper))
        self.behaviour.of(shopper, rows)

    def _customer_row(self, shopper: Shopper) -> Row:
        stamp, profile = self.world.formats.stamp, shopper.profile
        count, total = shopper.paid_count, shopper.paid_total
        average = (2 * total + count) // (2 * count) if count else 0  # half up, as round() in SQL
        first = stamp(shopper.paid_first) if count else None
        last = stamp(shopper.paid_last) if count else None
        registered = stamp(shopper.registered)
        return (
            shopper.id,
            shopper.external_id,
            *profile[:9],
            registered,
            *profile[9:],
            "{}",
            count,
            total,
            average,
            first,
            last,
            registered,
            stamp(self.world.now),
        )
