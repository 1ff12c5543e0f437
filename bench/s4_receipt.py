"""S4: one new receipt → the customer's aggregates, segment memberships and RFM cell current, in ms.

The path measured is the product's own, end to end, as deployed: the app served by uvicorn in its own
process (as for D2/D3, one web worker) and a background worker (`smartcomm worker`, no periodic
schedule) in another, once with the embedded job queue (SQLite under var/, as `make run` has it) and
once with the queue in Redis. A receipt posted to `POST /api/v1/receipts` is written with its lines and
the customer's aggregates in the request's transaction; after the commit the request queues
`segments.refresh_customers`, and the worker re-places the customer's RFM cell by the latest
calculation and refreshes the customer's membership of every segment, in one transaction.

Each queue gets two figures: receipts sent back to back (the worker busy), and receipts that arrive
after the worker has been idle for IDLE_GAPS seconds (5, 20 and 60 s, one receipt after each, once
per run): an idle consumer must not wait on a polling back-off before it takes the job.

Before the measurement (untimed) the working copy gets an RFM calculation (unless S1 left one), five
built segments (the S2 rules; an amount reached by ~30 % of the base; RFM recency 5; a category
bought in the last 30 days; at least one purchase today) and an API user. Each receipt goes to a
distinct scored customer who is not in the "purchase today" segment, one receipt at a time. Its
latency runs from sending the request until a separate connection (polling every 2 ms) sees both the
customer's RFM row with 0 days of recency and the customer's membership of "purchase today": the
worker commits both at once, so every segment is current then. After each repetition (untimed) every
customer's receipt count must have grown by one, and re-evaluating all the segments for them must
change nothing. The figure is the 95th percentile of a repetition's receipts; the 50th and the API
response alone are in the details.
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
from sqlalchemy.engine import make_url

from bench import d1_import, http_intake, s2_preview, s3_build
from bench.results import Figure, Target
from bench.run import BenchError, Run
from bench.workcopy import WorkCopy

TARGET = Target(50, False, "p95 ≤ 50 ms")
IDLE_TARGET = Target(50, False, "≤ 50 ms, as back to back")
RECEIPTS = 200  # per repetition, each for another customer
WARM_UP = 20
IDLE_GAPS = (5, 20, 60)  # seconds the worker idles before each receipt of the "after idle" figure
QUEUES = ("embedded", "Redis")
POLL_SECONDS = 0.002
WAIT_SECONDS = 30  # a receipt not current by then fails the figure
REDIS_DB = {"sqlite": 14, "postgres": 15}  # a queue of its own, away from D2/D3's jobs
TODAY = "Benchmark S4: purchase today"


@dataclass(frozen=True)
class Customer:
    id: int
    external_id: str
    receipts: int


def measure(run: Run, copy: WorkCopy) -> list[Figure]:
    figures = {queue: _figures(copy.backend, queue) for queue in QUEUES}
    try:
        segments = _prepare(copy)
        per_queue = WARM_UP + RECEIPTS * run.repeat + len(IDLE_GAPS)
        customers = _customers(copy, segments[TODAY], per_queue * len(QUEUES), run.seed)
    except BenchError as error:
        return _failed([figure for pair in figures.values() for figure in pair], str(error))
    for index, queue in enumerate(QUEUES):
        back_to_back, after_idle = figures[queue]
        back_to_back.details["segments"] = sorted(segments)
        if queue == "Redis" and not run.redis_url:
            _failed(figures[queue], "needs Redis for the job queue (make bench starts one)")
            continue
        mine = customers[index * per_queue : (index + 1) * per_queue]
        try:
            _measure(run, copy, queue, segments[TODAY], mine, back_to_back, after_idle)
        except BenchError as error:
            _failed(figures[queue], str(error))
    return [figure for pair in figures.values() for figure in pair]


def _figures(backend: str, queue: str) -> tuple[Figure, Figure]:
    """The back-to-back figure and the after-idle figure of one queue."""
    variant = f"API + worker, {queue} queue"
    back_to_back = Figure(
        "S4", "new receipt → aggregates, segments, RFM current", backend, "ms", TARGET, variant=variant,
        details={"receipts_per_repetition": RECEIPTS, "poll_ms": POLL_SECONDS * 1000},
    )  # fmt: skip
    after_idle = Figure(
        "S4", "new receipt after the worker idled 5–60 s", backend, "ms", IDLE_TARGET, variant=variant,
        details={"idle_gaps_s": list(IDLE_GAPS), "poll_ms": POLL_SECONDS * 1000},
    )  # fmt: skip
    return back_to_back, after_idle


def _failed(figures: Sequence[Figure], error: str) -> list[Figure]:
    for figure in figures:
        figure.error = error
    return list(figures)


def _measure(
    run: Run, copy: WorkCopy, queue: str, today: int, customers: list[Customer], back_to_back: Figure,
    after_idle: Figure,
) -> None:  # fmt: skip
    _, stores, products = d1_import._base_facts(copy.url)
    rng = random.Random(f"{run.seed}:s4:{queue}")
    redis_url = _own_redis_db(str(run.redis_url), REDIS_DB[copy.backend]) if queue == "Redis" else None
    with (
        http_intake.Server(copy.url, 1, run.workdir, redis_url) as server,
        _worker(server.env) as worker,
        _poller(copy.url) as poll,
        httpx.Client(base_url=server.base_url, timeout=30) as client,
    ):
        headers = {"Authorization": f"Bearer {server.token(http_intake.API_EMAIL, http_intake.API_PASSWORD)}"}
        sender = _Sender(client, headers, poll, today, worker, rng, stores, products, copy.backend)
        for customer in customers[:WARM_UP]:
            sender.send(customer, f"warm-up-{queue}")
        for repetition in range(run.repeat):
            batch = customers[WARM_UP + repetition * RECEIPTS : WARM_UP + (repetition + 1) * RECEIPTS]
            timings = [sender.send(customer, f"{queue}-{repetition}") for customer in batch]
            _check(copy, batch)
            _record(run, back_to_back, timings)
        _after_idle(run, copy, sender, customers[-len(IDLE_GAPS) :], after_idle)


def _after_idle(run: Run, copy: WorkCopy, sender: _Sender, customers: list[Customer], figure: Figure) -> None:
    """One receipt after each idle gap: nothing else reaches the worker meanwhile."""
    for gap, customer in zip(IDLE_GAPS, customers, strict=True):
        time.sleep(gap)
        total, api = sender.send(customer, f"idle-{gap}")
        figure.values.append(total * 1000)
        figure.details.setdefault("api_ms", []).append(round(api * 1000, 1))
    _check(copy, customers)
    by_gap = ", ".join(
        f"{gap} s: {value:.1f} ms" for gap, value in zip(IDLE_GAPS, figure.values, strict=True)
    )
    run.console.print(f"S4 {figure.backend} ({figure.variant}) after idle gaps: {by_gap}")


def _record(run: Run, figure: Figure, timings: list[tuple[float, float]]) -> None:
    totals = [total * 1000 for total, _ in timings]
    answers = [api * 1000 for _, api in timings]
    p95 = _percentile(totals, 95)
    figure.values.append(p95)
    for key, value in (
        ("p50_ms", _percentile(totals, 50)),
        ("max_ms", max(totals)),
        ("api_p50_ms", _percentile(answers, 50)),
        ("api_p95_ms", _percentile(answers, 95)),
    ):
        figure.details.setdefault(key, []).append(round(value, 1))
    run.console.print(
        f"S4 {figure.backend} ({figure.variant}): p95 {p95:.1f} ms, p50 {_percentile(totals, 50):.1f} ms "
        f"over {len(totals)} receipts (the API answered in p50 {_percentile(answers, 50):.1f} ms)"
    )


def _percentile(values: list[float], percent: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[percent - 1]


@dataclass
class _Sender:
    client: httpx.Client
    headers: dict[str, str]
    poll: Any  # (customer id, segment id) -> current?
    today: int  # the "purchase today" segment
    worker: subprocess.Popen[bytes]
    rng: random.Random
    stores: list[str]
    products: list[tuple[str, int]]
    backend: str

    def send(self, customer: Customer, label: str) -> tuple[float, float]:
        """Seconds until the receipt's effects are visible, and until the API answered."""
        body = self._receipt(customer, label)
        started = time.perf_counter()
        response = self.client.post("/api/v1/receipts", json=body, headers=self.headers)
        answered = time.perf_counter()
        if response.status_code != 200:
            raise BenchError(f"POST /api/v1/receipts answered {response.status_code}: {response.text[:200]}")
        while not self.poll(customer.id, self.today):
            if time.perf_counter() - started > WAIT_SECONDS:
                state = "running" if self.worker.poll() is None else f"exited with {self.worker.returncode}"
                raise BenchError(
                    f"customer {customer.id} not current after {WAIT_SECONDS} s (worker {state})"
                )
            time.sleep(POLL_SECONDS)
        return time.perf_counter() - started, answered - started

    def _receipt(self, customer: Customer, label: str) -> dict[str, Any]:
        lines = []
        for _ in range(self.rng.choice((1, 2, 3, 4))):
            sku, price = self.rng.choice(self.products)
            lines.append({"sku": sku, "quantity": "1", "price": d1_import._money(price)})
        return {
            "number": f"S4-{self.backend}-{label}-{customer.id}",
            "store": self.rng.choice(self.stores),
            "customer_external_id": customer.external_id,
            "purchased_at": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "lines": lines,
        }


