"""W1: the open pixel and the click redirect over HTTP, with their records persisted, beside a bare
FastAPI endpoint on the same server in the same run.

For each backend a fresh copy of the demo base gets 10,000 e-mails in the ledger, delivered two hours
ago, to customers of the base, each with three tracked links (so a click is a person's: neither seconds
after delivery nor a burst). uvicorn serves the product's app with one web worker (the figure is per
worker); wrk, in its own process with one thread, drives 16 connections for the tier's HTTP run length
after a 3 s warm-up, requesting `/t/o/<token>.gif` (opens) or `/t/c/<token>` (clicks) with a browser's
user agent, the tokens taken in turn from a file of all the messages' signed tokens. Right after each run
the same server answers `GET /healthz` (a FastAPI route that does no work) over the same connections for
the same time: the reference.

The pixel and the redirect answer before their records are written: the process's writer thread writes
what arrived meanwhile in one transaction. A run counts only if wrk saw no failed request and no socket
error, and the database then holds one `opened` (or `clicked`) event per answered request — counted
before and after the run once the count stops moving (requests in flight when wrk stops may add at
most their own).
"""

from __future__ import annotations

import subprocess
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select, text

from bench.http_intake import Server, _wrk_result
from bench.results import Figure, Target
from bench.run import BenchError, Run
from smartcomm.delivery.tokens import Purpose, sign
from smartcomm.kit.db import create_db_engine
from smartcomm.models import Customer, Message, TrackedLink

LUA = Path(__file__).resolve().parent / "tracking.lua"
BARE_LUA = Path(__file__).resolve().parent / "bare.lua"
BARE_PATH = "/healthz"
MESSAGES = 10_000
LINKS = ("https://shop.example/sale", "https://shop.example/new", "https://shop.example/stores")
CONNECTIONS = 16
WARM_UP_SECONDS = 3
BROWSER = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0"
TARGETS = {
    "rate": Target(4_000, True, "≥ 4 k req/s per worker"),
    "p99": Target(20, False, "p99 ≤ 20 ms"),
}


@dataclass(frozen=True)
class Load:
    kind: str  # open | click
    title: str
    event: str  # the message event each request records


LOADS = (
    Load("open", "open pixel", "opened"),
    Load("click", "click redirect", "clicked"),
)


def measure(run: Run, backend: str) -> list[Figure]:
    figures = _figures(backend)
    try:
        _measure(run, backend, figures)
    except (BenchError, subprocess.SubprocessError) as error:
        for figure in figures.values():
            figure.error = figure.error or str(error)
    return list(figures.values())


def _figures(backend: str) -> dict[str, Figure]:
    figures: dict[str, Figure] = {}
    for load in LOADS:
        rate = Figure("W1", load.title, backend, "req/s", TARGETS["rate"], variant="1 web worker")
        rate.reference_title = f"bare GET {BARE_PATH}, same server"
        rate.details = {"connections": CONNECTIONS, "messages": MESSAGES}
        latency = Figure(
            "W1", f"{load.title} latency p99", backend, "ms", TARGETS["p99"], variant="1 web worker"
        )
        figures[load.kind] = rate
        figures[f"{load.kind} p99"] = latency
    return figures


def _measure(run: Run, backend: str, figures: dict[str, Figure]) -> None:
    base = run.databases.base(backend, run.tier, run.seed)
    url = run.databases.clone(base)
    try:
        server = Server(url, 1, run.workdir, run.redis_url)
        tokens = _prepare(run, url, server.env["SMARTCOMM_SECRET_KEY"])
        with server:
            _wrk(server, tokens["open"], WARM_UP_SECONDS)
            for load in LOADS:
                for repetition in range(run.repeat):
                    _repetition(run, server, url, load, tokens[load.kind], figures, repetition)
        for load in LOADS:
            _reject_empty(figures, load)
    finally:
        run.databases.drop(url)


def _repetition(
    run: Run, server: Server, url: str, load: Load, tokens: Path, figures: dict[str, Figure], repetition: int
) -> None:
    before = _settled_count(url, load.event)
    result = _wrk(server, tokens, run.tier.http_seconds)
    stored = _settled_count(url, load.event) - before
    answered = result["requests"]
    if result["non_2xx"] or result["socket_errors"] or not answered <= stored <= answered + CONNECTIONS:
        reason = (
            f"{result['non_2xx']} failed requests, {result['socket_errors']} socket errors, "
            f"{stored} {load.event} events stored for {answered} answered"
        )
        figures[load.kind].details.setdefault("rejected_runs", []).append(reason)
        run.console.print(f"[red]W1 {load.kind}: run rejected: {reason}[/red]")
        return
    rate = answered / (result["duration_us"] / 1e6)
    figures[load.kind].values.append(rate)
    figures[f"{load.kind} p99"].values.append(result["p99_us"] / 1000)
    figures[f"{load.kind} p99"].details.setdefault("p50_ms", []).append(result["p50_us"] / 1000)
    bare = _wrk(server, None, run.tier.http_seconds)
    figures[load.kind].reference.append(bare["requests"] / (bare["duration_us"] / 1e6))
    p99, bare_rate = result["p99_us"] / 1000, figures[load.kind].reference[-1]
    run.console.print(
        f"W1 {load.kind} ({repetition + 1}/{run.repeat}): {rate:,.0f} req/s, p99 {p99:.1f} ms; "
        f"bare {bare_rate:,.0f} req/s"
    )


