"""C1 and C2: a receipt → a trigger campaign → its e-mail queued, and the same while a date trigger walks
300,000 customers.

The product runs as deployed: uvicorn serving the app (one web worker) and `smartcomm worker` (its
default threads, no periodic schedule) in processes of their own, with the embedded job queue — and on
PostgreSQL also with the queue in Redis when the harness has one. Each backend gets a fresh database
(`m2_snapshot.fresh_database`) prepared once and copied for every measurement: the customers (bulk
INSERT … SELECT), an API user, an SMTP provider pointed at Postfix's `smtp-sink` on loopback, an e-mail
template, and the active campaign "cheque issued → send e-mail". C1 ends at "queued": the campaign's
ledger row exists. C1 and C2 take minutes per repetition: at most three repetitions (medians of three).

**C1.** Receipts go to `POST /api/v1/receipts` one at a time, each for another customer, after pauses
drawn from 0–3 s and, before every 25th receipt or so, a gap of 10–20 s: the worker idles on its queue
as it does between real purchases. A receipt's latency runs from just before its POST to the
`created_at` of that customer's campaign message (same machine clock), read back after the run. The
figure is each repetition's 95th percentile; the 50th, the maximum and the API's answer are in details.

**C2.** On a base of 300,000 customers (the tier's, plus as many as it lacks, in bulk; a segment of
300,000 when the tier has more) a "date has come" campaign (→ send e-mail) is activated and its moment
made due (as the killed-worker test does), then `campaigns.check_scheduled` is queued into the worker's
queue from another process. (a) The entry: from the queue to all 300,000 journeys existing. (b) C1 as
above — pauses of 0–3 s — from the queue until no journey of the date campaign waits any more: entering
and walking. Walking's own duration is in the details.

**Checks:** every receipt produced exactly one message of the receipts campaign, and nothing else did; the
date campaign has exactly one journey per customer of its audience, all walked.
"""

from __future__ import annotations

import contextlib
import random
import statistics
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from sqlalchemy import Engine, String, cast, func, insert, literal, select, update

from bench import http_intake, m1_mailing, s4_receipt
from bench.c1_product import PAUSE_SECONDS, Posted, Watch, deployed
from bench.databases import BaseDatabase
from bench.m2_snapshot import ACTOR, email_template, fresh_database, using
from bench.results import Figure, Target
from bench.run import BenchError, Run
from bench.smtp_sink import smtp_sink
from smartcomm.campaigns.engine import project_zone
from smartcomm.campaigns.schemas import CampaignIn
from smartcomm.campaigns.service import campaign_service
from smartcomm.delivery.ledger import Source
from smartcomm.kit.db import Database, create_db_engine, session_scope
from smartcomm.kit.outbox import CUSTOMER_IDS
from smartcomm.kit.time import ensure_utc, utcnow
from smartcomm.models import Campaign, Customer, DomainEvent, Journey, Message, Segment, SegmentMembership

LATENCY_TARGET = Target(1000, False, "p95 ≤ 1 s")
C1_TITLE = "receipt → trigger campaign → e-mail queued"
C2_TITLE = "receipt → e-mail queued while 300 k enter and are walked"
ENTRY_TARGET = Target(30, False, "≤ 30 s")
C2_AUDIENCE = 300_000  # the spec's number, whatever the tier
RECEIPTS = 100  # C1, per repetition, each for another customer
C2_RECEIPTS = 1000  # at most, while one repetition of C2 enters and walks
GAP_SECONDS = (10.0, 20.0)
GAP_EVERY = 25  # on average one gap per this many receipts
MESSAGE_WAIT_SECONDS = 300  # a receipt with no message by then (after the last POST) fails the figure
WALK_WAIT_SECONDS = 1800
TASKS = "smartcomm.campaigns.tasks"
MAX_REPEAT = 3


@dataclass(frozen=True)
class Prepared:
    """A prepared database copied for every measurement."""

    base: BaseDatabase
    campaign_id: int  # "cheque issued → send e-mail"
    template_id: int
    customers: list[tuple[int, str]]  # (id, external id) of the receipts' customers, in order
    segment_id: int | None = None  # C2's audience when the base is larger than it


def measure(run: Run, backend: str, wanted: list[str]) -> list[Figure]:
    queues = [("embedded", None)]
    if backend == "postgres":
        queues.append(("Redis", run.redis_url))
    figures: list[Figure] = []
    try:
        with smtp_sink() as sink:
            if "C1" in wanted:
                figures.extend(_c1(run, backend, queues, sink.port))
            if "C2" in wanted:
                figures.extend(_c2(run, backend, queues, sink.port))
    except BenchError as error:  # no sink: nothing can be measured
        figures = [_failed_figure(code, backend, str(error)) for code in wanted]
    return figures


