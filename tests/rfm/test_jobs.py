"""The calculation job, its failures, the schedule, and the plan of the aggregate."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from smartcomm.kit.db import Database, session_scope
from smartcomm.kit.leases import Owner, this_process
from smartcomm.models import AuditEntry, CustomerRfm, RfmCalculation
from smartcomm.rfm import service as rfm_module
from smartcomm.rfm import tasks
from smartcomm.rfm.repository import COVERING_INDEX, RfmRepository, Window
from smartcomm.rfm.service import rfm_service
from smartcomm.settings.schemas import RfmSettings
from smartcomm.settings.service import settings_service
from tests.conftest import UIClient
from tests.factories import make_user
from tests.rfm.conftest import ACTOR, NOW, Shop, cells_by_customer
from tests.rfm.test_calculation import EXPECTED, ten_customers


def calculations(session: Session) -> list[tuple[str, str]]:
    session.expire_all()
    rows = session.scalars(select(RfmCalculation).order_by(RfmCalculation.id))
    return [(c.trigger, c.status) for c in rows]


def test_a_requested_calculation_runs_after_commit_and_is_audited(session: Session, shop: Shop) -> None:
    ten_customers(shop)
    session.commit()
    with session_scope() as request_session:  # as a request does: the job is queued when it commits
        calculation = rfm_service.request(request_session, ACTOR)
        assert calculation.status == "queued"
        assert cells_by_customer(request_session) == {}
    assert calculations(session) == [("manual", "done")]
    assert cells_by_customer(session) == EXPECTED
    entry = session.scalars(select(AuditEntry).where(AuditEntry.object_type == "rfm")).one()
    assert (entry.action, entry.object_id) == ("create", str(calculation.id))


def test_a_second_request_while_one_is_queued_returns_the_same(session: Session, shop: Shop) -> None:
    first = rfm_service.request(session, ACTOR)
    again = rfm_service.request(session, ACTOR)
    assert again.id == first.id
    assert session.scalar(select(func.count()).select_from(RfmCalculation)) == 1


def test_a_job_for_a_finished_calculation_does_nothing(session: Session, shop: Shop) -> None:
    ten_customers(shop)
    calculation = rfm_service.run(session, "manual")
    session.commit()
    assert tasks.calculate.call_local("manual", calculation.id) is None
    assert calculations(session) == [("manual", "done")]


def test_a_failure_is_recorded_on_the_calculation_and_keeps_the_old_scores(
    session: Session, shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    ten_customers(shop)
    rfm_service.run(session, "manual")
    session.commit()

    def broken(self: RfmRepository, calculation_id: int, cutoffs: dict[str, list[int]], now: object) -> None:
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(RfmRepository, "write_scores", broken)
    with pytest.raises(RuntimeError):
        tasks.calculate.call_local("manual")
    assert calculations(session) == [("manual", "done"), ("manual", "failed")]
    failed = session.scalars(select(RfmCalculation).where(RfmCalculation.status == "failed")).one()
    assert failed.error == "RuntimeError: the disk is full"
    assert failed.finished_at is not None
    assert cells_by_customer(session) == EXPECTED  # the failed run's deletion was rolled back
    assert rfm_service.latest(session).status == "done"  # type: ignore[union-attr]


def test_the_schedule_runs_as_often_as_the_settings_say(
    session: Session, shop: Shop, frozen: time_machine.Coordinates
) -> None:
    ten_customers(shop)
    settings_service.update(session, ACTOR, RfmSettings, {"runs_per_day": 4})
    session.commit()
    first = tasks.schedule.call_local()
    assert first is not None
    assert calculations(session) == [("schedule", "done")]
    frozen.shift(timedelta(hours=5, minutes=49))
    assert tasks.schedule.call_local() is None  # six hours apart, less the ten minutes of slack
    frozen.shift(timedelta(minutes=1))
    assert tasks.schedule.call_local() is not None
    assert calculations(session) == [("schedule", "done"), ("schedule", "done")]


def test_the_schedule_waits_for_a_running_calculation(session: Session, shop: Shop) -> None:
    settings_service.update(session, ACTOR, RfmSettings, {"runs_per_day": 24})
    running = rfm_service.queue(session, "manual")
    running.status = "running"
    session.commit()
    assert not rfm_service.due(session, NOW + timedelta(minutes=55))  # an hour apart, but it still runs
    # One that has been "running" for over an hour belongs to a worker that died: it no longer blocks.
    assert rfm_service.due(session, NOW + timedelta(hours=1, seconds=1))


def test_the_aggregate_reads_the_covering_index(session: Session, backend: str) -> None:
    if backend != "sqlite":
        pytest.skip("the plan of PostgreSQL depends on its statistics; the index is the same")
    window = Window(NOW - timedelta(days=365), NOW, None)
    statement, parameters = RfmRepository(session)._totals(window)
    bound = statement.params(parameters)
    compiled = bound.compile(session.get_bind(), compile_kwargs={"literal_binds": True})
    plan = " ".join(row[-1] for row in session.execute(text(f"EXPLAIN QUERY PLAN {compiled}")))
    assert f"USING COVERING INDEX {COVERING_INDEX}" in plan
    assert "TEMP B-TREE" not in plan  # grouped in index order, no sort
    assert session.scalar(select(func.count()).select_from(CustomerRfm)) == 0


def gone_owner() -> str:
    """An owner on this host whose process has ended."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return str(Owner(socket.gethostname(), process.pid, "1"))


