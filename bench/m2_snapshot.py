"""M2: the audience snapshot of a mailing — every member of a large segment recorded in the send ledger.

A fresh database per backend gets the tier's `snapshot_members` customers (valid e-mail addresses, no
control group), all members of one segment, written by one INSERT … SELECT each (setup, untimed). Each
repetition creates an e-mail mailing to the segment and times, in one process, from the call of
`mailing_service.launch` to the end of the collect job (`mailings.collect`, run in this process with
`call_local`: batches of 2,000 with a checkpoint, each its own transaction) — the moment the mailing is
"collected": every message planned. Dispatching is switched off meanwhile (nothing is sent: M1 measures
sending). **Check:** the ledger holds exactly one message per member and the mailing is sending.

The fresh database, the bulk audience and the mailing are shared with M1.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import String, cast, create_engine, func, insert, literal, select, text
from sqlalchemy.engine import make_url

from bench.results import Figure, Target
from bench.run import BenchError, Run
from smartcomm.audit.actor import Actor
from smartcomm.delivery import tasks as delivery_tasks
from smartcomm.delivery.ledger import Source
from smartcomm.kit.db import Database, session_scope, set_database
from smartcomm.kit.migrate import upgrade
from smartcomm.kit.time import utcnow
from smartcomm.mailings import tasks as mailing_tasks
from smartcomm.mailings.schemas import MailingCreate
from smartcomm.mailings.service import mailing_service
from smartcomm.models import Customer, Mailing, Message, Segment, SegmentMembership
from smartcomm.personalization.schemas import TemplateCreate
from smartcomm.personalization.service import template_service

TARGET = Target(10, False, "≤ 10 s")
ACTOR = Actor.system("benchmark")
SUBJECT = "{{ client.first_name }}, up to 50 % off until Sunday"
PRODUCT = (
    '<tr><td><img src="https://cdn.shop.example/p/{n}.jpg" width="80" alt=""></td>'
    '<td><a href="https://shop.example/p/{n}">Product {n}: fresh from the farm</a></td>'
    '<td style="text-align:right"><b>{price} ₽</b></td></tr>'
)
HTML = (
    "<h1>{{ client.first_name }}, up to 50 % off until Sunday!</h1><p>We picked the products you looked "
    "at and added a personal discount. The offer holds in every shop and online.</p><table>"
    + "".join(PRODUCT.format(n=n, price=199 + 7 * n) for n in range(20))
    + '</table><p><a href="https://shop.example/sale">All offers</a></p>'
)


def measure(run: Run, backend: str) -> list[Figure]:
    members = run.tier.snapshot_members
    figure = Figure(
        "M2", "audience snapshot into the ledger", backend, "s", TARGET,
        details={"members": members, "batch": 2000},
    )  # fmt: skip
    try:
        with fresh_database(run, backend, "m2") as database:
            segment_id = bulk_audience(database, members)
            version_id = email_template(database)
            for _ in range(run.repeat):
                figure.values.append(_snapshot(database, segment_id, version_id, members))
    except BenchError as error:
        figure.error = str(error)
    return [figure]


def _snapshot(database: Database, segment_id: int, version_id: int, members: int) -> float:
    mailing_id = draft_mailing(database, segment_id, version_id)
    with no_jobs("delivery.dispatch"), no_jobs("mailings.collect"), using(database):
        started = time.perf_counter()
        with session_scope() as session:
            mailing_service.launch(session, ACTOR, mailing_id)
        mailing_tasks.collect.call_local(mailing_id)
        seconds = time.perf_counter() - started
    _check(database, mailing_id, members)
    return seconds


def _check(database: Database, mailing_id: int, members: int) -> None:
    planned = ledger_count(database, mailing_id)
    with database.session() as session:
        status = session.scalar(select(Mailing.status).where(Mailing.id == mailing_id))
    if planned != members or status not in ("sending", "sent"):
        raise BenchError(f"the snapshot recorded {planned} of {members} members; the mailing is {status}")


# --- shared with M1 -------------------------------------------------------------------------------------


@contextlib.contextmanager
def fresh_database(run: Run, backend: str, name: str) -> Iterator[Database]:
    """An empty, migrated database of its own (a file under the run's folder, or a PostgreSQL database
    on the run's server), dropped at the end."""
    if backend == "sqlite":
        url = f"sqlite:///{Path(run.workdir) / f'{name}.db'}"
    elif run.databases.pg_server_url is None:
        raise BenchError("PostgreSQL runs need SMARTCOMM_TEST_PG_URL (make bench starts a server)")
    else:
        server = run.databases.pg_server_url
        _admin(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"')
        url = make_url(server).set(database=name).render_as_string(hide_password=False)
    database = Database(url)
    try:
        upgrade(database.engine)
        yield database
    finally:
        database.dispose()
        run.databases.drop(url)


def _admin(server_url: str, *statements: str) -> None:
    engine = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        for statement in statements:
            connection.execute(text(statement))
    engine.dispose()


def bulk_audience(database: Database, count: int) -> int:
    """`count` customers `B-<n>` with valid e-mail addresses, all members of a new segment since a
    minute ago: one INSERT … SELECT over a counting CTE each; returns the segment's id."""
    numbers: Any = select(literal(1).label("n")).cte("numbers", recursive=True)
    numbers = numbers.union_all(select(numbers.c.n + 1).where(numbers.c.n < count))
    number = cast(numbers.c.n, String)
    people = select(
        literal("B-").concat(number),
        literal("Anna"),
        literal("b").concat(number).concat("@example.com"),
        literal(True),
        literal("Europe/Moscow"),
    )
    columns = ["external_id", "first_name", "email", "email_valid", "time_zone"]
    with database.session() as session:
        session.execute(insert(Customer).from_select(columns, people))
        segment = Segment(name="Benchmark audience", rules={}, member_count=count)
        session.add(segment)
        session.flush()
        entered = literal(utcnow() - timedelta(minutes=1), SegmentMembership.entered_at.type)
        stays = select(literal(segment.id), Customer.id, entered).where(Customer.external_id.like("B-%"))
        session.execute(
            insert(SegmentMembership).from_select(["segment_id", "customer_id", "entered_at"], stays)
        )
        session.commit()
        found = session.scalar(select(func.count()).select_from(SegmentMembership))
        if found != count:
            raise BenchError(f"the audience has {found} members instead of {count}")
        return segment.id


def email_template(database: Database) -> int:
    """A personalised promotional e-mail (about 3 KB of HTML, 21 links) as the template library saves it."""
    content = {"channel": "email", "editor": "html", "subject": SUBJECT, "html": HTML}
    with using(database), session_scope() as session:
        body = TemplateCreate.model_validate({"name": "Benchmark sale", "content": content})
        _, version = template_service.create(session, ACTOR, body)
        return version.id


def draft_mailing(database: Database, segment_id: int, version_id: int) -> int:
    body = {
        "channel": "email",
        "name": "Benchmark sale",
        "template_version_id": version_id,
        "segment_id": segment_id,
        "deliver_immediately": True,
    }
    with using(database), session_scope() as session:
        mailing = mailing_service.create(session, ACTOR, MailingCreate.model_validate(body))
        session.flush()
        return mailing.id


def ledger_count(database: Database, mailing_id: int, *statuses: str) -> int:
    statement = select(func.count()).where(
        Message.source_kind == Source.MAILING, Message.source_id == mailing_id
    )
    if statuses:
        statement = statement.where(Message.status.in_(statuses))
    with database.session() as session:
        return int(session.scalar(statement) or 0)


@contextlib.contextmanager
def using(database: Database) -> Iterator[None]:
    """The product's sessions (services, jobs run here) on this database for the block."""
    previous = set_database(database)
    try:
        yield
    finally:
        set_database(previous)


@contextlib.contextmanager
def no_jobs(name: str) -> Iterator[None]:
    """A job queued by name does nothing in this process for the block (the harness runs it itself, or
    the figure does not include it)."""
    jobs = mailing_tasks.JOBS if name.startswith("mailings.") else delivery_tasks.JOBS
    original = jobs[name]
    jobs[name] = _Idle()
    try:
        yield
    finally:
        jobs[name] = original


class _Idle:
    """A job that does nothing, now or later (`schedule`)."""

    def __call__(self, *args: Any) -> None:
        return None

    def schedule(self, *args: Any, **kwargs: Any) -> None:
        return None
