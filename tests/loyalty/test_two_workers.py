"""Two worker processes send the accrual requests together, and no request reaches the loyalty system twice:
each attempt is claimed (`UPDATE … WHERE status = 'pending' AND next_attempt_at <= now`, row count checked)
before it is made. The loyalty system on loopback answers slowly, so both workers' threads are in flight
at once; every request arrives exactly once, signed, and all end delivered."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from sqlalchemy import insert, select

from smartcomm.kit.db import Database
from smartcomm.kit.time import utcnow
from smartcomm.models import LoyaltyRequest
from tests.loyalty.conftest import connect, member
from tests.webhooks.conftest import Received
from tests.worker.processes import production_env, queue_job, start_worker, stop, wait_until

pytestmark = pytest.mark.slow

REQUESTS = 120
DELIVERIES = 3  # jobs queued for the two workers (two threads each), besides the one each queues as it starts


@dataclass
class SlowLoyaltySystem:
    url: str = ""
    received: list[Received] = field(default_factory=list)
    in_flight: int = 0
    most_in_flight: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


@pytest.fixture
def slow_loyalty() -> Iterator[SlowLoyaltySystem]:
    system = SlowLoyaltySystem()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            with system.lock:
                system.in_flight += 1
                system.most_in_flight = max(system.most_in_flight, system.in_flight)
            time.sleep(0.02)  # the loyalty system takes a moment: the workers' attempts overlap
            with system.lock:
                system.received.append(Received(dict(self.headers.items()), body))
                system.in_flight -= 1
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    system.url = f"http://127.0.0.1:{server.server_port}/loyalty"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield system
    server.shutdown()
    server.server_close()


def record_requests(database: Database, url: str) -> None:
    """REQUESTS pending accruals, due now (written as the service writes them, without sending them)."""
    with database.session() as session:
        connect(session, url)
        customer_id = member(session).id
        now = utcnow() - timedelta(seconds=1)
        rows = [
            {"customer_id": customer_id, "operation": "accrue", "amount": Decimal("10.00"), "key": f"k-{n}",
             "source_kind": "campaign", "status": "pending", "attempts": 0, "next_attempt_at": now,
             "created_at": now}
            for n in range(REQUESTS)
        ]  # fmt: skip
        session.execute(insert(LoyaltyRequest), rows)
        session.commit()


def statuses(database: Database) -> Counter[str]:
    with database.session() as session:
        return Counter(session.scalars(select(LoyaltyRequest.status)))


def test_two_workers_send_each_request_exactly_once(
    live_database: Database, slow_loyalty: SlowLoyaltySystem, tmp_path: Path
) -> None:
    record_requests(live_database, slow_loyalty.url)
    env = production_env(live_database.url, tmp_path / "var")
    workers = [start_worker(env, tmp_path / f"worker-{n}.log") for n in range(2)]
    try:
        for _ in range(DELIVERIES):
            queue_job(env, "smartcomm.loyalty.tasks", "deliver_requests")
        wait_until(
            lambda: statuses(live_database) == Counter({"delivered": REQUESTS}), "every request delivered"
        )
    finally:
        for worker in workers:
            stop(worker)

    keys = Counter(received.headers["Idempotency-Key"] for received in slow_loyalty.received)
    assert keys == Counter({f"k-{n}": 1 for n in range(REQUESTS)})
    assert all(received.signed_correctly for received in slow_loyalty.received)
    assert slow_loyalty.most_in_flight > 1  # the workers did send at the same time
    with live_database.session() as session:
        assert set(session.scalars(select(LoyaltyRequest.attempts))) == {1}