def _prepare(copy: WorkCopy) -> dict[str, int]:
    """An RFM calculation, the built segments (name -> id) and the API user."""
    from sqlalchemy import select

    from smartcomm.models import RfmCalculation, Segment
    from smartcomm.rfm.service import rfm_service
    from smartcomm.segments.service import segment_service

    with copy.session() as session:
        done = select(RfmCalculation.id).where(RfmCalculation.status == "done").limit(1)
        if session.scalar(done) is None:
            rfm_service.run(session, "benchmark")
    _, amount = s3_build._thresholds(copy)
    category = copy.scalar("SELECT min(id) FROM categories WHERE parent_id IS NULL")
    rules = {
        "Benchmark S4: S2 rules": s2_preview.RULES,
        "Benchmark S4: big spenders": s3_build._rules("purchases.amount", str(Decimal(amount) / 100)),
        "Benchmark S4: RFM recency 5": s3_build._rules("rfm.r", 5),
        "Benchmark S4: category in 30 days": _one(
            "purchases.category_count", 1, {"category": category, "period": _last(30)}
        ),
        TODAY: _one("purchases.count", 1, {"period": _last(1)}),
    }
    ids = {}
    with copy.session() as session:
        for name, tree in rules.items():
            segment = Segment(name=name, rules=tree)  # saved directly: no build job is queued
            session.add(segment)
            session.flush()
            ids[name] = segment.id
    for segment_id in ids.values():
        with copy.session() as session:
            segment_service.build(session, segment_id, "benchmark")
    http_intake._add_api_user(copy.url)
    return ids