def _repetitions(run: Run) -> int:
    """C1 and C2 take minutes per repetition: the spec's medians of three at most."""
    return min(run.repeat, MAX_REPEAT)


# --- C1 -------------------------------------------------------------------------------------------------


def _c1(run: Run, backend: str, queues: list[tuple[str, str | None]], port: int) -> list[Figure]:
    figures = [_latency_figure("C1", C1_TITLE, backend, queue) for queue, _ in queues]
    receipts = 1 + RECEIPTS * _repetitions(run)
    try:
        with _prepared(run, backend, "c1", run.tier.customers, receipts, port) as prepared:
            for figure, (queue, redis_url) in zip(figures, queues, strict=True):
                _guard(figure, partial(_c1_queue, run, prepared, queue, redis_url, figure))
    except BenchError as error:
        _fail(figures, str(error))
    return figures


def _c1_queue(run: Run, prepared: Prepared, queue: str, redis_url: str | None, figure: Figure) -> None:
    with _copy(run, prepared) as url, deployed(run, url, queue, redis_url) as product:
        warm_up, *customers = prepared.customers
        product.post_now(warm_up, "warm-up")  # the process's first imports and compilations
        for repetition in range(_repetitions(run)):
            batch = customers[repetition * RECEIPTS : (repetition + 1) * RECEIPTS]
            rng = random.Random(f"{run.seed}:c1:{prepared.base.backend}:{queue}:{repetition}")
            posted = [product.post(customer, _pause(rng), f"r{repetition}") for customer in batch]
            _record(run, figure, _latencies(url, prepared.campaign_id, posted))
            _record_stages(figure, _stages(url, prepared.campaign_id, posted))
        _check_messages(url, prepared.campaign_id, 1 + len(customers))


def _pause(rng: random.Random) -> float:
    """Seconds before the next receipt: 0–3 s, and now and then a gap of 10–20 s."""
    if rng.random() < 1 / GAP_EVERY:
        return rng.uniform(*GAP_SECONDS)
    return rng.uniform(*PAUSE_SECONDS)


# --- C2 -------------------------------------------------------------------------------------------------


def _c2(run: Run, backend: str, queues: list[tuple[str, str | None]], port: int) -> list[Figure]:
    pairs = [(_entry_figure(backend, queue), _latency_figure("C2", C2_TITLE, backend, queue))
             for queue, _ in queues]  # fmt: skip
    figures = [figure for pair in pairs for figure in pair]
    customers = max(run.tier.customers, C2_AUDIENCE)
    try:
        with _prepared(run, backend, "c2", customers, 1 + C2_RECEIPTS, port, C2_AUDIENCE) as prepared:
            for (entry, during), (queue, redis_url) in zip(pairs, queues, strict=True):
                for repetition in range(_repetitions(run)):
                    _guard(
                        entry, partial(_c2_once, run, prepared, queue, redis_url, repetition, entry, during)
                    )
                if entry.error:
                    during.error = entry.error
    except BenchError as error:
        _fail(figures, str(error))
    return figures


def _c2_once(
    run: Run, prepared: Prepared, queue: str, redis_url: str | None, repetition: int, entry: Figure,
    during: Figure,
) -> None:  # fmt: skip
    with _copy(run, prepared) as url:
        campaign_id = _date_campaign(url, prepared)
        with deployed(run, url, queue, redis_url) as product, _engine(url) as engine:
            warm_up, *customers = prepared.customers
            product.post_now(warm_up, "warm-up")
            _make_due(engine, campaign_id)
            queued_at = product.queue(TASKS, "check_scheduled")
            entered = Watch(lambda: _journeys(engine, campaign_id) >= C2_AUDIENCE)
            walked = Watch(lambda: entered.at is not None and _journeys(engine, campaign_id, True) == 0)
            with entered, walked:
                rng = random.Random(f"{run.seed}:c2:{prepared.base.backend}:{queue}:{repetition}")
                posted = product.post_while(customers, rng, lambda: walked.at is None, f"r{repetition}")
                walked.wait(WALK_WAIT_SECONDS)
            assert entered.at is not None and walked.at is not None
        entry.values.append(entered.at - queued_at)
        _note(entry, "walk_s", walked.at - entered.at)
        _note(entry, "receipts_while_entering", sum(p.at < entered.at for p in posted))
        _record(run, during, _latencies(url, prepared.campaign_id, posted))
        _record_stages(during, _stages(url, prepared.campaign_id, posted))
        _check_messages(url, prepared.campaign_id, 1 + len(posted))
        _check_journeys(url, campaign_id)
        run.console.print(
            f"C2 {prepared.base.backend} ({queue} queue): {C2_AUDIENCE:,} entered in "
            f"{entered.at - queued_at:.1f} s, walked in {walked.at - entered.at:.1f} s"
        )