def test_the_reaper_interrupts_a_calculation_whose_process_is_gone(session: Session, shop: Shop) -> None:
    ten_customers(shop)
    rfm_service.run(session, "manual")
    dead, alive, _queued = (rfm_service.queue(session, "manual") for _ in range(3))
    for calculation, owner in ((dead, gone_owner()), (alive, this_process())):
        calculation.status, calculation.lease_owner = "running", owner
        calculation.lease_heartbeat_at = NOW - timedelta(days=1)
    session.commit()

    assert tasks.reap() == [dead.id]

    assert calculations(session) == [
        ("manual", "done"), ("manual", "failed"), ("manual", "running"), ("manual", "queued"),
    ]  # fmt: skip
    assert (dead.error, dead.finished_at is not None) == ("interrupted", True)
    assert cells_by_customer(session) == EXPECTED  # the scores of the last calculation stay
    assert tasks.reap() == []


def test_a_calculation_found_interrupted_before_it_ends_rolls_back(
    live_database: Database, backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if backend == "sqlite":
        pytest.skip("on SQLite the reaper's write waits for the calculation's write transaction to end")
    with live_database.session() as session:
        ten_customers(Shop(session))
        previous = rfm_service.run(session, "manual")
        queued = rfm_service.queue(session, "manual")
        session.commit()
        previous_id, queued_id = previous.id, queued.id

    def judged_gone(name: str) -> None:
        with live_database.session() as other:  # another connection, as another worker's reaper
            [claim] = RfmRepository(other).claims()
            assert rfm_service.interrupt(other, claim)
            other.commit()

    monkeypatch.setattr(rfm_module, "pause_point", judged_gone)
    assert tasks.calculate.call_local("manual", queued_id) is None

    with live_database.session() as session:
        assert calculations(session) == [("manual", "done"), ("manual", "failed")]
        assert session.get(RfmCalculation, queued_id).error == "interrupted"  # type: ignore[union-attr]
        ids = set(session.scalars(select(CustomerRfm.calculation_id)))
        assert ids == {previous_id}  # its new scores were rolled back


def test_an_interrupted_calculation_reads_as_such_in_russian(
    client: UIClient, session: Session, shop: Shop
) -> None:
    ten_customers(shop)
    rfm_service.run(session, "manual")
    dead = rfm_service.queue(session, "schedule")
    dead.status, dead.lease_owner = "running", gone_owner()
    session.commit()
    tasks.reap()
    user, password = make_user(session, role="analyst", language="ru")
    client.sign_in(user.email, password)

    alert = re.search(r'id="rfm-failure">(.*?)</div>', client.get("/rfm").text, re.S)

    assert alert is not None and "прервано" in alert.group(1)
