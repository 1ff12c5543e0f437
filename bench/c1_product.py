"""C1 and C2's product as a user meets it: the app under uvicorn and `smartcomm worker` in processes of
their own on one database, the worker idle on its queue (embedded, or in Redis); receipts posted through
the API one at a time; a job queued into the worker's queue from another process, as the web does."""

from __future__ import annotations

import contextlib
import random
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import httpx

from bench import http_intake, m1_mailing, s4_receipt
from bench.run import BenchError, Run
from smartcomm.kit.time import utcnow

PAUSE_SECONDS = (0.0, 3.0)
REDIS_DB = 13  # a queue of its own, away from S4's and D2/D3's


@dataclass(frozen=True)
class Posted:
    customer_id: int
    at: float  # time.time() just before the POST
    api_seconds: float


@dataclass
class Product:
    server: http_intake.Server
    worker: subprocess.Popen[bytes]
    client: httpx.Client
    headers: dict[str, str]
    backend: str
    numbers: Iterator[int] = field(default_factory=lambda: iter(range(1, 10**9)))

    def post_now(self, customer: tuple[int, str], label: str) -> Posted:
        customer_id, external_id = customer
        body = {
            "number": f"C-{self.backend}-{label}-{customer_id}-{next(self.numbers)}",
            "store": "MSK-01",
            "customer_external_id": external_id,
            "purchased_at": utcnow().isoformat(timespec="milliseconds"),
            "lines": [{"sku": f"SKU-{customer_id % 50}", "quantity": "1", "price": "990.00"}],
        }
        started = time.time()
        response = self.client.post("/api/v1/receipts", json=body, headers=self.headers)
        answered = time.time()
        if response.status_code != 200:
            raise BenchError(f"POST /api/v1/receipts answered {response.status_code}: {response.text[:200]}")
        if self.worker.poll() is not None:
            raise BenchError(f"the worker exited with {self.worker.returncode}")
        return Posted(customer_id, started, answered - started)

    def post(self, customer: tuple[int, str], pause: float, label: str) -> Posted:
        time.sleep(pause)
        return self.post_now(customer, label)

    def post_while(
        self, customers: list[tuple[int, str]], rng: random.Random, going: Callable[[], bool], label: str
    ) -> list[Posted]:
        """Receipts after pauses of 0–3 s while `going()` holds (one customer each, in order)."""
        posted: list[Posted] = []
        for customer in customers:
            time.sleep(rng.uniform(*PAUSE_SECONDS))
            if not going():
                return posted
            posted.append(self.post_now(customer, label))
        raise BenchError(f"the walk outlasted {len(customers)} receipts")

    def queue(self, module: str, task: str) -> float:
        """Queue a job from a process of its own, as a web process does; the time just before."""
        code = f"import time\nfrom {module} import {task}\nqueued = time.time()\n{task}()\nprint(queued)"
        done = subprocess.run(
            [sys.executable, "-c", code], env=self.server.env, capture_output=True, text=True, timeout=120
        )
        if done.returncode != 0:
            raise BenchError(f"queueing {task} failed: {done.stderr.strip()[-300:]}")
        return float(done.stdout.strip().splitlines()[-1])


@contextlib.contextmanager
def deployed(run: Run, url: str, queue: str, redis_url: str | None) -> Iterator[Product]:
    """The server and the worker on this database, the worker idle on its queue."""
    if queue == "Redis" and not redis_url:
        raise BenchError("needs Redis for the job queue (make bench starts one)")
    own_redis = s4_receipt._own_redis_db(redis_url, REDIS_DB) if redis_url else None
    server = http_intake.Server(url, 1, run.workdir, own_redis)
    if own_redis is None:
        server.env.pop("SMARTCOMM_REDIS_URL", None)  # the embedded queue, as `make run` has it
    with (
        server,
        m1_mailing._worker(server.env) as worker,
        httpx.Client(base_url=server.base_url, timeout=60) as client,
    ):
        _wait_until_idle(server.env, worker, own_redis)
        token = server.token(http_intake.API_EMAIL, http_intake.API_PASSWORD)
        backend = "sqlite" if url.startswith("sqlite") else "postgres"
        yield Product(server, worker, client, {"Authorization": f"Bearer {token}"}, backend)


def _wait_until_idle(env: dict[str, str], worker: subprocess.Popen[bytes], redis_url: str | None) -> None:
    """The embedded queue's idle worker waits on its doorbell; Redis's blocks in BRPOP."""
    if redis_url is None:
        m1_mailing._wait_until_idle(env, worker)
        return
    import redis

    connection = redis.Redis.from_url(redis_url)
    deadline = time.monotonic() + m1_mailing.IDLE_SECONDS
    while not any(client.get("cmd") == "brpop" for client in connection.client_list()):
        if worker.poll() is not None or time.monotonic() > deadline:
            raise BenchError("the worker did not start waiting on its Redis queue")
        time.sleep(0.05)
    connection.close()


class Watch:
    """A thread that looks every `every` seconds whether `probe()` holds, and keeps the first time it did."""

    def __init__(self, probe: Callable[[], bool], every: float = 0.1) -> None:
        self.probe, self.every, self.at = probe, every, None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._look, daemon=True)
        self.error: Exception | None = None

    def __enter__(self) -> Watch:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()
        if self.error is not None:
            raise BenchError(f"watching the campaign failed: {self.error}")

    def _look(self) -> None:
        try:
            while not self._stop.is_set() and not self.probe():
                self._stop.wait(self.every)
            if not self._stop.is_set():
                self.at = time.time()
        except Exception as error:  # reported by __exit__, in the harness's thread
            self.error = error

    def wait(self, timeout: float) -> None:
        self._thread.join(timeout)
        if self.at is None:
            raise BenchError(f"the date campaign was not walked within {timeout:.0f} s")
