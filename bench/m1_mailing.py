"""M1: a mass e-mail sent by the real worker — rendering, MIME, SMTP and the ledger — into Postfix's
`smtp-sink` on loopback, and the sending process's peak memory.

A fresh database per backend gets the tier's `mailing_recipients` customers, all members of one segment
(bulk INSERT … SELECT, shared with M2), a personalised HTML template (about 3 KB, 21 tracked links) and an
active SMTP provider pointed at the sink (no TLS, one connection per dispatcher). Each repetition:

1. starts `smartcomm worker --no-periodic` as a user would (its own process, the embedded job queue in a
   folder of its own, the default threads) and waits until it idles on its queue;
2. launches a new mailing to the segment and queues its collect job into the worker's queue, as the web
   process does after the launch; the worker collects the audience in batches and sends meanwhile;
3. waits until no message of the mailing waits any more, reads the worker's peak resident memory
   (`VmHWM` of `/proc/<pid>/status`) and stops it.

The figure is messages per second from the first hand-over to the last (the ledger's `handed_over_at`):
`(n - 1) / (last - first)`. The second figure is the worker's peak RSS. **Check:** every message of the
mailing is sent (none failed, deferred or unconfirmed) and the sink counted exactly as many new messages.

The reference, in the same run against the same sink: Python's `smtplib` sending the same number of
pre-built messages (bytes of the same size built once, one connection, one process) — the floor any
sender in Python pays for the SMTP hop alone.
"""

from __future__ import annotations

import contextlib
import os
import signal
import smtplib
import subprocess
import sys
import time
from collections.abc import Iterator
from email import policy
from email.message import EmailMessage
from pathlib import Path

from sqlalchemy import func, select

from bench.m2_snapshot import (
    ACTOR,
    HTML,
    bulk_audience,
    draft_mailing,
    email_template,
    fresh_database,
    ledger_count,
    no_jobs,
    using,
)
from bench.results import Figure, Target
from bench.run import BenchError, Run
from bench.smtp_sink import SmtpSink, smtp_sink
from smartcomm.channels.service import channel_provider_service
from smartcomm.delivery.ledger import Source, Status
from smartcomm.kit.db import Database, session_scope
from smartcomm.mailings.repository import WAITING
from smartcomm.mailings.service import mailing_service
from smartcomm.models import Message

RATE_TARGET = Target(1500, True, "≥ 1,500 messages/s")
MEMORY_TARGET = Target(250, False, "≤ 250 MB")
IDLE_SECONDS = 30  # a worker not waiting on its queue by then fails the figure


def measure(run: Run, backend: str) -> list[Figure]:
    recipients = run.tier.mailing_recipients
    rate = Figure(
        "M1", "mass e-mail: render + MIME + SMTP + ledger", backend, "msg/s", RATE_TARGET,
        variant="worker process → smtp-sink", reference_title="raw smtplib, pre-built bytes",
        details={"recipients": recipients},
    )  # fmt: skip
    memory = Figure("M1", "sending worker's peak RSS", backend, "MB", MEMORY_TARGET, variant="VmHWM")
    try:
        with fresh_database(run, backend, "m1") as database, smtp_sink() as sink:
            segment_id = bulk_audience(database, recipients)
            version_id = email_template(database)
            _provider(database, sink.port)
            for repetition in range(run.repeat):
                mailing_id = draft_mailing(database, segment_id, version_id)
                seconds, peak_mb = _send(run, database, sink, mailing_id, recipients, repetition)
                rate.values.append((recipients - 1) / seconds)
                memory.values.append(peak_mb)
                rate.reference.append(_reference(sink, recipients))
    except BenchError as error:
        rate.error = memory.error = str(error)
    return [rate, memory]


def _provider(database: Database, port: int) -> None:
    form = {
        "name": "smtp-sink",
        "host": "127.0.0.1",
        "port": str(port),
        "security": "none",
        "from_address": "news@shop.example",
        "timeout_seconds": "30",
    }
    with using(database), session_scope() as session:
        provider = channel_provider_service.create(session, ACTOR, "email", "smtp", form)
        channel_provider_service.set_active(session, ACTOR, provider.id, True)


def _send(
    run: Run, database: Database, sink: SmtpSink, mailing_id: int, recipients: int, repetition: int
) -> tuple[float, float]:
    """Send the mailing with a fresh worker; (seconds from the first hand-over to the last, peak MB)."""
    before = sink.messages()
    env = _worker_env(database.url, Path(run.workdir) / f"m1-var-{database.engine.dialect.name}-{repetition}")
    with _worker(env) as worker:
        _wait_until_idle(env, worker)
        with no_jobs("mailings.collect"), using(database), session_scope() as session:
            mailing_service.launch(session, ACTOR, mailing_id)
        _queue(env, "smartcomm.mailings.tasks", "collect", mailing_id)
        _wait_until_sent(database, worker, mailing_id, recipients)
        peak_mb = _peak_rss_mb(worker.pid)
    seconds = _check(database, mailing_id, recipients)
    arrived = sink.wait_for(before + recipients) - before
    if arrived != recipients:
        raise BenchError(f"the sink took {arrived} messages of {recipients}")
    return seconds, peak_mb