def _date_campaign(url: str, prepared: Prepared) -> int:
    """An active "date has come" campaign (→ send e-mail) for this hour, not yet due for its look."""
    with _bound(url), session_scope() as session:
        local = utcnow().astimezone(project_zone(session))
        trigger = {"date": local.date().isoformat(), "hour": local.hour, "segment_id": prepared.segment_id}
        send = {"template_version_id": prepared.template_id, "deliver_immediately": True}
        body = _graph("trigger.date_has_come", trigger, send)
        campaign = campaign_service.create(session, ACTOR, CampaignIn(name="Benchmark C2: today"), body)
        campaign_service.activate(session, ACTOR, campaign.id)
        return campaign.id


def _make_due(engine: Engine, campaign_id: int) -> None:
    """The trigger's moment (the start of this hour) falls into the window of the next look, due now."""
    now = utcnow()
    with engine.begin() as connection:
        connection.execute(
            update(Campaign)
            .where(Campaign.id == campaign_id)
            .values(checked_until=now - timedelta(days=1), next_check_at=now)
        )


def _journeys(engine: Engine, campaign_id: int, waiting: bool = False) -> int:
    statement = select(func.count()).where(Journey.campaign_id == campaign_id)
    if waiting:
        statement = statement.where(Journey.status == "waiting")
    with engine.connect() as connection:
        return int(connection.scalar(statement) or 0)


# --- reading the results --------------------------------------------------------------------------------


def _latencies(url: str, campaign_id: int, posted: list[Posted]) -> list[tuple[float, float]]:
    """(seconds from the POST to the campaign message's `created_at`, the API's answer) per receipt,
    once every receipt's message exists."""
    ids = [each.customer_id for each in posted]
    statement = select(Message.customer_id, Message.created_at).where(
        Message.source_kind == Source.CAMPAIGN, Message.source_id == campaign_id, Message.customer_id.in_(ids)
    )
    deadline = time.monotonic() + MESSAGE_WAIT_SECONDS
    with _engine(url) as engine:
        while len(created := _created(engine, statement)) < len(set(ids)):
            if time.monotonic() > deadline:
                raise BenchError(f"{len(set(ids)) - len(created)} of {len(ids)} receipts got no message")
            time.sleep(0.5)
    return [(created[each.customer_id] - each.at, each.api_seconds) for each in posted]


def _stages(url: str, campaign_id: int, posted: list[Posted]) -> list[dict[str, float]]:
    """Where each receipt's time went, in seconds: the POST until its event was written ("intake"), the
    event until the campaign entered the customer ("trigger") and until the e-mail was queued ("walk")."""
    ids = [each.customer_id for each in posted]
    events = select(DomainEvent.payload, DomainEvent.occurred_at).where(DomainEvent.kind == "receipt.written")
    entries = select(Journey.customer_id, Journey.entered_at).where(
        Journey.campaign_id == campaign_id, Journey.customer_id.in_(ids)
    )
    messages = select(Message.customer_id, Message.created_at).where(
        Message.source_kind == Source.CAMPAIGN, Message.source_id == campaign_id, Message.customer_id.in_(ids)
    )
    with _engine(url) as engine:
        entered, queued = _created(engine, entries), _created(engine, messages)
        with engine.connect() as connection:
            written = {
                customer_id: ensure_utc(_moment(occurred_at)).timestamp()
                for payload, occurred_at in connection.execute(events)
                for customer_id in payload.get(CUSTOMER_IDS, ())
            }
    return [
        {
            "intake": written[each.customer_id] - each.at,
            "trigger": entered[each.customer_id] - written[each.customer_id],
            "walk": queued[each.customer_id] - entered[each.customer_id],
        }
        for each in posted
        if each.customer_id in written and each.customer_id in entered
    ]