def _reject_empty(figures: dict[str, Figure], load: Load) -> None:
    for code in (load.kind, f"{load.kind} p99"):
        if not figures[code].values:
            rejected = "; ".join(figures[load.kind].details.get("rejected_runs", []))
            figures[code].error = f"every run failed its checks: {rejected}"


def _wrk(server: Server, tokens: Path | None, seconds: float) -> dict[str, Any]:
    """One wrk run: the tracking load from a token file, or plain GETs of the bare endpoint."""
    command = ["wrk", "-t1", f"-c{CONNECTIONS}", f"-d{seconds:g}s", "--timeout", "10s"]
    if tokens is None:
        command += ["-s", str(BARE_LUA), server.base_url + BARE_PATH]
    else:
        command += ["-s", str(LUA), server.base_url, "--", str(tokens), BROWSER]
    finished = subprocess.run(command, capture_output=True, text=True, check=False, timeout=seconds + 120)
    result = _wrk_result(finished)
    if tokens is None and (result["non_2xx"] or result["socket_errors"]):
        raise BenchError(f"the bare endpoint failed: {result}")
    return result


# --- the messages and their tokens -----------------------------------------------------------------------


def _prepare(run: Run, url: str, secret: str) -> dict[str, Path]:
    """Delivered e-mails with their links in the copy, and a file of their tokens per kind of request,
    signed with the server's secret key."""
    engine = create_db_engine(url)
    try:
        with engine.begin() as connection:
            customers = list(connection.scalars(select(Customer.id).order_by(Customer.id).limit(MESSAGES)))
            if not customers:
                raise BenchError("the demo base has no customers")
            sent = datetime.now(UTC) - timedelta(hours=2)
            rows = [_message(number, customers[number % len(customers)], sent) for number in range(MESSAGES)]
            connection.execute(insert(Message), rows)
            connection.execute(
                insert(TrackedLink),
                [{"url_hash": f"{n:064x}", "url": link, "created_at": sent} for n, link in enumerate(LINKS)],
            )
            message_ids = list(connection.scalars(select(Message.id).order_by(Message.id)))
            link_ids = list(connection.scalars(select(TrackedLink.id).order_by(TrackedLink.id)))
            if engine.dialect.name == "postgresql":
                connection.execute(text("ANALYZE messages"))
    finally:
        engine.dispose()
    return _token_files(run, message_ids, link_ids, secret)


def _message(number: int, customer_id: int, sent: datetime) -> dict[str, Any]:
    return {
        "idempotency_key": f"bench-w1-{number:054d}",
        "source_kind": "mailing",
        "source_id": 1,
        "customer_id": customer_id,
        "channel": "email",
        "recipient": f"customer{customer_id}@example.com",
        "status": "delivered",
        "is_sandbox": False,
        "attempts": 1,
        "next_attempt_at": sent,
        "priority": 1,
        "options": {},
        "handed_over_at": sent,
        "created_at": sent,
        "sent_at": sent,
        "delivered_at": sent,
        "opens": 0,
        "clicks": 0,
        "machine_opens": 0,
        "machine_clicks": 0,
    }


def _token_files(run: Run, message_ids: list[int], link_ids: list[int], secret: str) -> dict[str, Path]:
    opens = run.workdir / "w1-opens.txt"
    clicks = run.workdir / "w1-clicks.txt"
    opens.write_text("".join(f"/t/o/{sign(Purpose.OPEN, mid, secret=secret)}.gif\n" for mid in message_ids))
    clicks.write_text(
        "".join(
            f"/t/c/{sign(Purpose.CLICK, mid, link_ids[n % len(link_ids)], secret=secret)}\n"
            for n, mid in enumerate(message_ids)
        )
    )
    return {"open": opens, "click": clicks}


def _settled_count(url: str, kind: str) -> int:
    """Stored events of this kind once the writer has caught up (the count holds)."""
    engine = create_db_engine(url)
    try:
        with engine.connect() as connection:
            statement = text("SELECT count(*) FROM message_events WHERE kind = :kind")
            count = -1
            for _ in range(50):
                previous, count = count, int(connection.scalar(statement, {"kind": kind}) or 0)
                connection.rollback()
                if count == previous:
                    break
                time.sleep(0.3)
            return count
    finally:
        engine.dispose()