def _worker_env(url: str, var_dir: Path) -> dict[str, str]:
    var_dir.mkdir(parents=True, exist_ok=True)
    env = os.environ | {
        "SMARTCOMM_DATABASE_URL": url,
        "SMARTCOMM_VAR_DIR": str(var_dir),
        "SMARTCOMM_SECRET_KEY": "benchmark-secret-key-long-enough-for-hs256-signing",
    }
    env.pop("SMARTCOMM_REDIS_URL", None)  # the embedded queue, as `make run` has it
    return env


@contextlib.contextmanager
def _worker(env: dict[str, str]) -> Iterator[subprocess.Popen[bytes]]:
    command = [sys.executable, "-m", "smartcomm.cli.main", "worker", "--no-periodic"]
    log = (Path(env["SMARTCOMM_VAR_DIR"]) / "worker.log").open("ab")
    process = subprocess.Popen(command, env=env, start_new_session=True, stdout=log, stderr=log)
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
        log.close()


def _wait_until_idle(env: dict[str, str], worker: subprocess.Popen[bytes]) -> None:
    """An idle worker of the embedded queue waits on its doorbell, a socket under var/wake/."""
    wake = Path(env["SMARTCOMM_VAR_DIR"]) / "wake"
    deadline = time.monotonic() + IDLE_SECONDS
    while not (wake.is_dir() and any(wake.glob(f"{worker.pid}-*.sock"))):
        if worker.poll() is not None:
            raise BenchError(f"the worker exited with {worker.returncode} (see {wake.parent}/worker.log)")
        if time.monotonic() > deadline:
            raise BenchError(f"the worker did not start waiting for jobs within {IDLE_SECONDS} s")
        time.sleep(0.05)


def _queue(env: dict[str, str], module: str, task: str, *args: object) -> None:
    """Queue a job into the worker's queue from a process of its own, as a web process does."""
    call = f"from {module} import {task}; {task}(*{args!r})"
    subprocess.run([sys.executable, "-c", call], env=env, check=True, timeout=60)


def _wait_until_sent(
    database: Database, worker: subprocess.Popen[bytes], mailing_id: int, recipients: int
) -> None:
    deadline = time.monotonic() + 120 + recipients / 100
    while ledger_count(database, mailing_id) < recipients or ledger_count(database, mailing_id, *WAITING):
        if worker.poll() is not None:
            raise BenchError(f"the worker exited with {worker.returncode} while sending")
        if time.monotonic() > deadline:
            raise BenchError("the mailing was not sent in time")
        time.sleep(0.25)


def _peak_rss_mb(pid: int) -> float:
    """The process's peak resident set (VmHWM), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise BenchError("no VmHWM in /proc: the peak memory cannot be read on this system")


def _check(database: Database, mailing_id: int, recipients: int) -> float:
    """Every message sent (none failed or unconfirmed); returns the seconds from the first hand-over to
    the last."""
    mine = (Message.source_kind == Source.MAILING, Message.source_id == mailing_id)
    with database.session() as session:
        by_status = dict(
            session.execute(
                select(Message.status, func.count())
                .where(*mine, Message.reason.is_(None))
                .group_by(Message.status)
            ).all()
        )
        first, last = session.execute(
            select(func.min(Message.handed_over_at), func.max(Message.handed_over_at)).where(*mine)
        ).one()
    if by_status != {Status.SENT: recipients}:
        raise BenchError(f"not every message was sent once: {by_status}")
    if first is None or last is None or last <= first:
        raise BenchError("the ledger has no span of hand-overs")
    return float((last - first).total_seconds())


def _reference(sink: SmtpSink, count: int) -> float:
    """Pre-built bytes of the same size through one smtplib connection: messages per second."""
    before = sink.messages()
    data = _prebuilt()
    started = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", sink.port, timeout=30) as smtp:
        for number in range(count):
            smtp.sendmail("news@shop.example", [f"r{number}@example.com"], data)
    seconds = time.perf_counter() - started
    if sink.wait_for(before + count) - before != count:
        raise BenchError("the sink did not take every message of the reference")
    return count / seconds


def _prebuilt() -> bytes:
    message = EmailMessage()
    message["From"] = "Shop <news@shop.example>"
    message["To"] = "r@example.com"
    message["Subject"] = "Anna, up to 50 % off until Sunday"
    message["Message-ID"] = "<reference@shop.example>"
    html = HTML.replace("{{ client.first_name }}", "Anna")
    message.set_content("Anna, up to 50 % off until Sunday!\n\nhttps://shop.example/sale\n")
    message.add_alternative(html, subtype="html")
    return message.as_bytes(policy=policy.SMTP)
