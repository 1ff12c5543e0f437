"""The demo loader: reference data first, then customers in chunks with everything they did.

Each chunk of customers is generated in memory (profile, receipts with lines, behaviour), the
customers' purchase aggregates are computed on the way (paid receipts only, average rounded half up,
exactly as `CustomerRepository.refresh_aggregates` computes them), and the chunk is written table by
table with the bulk writer. Every random choice comes from streams seeded by the seed and a name,
so the chunk size never changes the data.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from sqlalchemy import Table
from sqlalchemy.orm import Session

from smartcomm.audit.actor import Actor
from smartcomm.audit.service import audit_service
from smartcomm.demo import behaviour as bh
from smartcomm.demo.behaviour import Behaviour, Products
from smartcomm.demo.bulk import BulkWriter, Row
from smartcomm.demo.calendar import Calendar
from smartcomm.demo.catalogue import DEPARTMENTS
from smartcomm.demo.people import NamePools, People, Shopper, Weighted, habit
from smartcomm.demo.progress import Progress, SilentProgress
from smartcomm.demo.reference import Catalogue, load_catalogue, load_stores
from smartcomm.demo.repository import DemoRepository
from smartcomm.demo.shop import LINE_COLUMNS, RECEIPT_COLUMNS, Shop, receipt_count
from smartcomm.kit.errors import Conflict
from smartcomm.kit.time import utcnow
from smartcomm.models import Base

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
# Tables in the order their foreign keys need, with the columns the generator fills.
COLUMNS: dict[str, tuple[str, ...]] = {
    "customers": CUSTOMER_COLUMNS,
    "receipts": RECEIPT_COLUMNS,
    "receipt_lines": LINE_COLUMNS,
    "events": bh.EVENT_COLUMNS,
    "push_tokens": bh.PUSH_TOKEN_COLUMNS,
    "visitors": bh.VISITOR_COLUMNS,
    "web_sessions": bh.SESSION_COLUMNS,
    "web_events": bh.WEB_EVENT_COLUMNS,
    "container_states": bh.CONTAINER_STATE_COLUMNS,
    "container_items": bh.CONTAINER_ITEM_COLUMNS,
    "subscriptions": bh.SUBSCRIPTION_COLUMNS,
}
TABLES: dict[str, tuple[Table, tuple[str, ...]]] = {
    name: (Base.metadata.tables[name], columns) for name, columns in COLUMNS.items()
}
MAILING_CATEGORIES = (
    {"code": "news", "name": "News", "description": "Company news, new stores and collections"},
    {"code": "promotions", "name": "Promotions", "description": "Sales, discounts and seasonal offers"},
    {"code": "personal_offers", "name": "Personal offers", "description": "Offers picked for the customer"},
)
CONTAINERS = (
    {"code": "cart", "name": "Cart", "description": "Products added to the cart", "is_system": True},
    {"code": "wishlist", "name": "Wishlist", "description": None, "is_system": False},
    {"code": "favourites", "name": "Favourites", "description": None, "is_system": False},
)
LINES_PER_RECEIPT = 3.06  # the mean of shop.LINES_PER_RECEIPT, for progress estimates
BULK_CUSTOMERS = 5_000  # from this size on, secondary indexes are dropped during the load and rebuilt


class NotEmpty(Conflict):
    """Demo data is only ever loaded into a base without customers."""


@dataclass(frozen=True)
class DemoOptions:
    customers: int = 10_000
    seed: int = 1
    receipts_per_customer: float = 10.0
    as_of: date | None = None  # purchases end the day before; today (UTC) when omitted
    chunk_size: int = 5_000


@dataclass
class DemoSummary:
    counts: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


def generate(
    session: Session, options: DemoOptions, progress: Progress | None = None, actor: Actor | None = None
) -> DemoSummary:
    """Fill an empty base with demo data in the session's transaction (the caller commits)."""
    started = time.perf_counter()
    repository = DemoRepository(session)
    existing = repository.customer_count()
    if existing:
        raise NotEmpty(
            f"The base already holds {existing} customers; demo data is only loaded into an empty base"
        )
    run = _Run(session, repository, options, progress or SilentProgress())
    summary = run.execute()
    summary.seconds = time.perf_counter() - started
    audit_service.record(
        session,
        actor or Actor.system("demo data"),
        object_type="import",
        object_id="demo",
        action="import",
        object_label="Demo data",
        changes={table: [None, count] for table, count in summary.counts.items()},
    )
    return summary