def _record_stages(figure: Figure, stages: list[dict[str, float]]) -> None:
    """Each stage's 95th percentile, and the stages of the slowest twentieth of receipts on average."""
    if not stages:
        return
    for stage in ("intake", "trigger", "walk"):
        _note(figure, f"{stage}_p95_ms", s4_receipt._percentile([each[stage] * 1000 for each in stages], 95))
    slowest = sorted(stages, key=lambda each: sum(each.values()))[-max(1, len(stages) // 20) :]
    for stage in ("intake", "trigger", "walk"):
        _note(figure, f"slowest_{stage}_ms", statistics.mean(each[stage] * 1000 for each in slowest))


def _created(engine: Engine, statement: Any) -> dict[int, float]:
    with engine.connect() as connection:
        rows = connection.execute(statement).all()
    return {customer_id: ensure_utc(_moment(created_at)).timestamp() for customer_id, created_at in rows}


def _moment(value: datetime | str) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)


def _record(run: Run, figure: Figure, timings: list[tuple[float, float]]) -> None:
    if len(timings) < 2:
        raise BenchError(f"only {len(timings)} receipts were measured")
    totals = [total * 1000 for total, _ in timings]
    p95, p50 = s4_receipt._percentile(totals, 95), s4_receipt._percentile(totals, 50)
    figure.values.append(p95)
    _note(figure, "receipts", len(totals))
    _note(figure, "p50_ms", p50)
    _note(figure, "max_ms", max(totals))
    _note(figure, "api_p50_ms", statistics.median(api * 1000 for _, api in timings))
    run.console.print(
        f"{figure.id} {figure.backend} ({figure.variant}): p95 {p95:.0f} ms, p50 {p50:.0f} ms, "
        f"max {max(totals):.0f} ms over {len(totals)} receipts"
    )


def _check_messages(url: str, campaign_id: int, receipts: int) -> None:
    """Each receipt produced exactly one message of the receipts campaign, and nothing else did."""
    mine = (Message.source_kind == Source.CAMPAIGN, Message.source_id == campaign_id)
    with _engine(url) as engine, engine.connect() as connection:
        total = connection.scalar(select(func.count()).where(*mine))
        people = connection.scalar(select(func.count(Message.customer_id.distinct())).where(*mine))
    if total != receipts or people != receipts:
        raise BenchError(f"{receipts} receipts produced {total} messages for {people} customers")


def _check_journeys(url: str, campaign_id: int) -> None:
    """The date campaign entered each customer of its audience once, and walked them all."""
    mine = Journey.campaign_id == campaign_id
    with _engine(url) as engine, engine.connect() as connection:
        total = connection.scalar(select(func.count()).where(mine))
        people = connection.scalar(select(func.count(Journey.customer_id.distinct())).where(mine))
        done = connection.scalar(select(func.count()).where(mine, Journey.status == "done"))
    if not total == people == done == C2_AUDIENCE:
        raise BenchError(f"{total} journeys of {people} customers ({done} done) for {C2_AUDIENCE:,}")


# --- preparing the databases ----------------------------------------------------------------------------


@contextlib.contextmanager
def _prepared(
    run: Run, backend: str, name: str, customers: int, receipts: int, port: int, audience: int | None = None
) -> Iterator[Prepared]:
    """A fresh database with the customers, an API user, the SMTP provider (the sink on `port`), a
    template and the receipts campaign; each measurement works on a copy of it."""
    with fresh_database(run, backend, name) as database:
        _bulk_customers(database, customers)
        m1_mailing._provider(database, port)
        segment_id = _segment(database, audience) if audience and audience < customers else None
        template_id = email_template(database)
        campaign_id = _receipts_campaign(database, template_id)
        http_intake._add_api_user(database.url)
        chosen = _receipt_customers(database, receipts)
        _settle(database)
        base = BaseDatabase(backend, database.url, run.tier, run.seed, 0.0, {"customers": customers})
        yield Prepared(base, campaign_id, template_id, chosen, segment_id)


def _bulk_customers(database: Database, count: int) -> None:
    """`count` customers with valid e-mail addresses, in one INSERT … SELECT over a counting CTE."""
    numbers: Any = select(literal(1).label("n")).cte("numbers", recursive=True)
    numbers = numbers.union_all(select(numbers.c.n + 1).where(numbers.c.n < count))
    number = cast(numbers.c.n, String)
    people = select(
        literal("C-").concat(number),
        literal("Anna"),
        literal("c").concat(number).concat("@example.com"),
        literal(True),
        literal("Europe/Moscow"),
    )
    columns = ["external_id", "first_name", "email", "email_valid", "time_zone"]
    with database.session() as session:
        session.execute(insert(Customer).from_select(columns, people))
        session.commit()


def _segment(database: Database, members: int) -> int:
    """A segment of the first `members` customers: C2's audience on a base larger than it."""
    with database.session() as session:
        segment = Segment(name="Benchmark C2 audience", rules={}, member_count=members)
        session.add(segment)
        session.flush()
        first = select(Customer.id).order_by(Customer.id).limit(members).subquery()
        since = literal(utcnow() - timedelta(days=1), SegmentMembership.entered_at.type)
        stays = select(literal(segment.id), first.c.id, since)
        columns = ["segment_id", "customer_id", "entered_at"]
        session.execute(insert(SegmentMembership).from_select(columns, stays))
        session.commit()
        return segment.id


def _receipts_campaign(database: Database, template_id: int) -> int:
    send = {"template_version_id": template_id, "deliver_immediately": True}
    body = _graph("trigger.cheque_issued", {}, send)
    with using(database), session_scope() as session:
        campaign = campaign_service.create(session, ACTOR, CampaignIn(name="Benchmark: thank you"), body)
        campaign_service.activate(session, ACTOR, campaign.id)
        return campaign.id


def _graph(trigger: str, trigger_settings: dict[str, Any], send: dict[str, Any]) -> dict[str, Any]:
    return {
        "nodes": [
            {"id": "t", "kind": trigger, "settings": trigger_settings, "x": 60, "y": 160},
            {"id": "e", "kind": "action.send_email", "settings": send, "x": 360, "y": 160},
        ],
        "edges": [{"source": "t", "output": "out", "target": "e"}],
    }


def _receipt_customers(database: Database, count: int) -> list[tuple[int, str]]:
    with database.session() as session:
        rows = session.execute(select(Customer.id, Customer.external_id).order_by(Customer.id).limit(count))
        found = [(int(row[0]), str(row[1])) for row in rows]
    if len(found) < count:
        raise BenchError(f"only {len(found)} customers for {count} receipts")
    return found


def _settle(database: Database) -> None:
    """SQLite: fold the WAL into the file, so that a plain copy is complete; no connection stays open
    (PostgreSQL copies a database only while nobody is connected to it)."""
    if database.engine.dialect.name == "sqlite":
        pooled = database.engine.raw_connection()
        try:
            pooled.driver_connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # type: ignore[union-attr]
        finally:
            pooled.close()
    database.dispose()


@contextlib.contextmanager
def _copy(run: Run, prepared: Prepared) -> Iterator[str]:
    url = run.databases.clone(prepared.base)
    try:
        yield url
    finally:
        run.databases.drop(url)


@contextlib.contextmanager
def _engine(url: str) -> Iterator[Engine]:
    engine = create_db_engine(url, pool_size=2)
    try:
        yield engine
    finally:
        engine.dispose()


@contextlib.contextmanager
def _bound(url: str) -> Iterator[None]:
    database = Database(url)
    try:
        with using(database):
            yield
    finally:
        database.dispose()


# --- figures --------------------------------------------------------------------------------------------


def _latency_figure(code: str, title: str, backend: str, queue: str) -> Figure:
    details = {"pause_s": list(PAUSE_SECONDS)}
    if code == "C1":
        details |= {"receipts_per_repetition": RECEIPTS, "gap_s": list(GAP_SECONDS), "gap_every": GAP_EVERY}
    return Figure(code, title, backend, "ms", LATENCY_TARGET, variant=f"API + worker, {queue} queue",
                  details=details)  # fmt: skip


def _entry_figure(backend: str, queue: str) -> Figure:
    return Figure("C2", "date trigger: 300 k customers enter", backend, "s", ENTRY_TARGET,
                  variant=f"API + worker, {queue} queue", details={"customers": C2_AUDIENCE})  # fmt: skip


def _note(figure: Figure, key: str, value: float) -> None:
    figure.details.setdefault(key, []).append(round(value, 2) if isinstance(value, float) else value)


def _guard(figure: Figure, measure: Callable[[], None]) -> None:
    """A measurement that fails leaves its reason on the figure; the other figures go on."""
    if figure.error:
        return
    try:
        measure()
    except BenchError as error:
        figure.error = str(error)


def _failed_figure(code: str, backend: str, error: str) -> Figure:
    return Figure(code, C1_TITLE if code == "C1" else C2_TITLE, backend, "ms", LATENCY_TARGET, error=error)


def _fail(figures: list[Figure], error: str) -> None:
    for figure in figures:
        figure.error = figure.error or error
