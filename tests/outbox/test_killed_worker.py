"""A worker killed while it dispatches loses nothing and applies nothing twice.

A change is committed by a process of its own (as a web process commits it: its events go into the
outbox, and the dispatch is queued on the embedded job queue). A real worker takes the dispatch and is
killed with SIGKILL once it holds a subscriber's batch — the queued job dies with it. A new worker
dispatches what was left when it starts: the segment membership is current and the loyalty system was
told exactly once.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from smartcomm.audit.actor import Actor
from smartcomm.customers.schemas import CustomerIn
from smartcomm.customers.service import customer_service
from smartcomm.kit.db import Database
from smartcomm.models import DomainEvent, EventCheckpoint, SegmentEvent, WebhookDelivery
from smartcomm.segments.schemas import SegmentIn
from smartcomm.segments.service import segment_service
from smartcomm.settings.schemas import DeliverySettings
from smartcomm.settings.service import settings_service
from tests.segments.test_builds import MOSCOW, current_members, rules
from tests.webhooks.conftest import SECRET, LoyaltySystem
from tests.worker.processes import PROCESS_TIMEOUT, Pauses, production_env, start_worker, stop, wait_until

pytestmark = pytest.mark.slow

ACTOR = Actor.system("tests")
SUBSCRIBERS = ("segments.refresh", "webhooks.loyalty")
# What a web process commits: Anna moves to Moscow and switches e-mail off as a whole.
CHANGE = """
from smartcomm.audit.actor import Actor
from smartcomm.customers.schemas import ChannelPermissions, CustomerIn
from smartcomm.customers.service import customer_service
from smartcomm.kit.db import session_scope

with session_scope() as session:
    change = CustomerIn(external_id="K-1", city="Moscow", permissions=ChannelPermissions(email=False))
    customer_service.upsert(session, Actor("api", None, "loyalty system"), change)
"""

StartWorker = Callable[..., subprocess.Popen[bytes]]


@pytest.fixture
def env(live_database: Database, tmp_path: Path) -> dict[str, str]:
    return production_env(live_database.url, tmp_path / "var")


@pytest.fixture
def workers(env: dict[str, str], tmp_path: Path) -> Iterator[StartWorker]:
    started: list[subprocess.Popen[bytes]] = []
    pauses = {"SMARTCOMM_TEST_PAUSE_DIR": str(tmp_path / "pauses")}

    def start(*, pause: bool = False) -> subprocess.Popen[bytes]:
        process = start_worker(env | pauses if pause else env, tmp_path / "worker.log")
        started.append(process)
        return process

    yield start
    for process in started:
        stop(process)


def setup_anna_and_moscow(database: Database, loyalty: LoyaltySystem) -> int:
    """Anna in Kazan, a built segment of Moscow (without her), the loyalty webhook configured."""
    with database.session() as session:
        settings_service.update(
            session, ACTOR, DeliverySettings, {"webhook_url": loyalty.url, "webhook_secret": SECRET}
        )
        customer_service.upsert(session, ACTOR, CustomerIn(external_id="K-1", city="Kazan"))
        segment = segment_service.create(session, ACTOR, SegmentIn(name="Moscow", rules=rules(MOSCOW)))
        segment_service.build(session, segment.id, "manual")
        session.commit()
        return segment.id


def commit_change_as_a_web_process(env: dict[str, str]) -> None:
    subprocess.run([sys.executable, "-c", CHANGE], env=env, check=True, timeout=PROCESS_TIMEOUT)


def state(database: Database, segment_id: int) -> dict[str, object]:
    with database.session() as session:
        # A segment's refresh announces its entries and exits (`segment.changed`, for campaign triggers)
        # after both subscribers have handled the change; neither of them listens to it.
        latest = session.scalar(select(func.max(DomainEvent.id)).where(DomainEvent.kind != "segment.changed"))
        checkpoints = dict(session.execute(select(EventCheckpoint.subscriber, EventCheckpoint.last_id)).all())
        entered = select(func.count()).where(
            SegmentEvent.segment_id == segment_id, SegmentEvent.kind == "entered"
        )
        return {
            "members": current_members(session, segment_id),
            "entered": session.scalar(entered),
            "deliveries": [d.status for d in session.scalars(select(WebhookDelivery))],
            "current": {name: (checkpoints.get(name) or 0) >= latest for name in SUBSCRIBERS},
        }


@pytest.mark.parametrize("held", SUBSCRIBERS)
def test_a_worker_killed_while_dispatching_loses_nothing_and_repeats_nothing(
    live_database: Database,
    env: dict[str, str],
    workers: StartWorker,
    loyalty: LoyaltySystem,
    tmp_path: Path,
    held: str,
) -> None:
    segment_id = setup_anna_and_moscow(live_database, loyalty)
    pauses = Pauses(tmp_path / "pauses")
    pause = f"events.dispatch.{held}"
    pauses.hold(pause)
    commit_change_as_a_web_process(env)  # no worker runs: the dispatch waits on the queue

    first = workers(pause=True)
    pauses.wait_until_reached(pause, first)
    os.kill(first.pid, signal.SIGKILL)
    first.wait(timeout=PROCESS_TIMEOUT)
    killed = state(live_database, segment_id)
    assert killed["current"][held] is False  # its batch died with the worker: the checkpoint stayed
    if held == "segments.refresh":
        assert killed["members"] == set()
    else:  # nothing was recorded for the loyalty system
        assert killed["deliveries"] == [] and loyalty.received == []

    pauses.release(pause)
    workers()  # dispatches what is left as it starts
    done = wait_until(
        lambda: (
            (now := state(live_database, segment_id))["deliveries"] == ["delivered"]
            and all(now["current"].values())  # type: ignore[union-attr]
            and now
        ),
        "the new worker to dispatch",
    )
    assert done["members"] == {"K-1"} and done["entered"] == 1
    [request] = loyalty.received
    assert request.signed_correctly and b'"channels":["email"]' in request.body
