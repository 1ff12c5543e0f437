"""A campaign survives its worker being killed mid-walk: 3,000 customers enter a date-triggered campaign
(filter → e-mail through a real SMTP server on loopback) run by a real `smartcomm worker` process, which the
test SIGKILLs twice inside the transaction of a walked batch (held at its pause point before the commit)
and once a moment after letting it go, starting it again each time. At the end every journey is done,
the ledger holds exactly one message per customer, the node counts add up to the customers exactly (no
batch counted twice), and no address got the e-mail twice — every address got it, but for the messages
that were on the wire when a worker died (the ledger marks those "unconfirmed": never sent again)."""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select, update

from smartcomm.audit.actor import Actor
from smartcomm.campaigns.engine import project_zone
from smartcomm.campaigns.schemas import CampaignIn
from smartcomm.campaigns.service import campaign_service
from smartcomm.config import config
from smartcomm.delivery.ledger import Reason, Source, Status
from smartcomm.kit.db import Database
from smartcomm.kit.time import utcnow
from smartcomm.models import Campaign, CampaignNodeStat, Customer, Journey, Message
from tests.campaigns.helpers import edge, graph, node
from tests.delivery.helpers import email_template, smtp_provider
from tests.mailings.test_crash_mailing import Workers, smtp_inbox
from tests.worker.processes import PROCESS_TIMEOUT, Pauses, production_env, queue_job, stop, wait_until

CUSTOMERS = 3_000
KILLS_INSIDE = 2
ACTOR = Actor.system("tests")
TASKS = "smartcomm.campaigns.tasks"
WALKED = "campaigns.batch_walked"

pytestmark = pytest.mark.slow


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[Workers]:
    started = Workers(tmp_path / "worker.log")
    try:
        yield started
    finally:
        started.stop_all()


def bulk_customers(database: Database) -> None:
    rows = [
        {"external_id": f"J-{n}", "first_name": "Anna", "email": f"J-{n}@example.com", "email_valid": True,
         "time_zone": "Europe/Moscow"}
        for n in range(CUSTOMERS)
    ]  # fmt: skip
    with database.session() as session:
        session.execute(insert(Customer), rows)
        session.commit()


def due_campaign(database: Database, port: int) -> int:
    """An active "date has come" campaign whose moment (this hour, for everyone) is due for its look."""
    now = utcnow()
    with database.session() as session:
        smtp_provider(session, port)
        template = email_template(session).id
        local = now.astimezone(project_zone(session))
        body = graph(
            [
                node("t", "trigger.date_has_come", date=local.date().isoformat(), hour=local.hour),
                node("f", "action.filter"),
                node("e", "action.send_email", template_version_id=template, deliver_immediately=True),
            ],
            [edge("t", "f"), edge("f", "e", "yes")],
        )
        campaign = campaign_service.create(session, ACTOR, CampaignIn(name="Today"), body)
        campaign_service.activate(session, ACTOR, campaign.id)
        session.flush()
        # The trigger's moment (the start of this hour) has passed: the next look's window takes it in.
        session.execute(
            update(Campaign)
            .where(Campaign.id == campaign.id)
            .values(checked_until=now - timedelta(days=1), next_check_at=now)
        )
        session.commit()
        return campaign.id


def count(database: Database, statement) -> int:  # type: ignore[no-untyped-def]
    with database.session() as session:
        return int(session.scalar(statement) or 0)


def journeys_done(database: Database, campaign_id: int) -> int:
    return count(
        database,
        select(func.count()).where(Journey.campaign_id == campaign_id, Journey.status == "done"),
    )


def messages(database: Database, campaign_id: int) -> int:
    return count(
        database,
        select(func.count()).where(Message.source_kind == Source.CAMPAIGN, Message.source_id == campaign_id),
    )


def waiting_messages(database: Database, campaign_id: int) -> int:
    return count(
        database,
        select(func.count()).where(
            Message.source_id == campaign_id,
            Message.source_kind == Source.CAMPAIGN,
            Message.status.in_((Status.PLANNED, Status.RENDERED, Status.QUEUED)),
        ),
    )


def node_counts(database: Database, campaign_id: int) -> Counter[tuple[str, str]]:
    statement = select(CampaignNodeStat.node, CampaignNodeStat.outcome, CampaignNodeStat.count).where(
        CampaignNodeStat.campaign_id == campaign_id
    )
    with database.session() as session:
        found: Counter[tuple[str, str]] = Counter()
        for node_id, outcome, n in session.execute(statement):
            found[(node_id, outcome)] += n
        return found


def unconfirmed(database: Database, campaign_id: int) -> set[str]:
    statement = (
        select(Customer.email)
        .join(Message, Message.customer_id == Customer.id)
        .where(Message.source_id == campaign_id, Message.reason == Reason.UNCONFIRMED)
    )
    with database.session() as session:
        return {str(address) for address in session.scalars(statement)}


def test_killing_the_worker_mid_walk_loses_and_duplicates_nothing(
    live_database: Database, workers: Workers, tmp_path: Path
) -> None:
    env, pauses = production_env(live_database.url, tmp_path / "var"), Pauses(tmp_path / "pauses")
    chance = random.Random()
    bulk_customers(live_database)
    with smtp_inbox() as (port, inbox):
        campaign_id = due_campaign(live_database, port)
        pauses.hold(WALKED)
        worker = workers.start(env | pauses.env)
        queue_job(env, TASKS, "check_scheduled")  # the every-minute look
        for _ in range(KILLS_INSIDE):
            pauses.wait_until_reached(WALKED, worker)  # a walked batch, not yet committed
            (pauses.folder / f"{WALKED}.reached").unlink()
            stop(worker)  # SIGKILL
            worker = workers.start(env | pauses.env)
            queue_job(env, TASKS, "advance")  # as the every-minute safety net does
        pauses.wait_until_reached(WALKED, worker)
        pauses.release(WALKED)
        time.sleep(chance.uniform(0.05, 0.3))  # somewhere in the next batches, or their sending
        stop(worker)
        assert journeys_done(live_database, campaign_id) < CUSTOMERS, "walked to the end before the kill"
        worker = workers.start(env)
        queue_job(env, TASKS, "advance")
        queue_job(env, "smartcomm.delivery.tasks", "dispatch")
        wait_until(
            lambda: journeys_done(live_database, campaign_id) == CUSTOMERS, "the walk", PROCESS_TIMEOUT
        )
        wait_until(lambda: waiting_messages(live_database, campaign_id) == 0, "the sending", PROCESS_TIMEOUT)
        time.sleep(0.2)  # answers already sent by the server are counted by its thread
        stop(worker)
        received = inbox.snapshot()

    everyone = {f"J-{n}@example.com" for n in range(CUSTOMERS)}
    assert max(received.values()) == 1, "an address got the e-mail twice"
    assert everyone - set(received) <= unconfirmed(live_database, campaign_id), "a customer was lost"
    assert len(unconfirmed(live_database, campaign_id)) <= config.worker_threads
    assert messages(live_database, campaign_id) == CUSTOMERS
    counts = node_counts(live_database, campaign_id)
    assert {key: counts[key] for key in counts} == {
        ("t", "arrived"): CUSTOMERS, ("t", "out"): CUSTOMERS, ("f", "arrived"): CUSTOMERS,
        ("f", "yes"): CUSTOMERS, ("e", "arrived"): CUSTOMERS, ("e", "out"): CUSTOMERS,
    }  # fmt: skip
