"""The demo loader: reference data first, then customers in blocks with everything they did.

Blocks of customers are made (in worker processes for a big load, see `workers.py`) with their
profile, staged receipts and behaviour; the customers' purchase aggregates are computed on the way
(paid receipts only, average rounded half up, exactly as `CustomerRepository.refresh_aggregates`
computes them). The writer writes the blocks in order, table by table. Once the receipts are in, a share
of the online purchases is placed as orders (`orders`) and the loyalty system's bonus data are written
from them (`bonuses`). Every customer draws from a random stream of their own, so neither the block size
nor the number of processes changes the data.

A committing load (the command line and the benchmarks hand it a `checkpoint`, their session's commit)
checkpoints after the reference data, every block and every rebuilt index, so the transaction and
SQLite's WAL stay the size of one block. Otherwise the whole load is one transaction of the caller's
(tests, small loads).
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from sqlalchemy import Table
from sqlalchemy.orm import Session

from smartcomm.audit.actor import Actor
from smartcomm.audit.service import audit_service
from smartcomm.demo.bonuses import add_bonuses
from smartcomm.demo.bulk import BulkWriter, Deferred
from smartcomm.demo.calendar import Calendar
from smartcomm.demo.formats import Formats
from smartcomm.demo.orders import add_orders
from smartcomm.demo.people import NamePools, habit
from smartcomm.demo.progress import Progress, SilentProgress
from smartcomm.demo.reference import load_catalogue, load_stores
from smartcomm.demo.repository import DemoRepository
from smartcomm.demo.shop import receipt_count
from smartcomm.demo.workers import blocks
from smartcomm.demo.world import BLOCK_COLUMNS, Block, Makers, World
from smartcomm.kit.errors import Conflict
from smartcomm.kit.time import utcnow
from smartcomm.models import Base

# The tables a load fills, in the order their foreign keys need.
TABLE_NAMES = ("customers", "receipts", "receipt_lines", *list(BLOCK_COLUMNS)[2:])
TABLES: dict[str, Table] = {name: Base.metadata.tables[name] for name in TABLE_NAMES}
# The demo retailer is a Russian chain: its own records (mailing categories, example segments) are named
# in Russian like its customers, stores and products, whatever the interface language.
MAILING_CATEGORIES = (
    {"code": "news", "name": "Новости", "description": "Новости сети, новые магазины и коллекции"},
    {"code": "promotions", "name": "Акции", "description": "Распродажи, скидки и сезонные предложения"},
    {
        "code": "personal_offers",
        "name": "Персональные предложения",
        "description": "Предложения, подобранные для покупателя",
    },
)
CONTAINERS = (
    {"code": "cart", "name": "Cart", "description": "Products added to the cart", "is_system": True},
    {"code": "wishlist", "name": "Wishlist", "description": None, "is_system": False},
    {"code": "favourites", "name": "Favourites", "description": None, "is_system": False},
)
LINES_PER_RECEIPT = 3.06  # the mean of shop.LINES_PER_RECEIPT, for progress estimates
BULK_CUSTOMERS = 5_000  # from this size on, secondary indexes are dropped during the load and rebuilt
PARALLEL_CUSTOMERS = 20_000  # from this size on, worker processes make the blocks (when there are cores)


class NotEmpty(Conflict):
    """Demo data is only ever loaded into a base without customers."""


@dataclass(frozen=True)
class DemoOptions:
    customers: int = 10_000
    seed: int = 1
    receipts_per_customer: float = 10.0
    as_of: date | None = None  # purchases end the day before; today (UTC) when omitted
    chunk_size: int = 10_000  # customers per block (and per commit of a committing load)
    processes: int | None = None  # worker processes making blocks; None: up to 2 for a big load


@dataclass
class DemoSummary:
    counts: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    # wall seconds: reference, rows, indexes, orders (and bonus data), finish
    stages: dict[str, float] = field(default_factory=dict)


def generate(
    session: Session,
    options: DemoOptions,
    progress: Progress | None = None,
    actor: Actor | None = None,
    *,
    checkpoint: Callable[[], None] | None = None,
) -> DemoSummary:
    """Fill an empty base with demo data: in the session's transaction (the caller commits), or calling
    the caller's `checkpoint` (its commit) after every block (the session must then keep one connection,
    see `kit.db.pinned_session`)."""
    started = time.perf_counter()
    repository = DemoRepository(session)
    existing = repository.customer_count()
    if existing:
        raise NotEmpty(
            f"The base already holds {existing} customers; demo data is only loaded into an empty base"
        )
    actor = actor or Actor.system("demo data")
    run = _Run(session, repository, options, progress or SilentProgress(), checkpoint, actor)
    summary = run.execute()
    audit_service.record(
        session,
        actor,
        object_type="import",
        object_id="demo",
        action="import",
        object_label="Demo data",
        changes={table: [None, count] for table, count in summary.counts.items()},
    )
    summary.seconds = time.perf_counter() - started
    return summary


class _Run:
    def __init__(
        self,
        session: Session,
        repository: DemoRepository,
        options: DemoOptions,
        progress: Progress,
        checkpoint: Callable[[], None] | None,
        actor: Actor,
    ) -> None:
        self.session = session
        self.actor = actor
        self.repository = repository
        self.options = options
        self.progress = progress
        self._checkpoint = checkpoint
        self.committing = checkpoint is not None
        self.writer = BulkWriter(session, TABLES)
        self.calendar = Calendar(options.as_of or utcnow().date())
        self.now = self.calendar.midnight[-1] + 86400
        self.counts = dict.fromkeys(TABLES, 0)
        self.stages: dict[str, float] = {}
        self.clock = time.perf_counter()

    def checkpoint(self) -> None:
        if self._checkpoint is not None:
            self._checkpoint()

    def lap(self, stage: str) -> None:
        now = time.perf_counter()
        self.stages[stage] = round(now - self.clock, 1)
        self.clock = now

    def execute(self) -> DemoSummary:
        world = self._world()
        self.writer.stage(*Makers(world).shop.basket_rows())
        bulk = self.options.customers >= BULK_CUSTOMERS
        deferred = self.writer.drop_structures(list(TABLES.values())) if bulk else Deferred()
        self.checkpoint()
        self.lap("reference")
        try:
            self._write_blocks(world)
        except BaseException:
            self._restore_after_failure(deferred)
            raise
        self.lap("rows")
        self.writer.build_structures(deferred, self.progress, self.checkpoint)
        self.writer.reset_sort_settings()
        self.lap("indexes")
        self._commerce(world)
        self.lap("orders")
        self.writer.unstage()
        self.writer.finish(list(TABLES.values()))
        self.lap("finish")
        return DemoSummary(counts=dict(self.counts), stages=dict(self.stages))

    def _write_blocks(self, world: World) -> None:
        for name in TABLES:
            self.progress.begin(name, self._expected(name))
        settings = self.writer.bulk_settings() if self.committing else nullcontext()
        with settings:
            try:
                for block in blocks(
                    world, self.options.customers, self.options.chunk_size, self._processes()
                ):
                    self._write(block)
            except BaseException:
                if self.committing:  # end the failed block's transaction before the settings go back
                    self.session.rollback()
                raise
        for name in TABLES:
            self.progress.end(name)

    def _write(self, block: Block) -> None:
        self.writer.write(block)
        self.checkpoint()
        for name in TABLES:
            self.counts[name] += block.count(name)
            self.progress.advance(name, block.count(name))

    def _commerce(self, world: World) -> None:
        """The online purchases placed as orders, and the bonus data of the loyalty system: both made from
        the receipts written."""
        now = datetime.fromtimestamp(self.now, UTC)
        self.progress.begin("orders", None)
        orders = add_orders(
            self.session, self.actor, self.options.customers, now, world.pools.streets, self.options.seed
        )
        balances, portions = add_bonuses(self.session, self.calendar.as_of, self.options.seed)
        self.counts |= {"orders": orders, "loyalty_accounts": balances, "bonus_expirations": portions}
        self.progress.advance("orders", orders)
        self.progress.end("orders")
        self.checkpoint()

    def _restore_after_failure(self, deferred: Deferred) -> None:
        """A committing load keeps the blocks it committed (a rerun refuses the non-empty base) and
        gets its indexes and keys back; otherwise the caller's rollback undoes everything."""
        if not self.committing:
            return
        self.session.rollback()
        self.writer.build_structures(deferred, SilentProgress(), self.checkpoint)
        self.writer.unstage()
        self.checkpoint()

    def _processes(self) -> int:
        if self.options.processes is not None:
            return self.options.processes
        if self.options.customers < PARALLEL_CUSTOMERS:
            return 0
        return min(2, os.cpu_count() or 1)

    def _expected(self, name: str) -> int | None:
        receipts = round(self.options.customers * self.options.receipts_per_customer)
        return {
            "customers": self.options.customers,
            "receipts": receipts,
            "receipt_lines": round(receipts * LINES_PER_RECEIPT),
        }.get(name)

    def _world(self) -> World:
        """Reference data written (or reused), and everything the customers are made from."""
        pools = NamePools(self.options.seed)
        now = datetime.fromtimestamp(self.now, UTC)
        stores = load_stores(self.repository, pools.streets, self.stream("stores"), now)
        catalogue = load_catalogue(self.repository, self.stream("catalogue"), now)
        return World(
            seed=self.options.seed,
            as_of=self.calendar.as_of,
            now=self.now,
            receipts=round(self.options.customers * self.options.receipts_per_customer),
            scale=self._receipt_scale(),
            first_customer_id=self.writer.next_id(TABLES["customers"]),
            formats=Formats(self.writer.is_sqlite),
            pools=pools,
            stores=stores.stores,
            stores_by_city=stores.by_city,
            online_store=stores.online,
            products=catalogue.products,
            snapshots=catalogue.snapshots,
            category_snapshots=catalogue.category_snapshots,
            source_id=self.repository.system_source_id(),
            containers=self.repository.ensure_containers(CONTAINERS),
            categories=self.repository.ensure_mailing_categories(MAILING_CATEGORIES),
        )

    def stream(self, name: str) -> random.Random:
        return random.Random(f"{self.options.seed}:{name}")  # noqa: S311 (demo data, not secrets)

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
