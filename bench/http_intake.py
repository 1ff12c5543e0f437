"""D2 and D3: event intake over HTTP, persisted, against the real server in a separate process.

For each backend and number of web workers (1 and 2 on our 2-core machines) a fresh copy of the
demo base gets an API user, and uvicorn serves the product's app factory on a free port (access log
off, rate limit raised so that it never caps the load). wrk, in its own process with one thread,
drives `POST /api/v1/events`: D2 sends 100 events per request, D3 one. Every run is checked: no
failed request, and every acknowledged event is stored (counted in the database before and after; at
most the requests still in flight when wrk stops may add theirs).
Throughput is acknowledged events over wrk's measured duration (their storage is checked as above); D3
also reports wrk's 99th percentile of the request latency. After each D3 run the same server answers
plain GETs of /healthz, with the same connections for the same time: D3's reference, what the web stack
itself allows on this machine at that moment.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text

from bench.results import Figure, Target
from bench.run import BenchError, Run
from smartcomm.kit.db import create_db_engine

LUA = Path(__file__).resolve().parent / "events.lua"
BARE_LUA = Path(__file__).resolve().parent / "bare.lua"
BARE_PATH = "/healthz"  # the reference of D3: the same server answering a request that does no work
API_EMAIL, API_PASSWORD = "bench-api@example.com", "Bench-password-1"
WORKERS = (1, 2)
WARM_UP_SECONDS = 3


@dataclass(frozen=True)
class Load:
    figure: str
    title: str
    batch: int  # events per request
    connections: int
    event_name: str


LOADS = {
    "D2": Load("D2", "batched event intake (100 per request)", 100, 8, "bench_batch"),
    "D3": Load("D3", "single-event intake", 1, 16, "bench_single"),
}
TARGETS = {
    "D2": Target(50_000, True, "≥ 50 k events/s"),
    "D3": Target(3_000, True, "≥ 3 k events/s"),
    "D3 p99": Target(50, False, "p99 ≤ 50 ms"),
}


def measure(run: Run, backend: str, wanted: list[str]) -> list[Figure]:
    """The figures among D2 and D3 in `wanted`, for each number of web workers."""
    figures: list[Figure] = []
    for workers in WORKERS:
        variant = f"{workers} web worker{'s' if workers > 1 else ''}"
        batch = _figures_for(backend, variant, wanted)
        figures.extend(batch.values())
        if shutil.which("wrk") is None:
            for figure in batch.values():
                figure.error = "wrk is not installed (scripts/system-packages.sh bench)"
            continue
        try:
            _measure_workers(run, backend, workers, batch)
        except BenchError as error:
            for figure in batch.values():
                figure.error = figure.error or str(error)
    return figures


def _figures_for(backend: str, variant: str, wanted: list[str]) -> dict[str, Figure]:
    figures = {}
    for code in wanted:
        load = LOADS[code]
        figures[code] = Figure(
            code,
            load.title,
            backend,
            "events/s",
            TARGETS[code],
            variant=variant,
            details={"connections": load.connections, "events_per_request": load.batch},
        )
        if code == "D3":
            figures[code].reference_title = f"bare GET {BARE_PATH}, same server"
            figures["D3 p99"] = Figure(
                "D3",
                "single-event latency p99",
                backend,
                "ms",
                TARGETS["D3 p99"],
                variant=variant,
                details={"connections": load.connections},
            )
    return figures


def _measure_workers(run: Run, backend: str, workers: int, figures: dict[str, Figure]) -> None:
    base = run.databases.base(backend, run.tier, run.seed)
    url = run.databases.clone(base)
    try:
        _add_api_user(url)
        customers = _customers_file(run, url)
        with Server(url, workers, run.workdir, run.redis_url) as server:
            token = server.token(API_EMAIL, API_PASSWORD)
            server.wrk(LOADS["D3"], token, customers, WARM_UP_SECONDS, "warm-up")
            for code in ("D2", "D3"):
                if code in figures:
                    _repeat(run, server, url, LOADS[code], token, customers, figures)
    finally:
        run.databases.drop(url)


def _repeat(
    run: Run, server: Server, url: str, load: Load, token: str, customers: Path, figures: dict[str, Figure]
) -> None:
    """Repeated wrk runs; a run whose checks fail is kept out of the figure and listed with its reason."""
    for repetition in range(run.repeat):
        before = _settled_count(url, load.event_name)
        result = server.wrk(load, token, customers, run.tier.http_seconds, f"{load.figure}-{repetition}")
        stored = _settled_count(url, load.event_name) - before
        sent = result["requests"] * load.batch  # answered 2xx within the run
        in_flight = load.connections * load.batch  # sent as the run ended: stored, but not counted by wrk
        if result["non_2xx"] or result["socket_errors"] or not sent <= stored <= sent + in_flight:
            reason = (
                f"{result['non_2xx']} failed requests, {result['socket_errors']} socket errors, "
                f"{stored} events stored for {sent} acknowledged"
            )
            figures[load.figure].details.setdefault("rejected_runs", []).append(reason)
            run.console.print(f"[red]{load.figure} {server.workers} worker(s): run rejected: {reason}[/red]")
            continue
        _record(run, figures, load, result, sent, server.workers)
        if load.figure == "D3":
            _record_bare(run, server, load, figures[load.figure], repetition)
    for code in (load.figure, f"{load.figure} p99"):
        figure = figures.get(code)
        if figure is not None and not figure.values:
            figure.error = "every run failed its checks: " + "; ".join(
                figures[load.figure].details["rejected_runs"]
            )


def _record(
    run: Run, figures: dict[str, Figure], load: Load, result: dict[str, Any], sent: int, workers: int
) -> None:
    seconds = result["duration_us"] / 1e6
    figures[load.figure].values.append(sent / seconds)
    run.console.print(
        f"{load.figure} {workers} worker(s): {sent / seconds:,.0f} events/s, "
        f"p99 {result['p99_us'] / 1000:.1f} ms"
    )
    if load.figure == "D3":
        figures["D3 p99"].values.append(result["p99_us"] / 1000)
        figures["D3 p99"].details.setdefault("p50_ms", []).append(result["p50_us"] / 1000)


def _record_bare(run: Run, server: Server, load: Load, figure: Figure, repetition: int) -> None:
    """The reference beside each D3 run: how many requests per second the same server answers when a
    request does no work at all (what the web stack alone allows on this machine, now)."""
    bare = server.wrk_bare(load.connections, run.tier.http_seconds, f"bare-{repetition}")
    figure.reference.append(bare["requests"] / (bare["duration_us"] / 1e6))


def _settled_count(url: str, name: str) -> int:
    """Stored events of this name once requests still being processed have finished (the count holds)."""
    engine = create_db_engine(url)
    try:
        with engine.connect() as connection:
            statement = text("SELECT count(*) FROM events WHERE name = :name")
            count = -1
            for _ in range(50):
                previous, count = count, int(connection.scalar(statement, {"name": name}) or 0)
                connection.rollback()  # a fresh snapshot for the next look
                if count == previous:
                    break
                time.sleep(0.3)
            return count
    finally:
        engine.dispose()


def _add_api_user(url: str) -> None:
    from smartcomm.audit.actor import Actor
    from smartcomm.auth.permissions import Role
    from smartcomm.auth.schemas import UserCreate
    from smartcomm.auth.service import user_service
    from smartcomm.kit.db import Database, session_scope, set_database

    database = Database(url)
    previous = set_database(database)
    try:
        with session_scope() as session:
            data = UserCreate(
                email=API_EMAIL, full_name="Benchmark client", role=Role.API, password=API_PASSWORD
            )
            user_service.create(session, Actor.system("benchmarks"), data)
    finally:
        set_database(previous)
        database.dispose()


def _customers_file(run: Run, url: str) -> Path:
    """External ids of up to 100,000 customers of the base, one per line, for the load script."""
    path = run.workdir / f"customers-{run.tier.name}-{run.seed}.txt"
    if path not in run.files:
        engine = create_db_engine(url)
        try:
            with engine.connect() as connection:
                ids = list(
                    connection.scalars(text("SELECT external_id FROM customers ORDER BY id LIMIT 100000"))
                )
        finally:
            engine.dispose()
        path.write_text("\n".join(ids) + "\n")
        run.files[path] = len(ids)
    return path


class Server:
    """uvicorn serving `smartcomm.app:create_app` in its own process group, stopped on exit."""

    def __init__(self, url: str, workers: int, workdir: Path, redis_url: str | None) -> None:
        self.port = _free_port()
        self.workers = workers
        self.base_url = f"http://127.0.0.1:{self.port}"
        var_dir = workdir / f"server-var-{self.port}"
        var_dir.mkdir(parents=True, exist_ok=True)
        self.env = os.environ | {
            "SMARTCOMM_DATABASE_URL": url,
            "SMARTCOMM_VAR_DIR": str(var_dir),
            "SMARTCOMM_API_RATE_LIMIT": "100000000/minute",
            "SMARTCOMM_API_TOKEN_TTL_MINUTES": "600",
            "SMARTCOMM_SECRET_KEY": "benchmark-secret-key-long-enough-for-hs256-signing",
        }
        if redis_url:
            self.env["SMARTCOMM_REDIS_URL"] = redis_url
        self.command = [
            sys.executable,
            "-m",
            "uvicorn",
            "smartcomm.app:create_app",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--workers",
            str(workers),
            "--no-access-log",
            "--log-level",
            "warning",
        ]
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Server:
        self.process = subprocess.Popen(self.command, env=self.env, start_new_session=True)
        self._wait_until_ready()
        return self

    def __exit__(self, *_: object) -> None:
        process = self.process
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)  # the group of the server we started, workers included
            process.wait(timeout=10)

    def _wait_until_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise BenchError(f"the server exited with code {self.process.returncode}")
            try:
                if httpx.get(f"{self.base_url}/api/openapi.json", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise BenchError("the server did not answer within a minute")

    def token(self, username: str, password: str) -> str:
        response = httpx.post(
            f"{self.base_url}/api/v1/token", json={"username": username, "password": password}, timeout=30
        )
        if response.status_code != 200:
            raise BenchError(f"no API token: {response.status_code} {response.text[:200]}")
        return str(response.json()["access_token"])

    def wrk(self, load: Load, token: str, customers: Path, seconds: float, run_id: str) -> dict[str, Any]:
        """One wrk run (one thread); wrk's own summary, parsed from the load script's output."""
        occurred = datetime.now(UTC).replace(microsecond=0).isoformat()
        command = [
            "wrk",
            "-t1",
            f"-c{load.connections}",
            f"-d{seconds:g}s",
            "--timeout",
            "10s",
            "-s",
            str(LUA),
            self.base_url,
            "--",
            str(load.batch),
            load.event_name,
            str(customers),
            f"{run_id}-{time.time_ns()}",
            token,
            occurred,
        ]
        finished = subprocess.run(command, capture_output=True, text=True, check=False, timeout=seconds + 120)
        return _wrk_result(finished)

    def wrk_bare(self, connections: int, seconds: float, run_id: str) -> dict[str, Any]:
        """One wrk run of plain GETs of the bare endpoint."""
        command = [
            "wrk",
            "-t1",
            f"-c{connections}",
            f"-d{seconds:g}s",
            "--timeout",
            "10s",
            "-s",
            str(BARE_LUA),
        ]
        finished = subprocess.run(
            [*command, self.base_url + BARE_PATH],
            capture_output=True,
            text=True,
            check=False,
            timeout=seconds + 120,
        )
        result = _wrk_result(finished)
        if result["non_2xx"] or result["socket_errors"]:
            raise BenchError(f"the bare endpoint failed during {run_id}: {result}")
        return result


def _wrk_result(finished: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    """wrk's summary, as printed by the load script's done()."""
    found = re.search(r"^RESULT (\{.*\})$", finished.stdout, re.MULTILINE)
    if finished.returncode != 0 or found is None:
        raise BenchError(f"wrk failed: {finished.stderr.strip() or finished.stdout.strip()}"[:300])
    result: dict[str, Any] = json.loads(found.group(1))
    return result


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