class _Run:
    def __init__(
        self, session: Session, repository: DemoRepository, options: DemoOptions, progress: Progress
    ) -> None:
        self.session = session
        self.repository = repository
        self.options = options
        self.progress = progress
        self.writer = BulkWriter(session.connection())
        self.calendar = Calendar(options.as_of or utcnow().date())
        self.now = self.calendar.midnight[-1] + 86400
        self.counts = dict.fromkeys(TABLES, 0)
        self.pools = NamePools(options.seed)
        self.next_customer_id = self.writer.next_id(TABLES["customers"][0])

    def stream(self, name: str) -> random.Random:
        return random.Random(f"{self.options.seed}:{name}")  # noqa: S311 (demo data, not secrets)

    def execute(self) -> DemoSummary:
        shop, people, behaviour = self._prepare()
        tables = [table for table, _ in TABLES.values()]
        for name in TABLES:
            self.progress.begin(name, self._expected(name))
        bulk = self.options.customers >= BULK_CUSTOMERS
        with self.writer.structures_deferred(tables, self.progress, enabled=bulk):
            for start in range(0, self.options.customers, self.options.chunk_size):
                end = min(start + self.options.chunk_size, self.options.customers)
                self._chunk(range(start, end), shop, people, behaviour)
            for name in TABLES:
                self.progress.end(name)
        self.writer.finish(tables)
        return DemoSummary(counts=dict(self.counts))

    def _expected(self, name: str) -> int | None:
        receipts = round(self.options.customers * self.options.receipts_per_customer)
        return {
            "customers": self.options.customers,
            "receipts": receipts,
            "receipt_lines": round(receipts * LINES_PER_RECEIPT),
        }.get(name)

    def _prepare(self) -> tuple[Shop, People, Behaviour]:
        now = datetime.fromtimestamp(self.now, UTC)
        stores = load_stores(self.repository, self.pools.streets, self.stream("stores"), now)
        catalogue = load_catalogue(self.repository, self.stream("catalogue"), now)
        receipts = round(self.options.customers * self.options.receipts_per_customer)
        shop = Shop(
            self.stream("shop"),
            self.calendar,
            stores.stores,
            stores.by_city,
            catalogue.products,
            self.writer.stamp,
            self._receipt_scale(),
            receipts,
        )
        shop.next_receipt = self.writer.next_id(TABLES["receipts"][0])
        shop.next_line = self.writer.next_id(TABLES["receipt_lines"][0])
        people = People(
            self.stream("people"), self.pools, self.calendar, stores.by_city, stores.online, self.writer.day
        )
        return shop, people, self._behaviour(shop, catalogue)

    def _behaviour(self, shop: Shop, catalogue: Catalogue) -> Behaviour:
        behaviour = Behaviour(
            self.stream("behaviour"),
            self.now,
            self.writer.stamp,
            Products(shop.popular, catalogue.snapshots, catalogue.category_snapshots),
            self.repository.system_source_id(),
            self.repository.ensure_containers(CONTAINERS),
            self.repository.ensure_mailing_categories(MAILING_CATEGORIES),
            Weighted({index: d.share for index, d in enumerate(DEPARTMENTS)}),
        )
        for name in ("events", "push_tokens", "web_sessions", "web_events"):
            setattr(behaviour.ids, name, self.writer.next_id(TABLES[name][0]))
        return behaviour

    def _receipt_scale(self) -> float:
        """The multiplier of repeat buyers' rates that gives the asked mean of receipts per customer."""
        rng, calendar = self.stream("calibration"), self.calendar
        sample = []
        for _ in range(3000):
            day = calendar.pick(rng, 0, calendar.days - 1)
            kind, rate = habit(rng)
            sample.append((kind, rate, calendar.days - max(day, calendar.purchase_start)))
        low, high = 0.01, 100.0
        for _ in range(30):
            middle = (low + high) / 2
            mean = sum(receipt_count(k, r, w, middle) for k, r, w in sample) / len(sample)
            low, high = (middle, high) if mean < self.options.receipts_per_customer else (low, middle)
        return (low + high) / 2

    def _chunk(self, numbers: range, shop: Shop, people: People, behaviour: Behaviour) -> None:
        rows: dict[str, list[Row]] = {name: [] for name in TABLES}
        first_id = self.next_customer_id
        shoppers = [people.shopper(number, first_id + offset) for offset, number in enumerate(numbers)]
        self.next_customer_id += len(shoppers)
        for shopper in shoppers:
            shop.shop(shopper, rows["receipts"], rows["receipt_lines"])
        rows["customers"] = [self._customer_row(shopper) for shopper in shoppers]
        for shopper in shoppers:
            behaviour.of(shopper, rows)
        for name, (table, columns) in TABLES.items():
            self.writer.insert(table, columns, rows[name])
            self.counts[name] += len(rows[name])
            self.progress.advance(name, len(rows[name]))

    def _customer_row(self, shopper: Shopper) -> Row:
        stamp, profile = self.writer.stamp, shopper.profile
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
            stamp(self.now),
        )