def _last(days: int) -> dict[str, Any]:
    return {"kind": "last", "n": days, "unit": "days"}


def _one(metric: str, at_least: int, params: dict[str, Any]) -> dict[str, Any]:
    tree = s3_build._rules(metric, at_least)
    tree["root"]["children"][0]["params"] = params
    return tree


def _customers(copy: WorkCopy, today_segment: int, count: int, seed: int) -> list[Customer]:
    """Distinct scored customers, not in the "purchase today" segment, in a seeded random order."""
    from sqlalchemy import text

    statement = text(
        "SELECT c.id, c.external_id, c.receipt_count FROM customers c "
        "JOIN customer_rfm r ON r.customer_id = c.id "
        "WHERE r.recency_days >= 1 AND NOT EXISTS (SELECT 1 FROM segment_memberships m "
        "WHERE m.segment_id = :segment AND m.customer_id = c.id AND m.exited_at IS NULL) "
        "ORDER BY c.id"
    )
    with copy.database.engine.connect() as connection:
        found = [Customer(*row) for row in connection.execute(statement, {"segment": today_segment})]
    if len(found) < count:
        raise BenchError(f"only {len(found)} customers fit S4, {count} needed")
    return random.Random(f"{seed}:s4-customers").sample(found, count)


def _check(copy: WorkCopy, batch: list[Customer]) -> None:
    """Every customer's aggregates took the receipt, and no segment membership of theirs is stale."""
    from sqlalchemy import select

    from smartcomm.models import Customer as CustomerRow
    from smartcomm.segments.service import segment_service

    ids = [customer.id for customer in batch]
    with copy.bound() as database:
        session = database.session()
        try:
            statement = select(CustomerRow.id, CustomerRow.receipt_count).where(CustomerRow.id.in_(ids))
            counts = dict(session.execute(statement).tuples().all())
            stale = segment_service.refresh_customers(session, ids)
        finally:
            session.rollback()
            session.close()
    behind = [c.id for c in batch if counts.get(c.id) != c.receipts + 1]
    if behind:
        raise BenchError(
            f"{len(behind)} customers' receipt counts did not take the receipt, e.g. {behind[:3]}"
        )
    if stale:
        raise BenchError(f"memberships were stale after the refresh: {stale}")


def _own_redis_db(url: str, number: int) -> str:
    """The Redis URL with another database number, emptied."""
    import redis

    own = make_url(url).set(database=str(number)).render_as_string(hide_password=False)
    redis.Redis.from_url(own).flushdb()
    return own


@contextlib.contextmanager
def _worker(env: dict[str, str]) -> Iterator[subprocess.Popen[bytes]]:
    command = [sys.executable, "-m", "smartcomm.cli.main", "worker", "--no-periodic"]
    process = subprocess.Popen(
        command, env=env, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)  # the worker we started, its threads with it
                process.wait(timeout=10)


@contextlib.contextmanager
def _poller(url: str) -> Iterator[Any]:
    """A function (customer id, segment id) -> whether the RFM row and the membership are current,
    on a connection of its own that sees every commit (autocommit, no write lock)."""
    statement = (
        "SELECT (SELECT recency_days FROM customer_rfm WHERE customer_id = {0}), "
        "(SELECT count(*) FROM segment_memberships WHERE segment_id = {0} AND customer_id = {0} "
        "AND exited_at IS NULL)"
    )
    parsed = make_url(url)
    connection: Any
    if parsed.get_backend_name() == "sqlite":
        connection = sqlite3.connect(str(parsed.database), isolation_level=None, check_same_thread=False)
        query = statement.format("?")
    else:
        import psycopg

        plain = parsed.set(drivername="postgresql").render_as_string(hide_password=False)
        connection = psycopg.connect(plain, autocommit=True)
        query = statement.format("%s")

    def current(customer_id: int, segment_id: int) -> bool:
        row = connection.execute(query, (customer_id, segment_id, customer_id)).fetchone()
        return row is not None and row[0] == 0 and row[1] == 1

    try:
        yield current
    finally:
        connection.close()
