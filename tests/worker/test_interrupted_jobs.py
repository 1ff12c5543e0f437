"""Jobs whose process is killed mid-way never stay running: a real worker (or import command) is killed
with SIGKILL while it holds a job, and the next worker's reaper marks the job interrupted — or, for a
segment build, builds it again — with nothing of the killed run written. Imports then run again."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from smartcomm.audit.actor import Actor
from smartcomm.customers.schemas import CustomerIn
from smartcomm.customers.service import customer_service
from smartcomm.imports.service import import_service
from smartcomm.kit.db import Database
from smartcomm.kit.leases import Owner
from smartcomm.kit.time import utcnow
from smartcomm.models import (
    Audience,
    AudienceImport,
    AudienceMember,
    AuditEntry,
    Customer,
    CustomerRfm,
    ImportJob,
    RfmCalculation,
    Segment,
    SegmentBuild,
    SegmentMembership,
)
from smartcomm.receipts.schemas import ReceiptIn
from smartcomm.receipts.service import receipt_service
from smartcomm.rfm.service import rfm_service
from tests.conftest import UIClient
from tests.factories import make_user
from tests.worker.processes import (
    PROCESS_TIMEOUT,
    Pauses,
    production_env,
    queue_job,
    start_worker,
    stop,
    wait_until,
)

ACTOR = Actor.system("tests")
ROWS = 300
MOSCOW = {"metric": "profile.city", "operator": "eq", "value": "Moscow"}

StartWorker = Callable[..., subprocess.Popen[bytes]]


@pytest.fixture
def env(live_database: Database, tmp_path: Path) -> dict[str, str]:
    return production_env(live_database.url, tmp_path / "var")


@pytest.fixture
def pauses(tmp_path: Path) -> Pauses:
    return Pauses(tmp_path / "pauses")


@pytest.fixture
def workers(env: dict[str, str], tmp_path: Path) -> Iterator[StartWorker]:
    """start(pause=True) -> a worker process (held at the pause points when asked); all stopped at the end."""
    started: list[subprocess.Popen[bytes]] = []
    pause_env = {"SMARTCOMM_TEST_PAUSE_DIR": str(tmp_path / "pauses")}

    def start(*, pause: bool = False) -> subprocess.Popen[bytes]:
        process = start_worker(env | pause_env if pause else env, tmp_path / "worker.log")
        started.append(process)
        return process

    yield start
    for process in started:
        stop(process)


@pytest.fixture
def ui(app: FastAPI, live_database: Database) -> UIClient:
    """An administrator signed in to the app on the live database (jobs it queues run in this process)."""
    with live_database.session() as session:
        user, password = make_user(session, role="administrator")
    client = UIClient(app, base_url="http://testserver", follow_redirects=False)
    client.sign_in(user.email, password)
    return client


def kill(process: subprocess.Popen[bytes]) -> None:
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=PROCESS_TIMEOUT)


def count(database: Database, model: type) -> int:
    with database.session() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def fetch(database: Database, model: type, row_id: int):  # the model's own type
    with database.session() as session:
        return session.get(model, row_id)


def customers_file(tmp_path: Path, name: str = "customers.csv", rows: int = ROWS) -> Path:
    path = tmp_path / name
    path.write_text("external_id,first_name\n" + "".join(f"{name}-{i},Name{i}\n" for i in range(rows)))
    return path


def registered_import(database: Database, path: Path) -> int:
    with database.session() as session:
        job = import_service.register(session, ACTOR, kind="customers", path=path, valid_rows_only=False)
        session.commit()
        return job.id


# --- imports ---------------------------------------------------------------------------------------------


STAGES = [("imports.checking", "checking"), ("imports.writing", "writing")]


@pytest.mark.parametrize(("stage", "left_in"), STAGES)
def test_an_import_whose_worker_is_killed_ends_interrupted_and_runs_again(
    live_database: Database, env: dict[str, str], pauses: Pauses, workers: StartWorker, ui: UIClient,
    tmp_path: Path, stage: str, left_in: str,
) -> None:  # fmt: skip
    job_id = registered_import(live_database, customers_file(tmp_path))
    pauses.hold(stage)
    first = workers(pause=True)
    queue_job(env, "smartcomm.imports.tasks", "run_import", job_id)
    pauses.wait_until_reached(stage, first)
    kill(first)

    left = fetch(live_database, ImportJob, job_id)
    assert left.status == left_in and Owner.parse(left.lease_owner).pid == first.pid  # type: ignore[union-attr]
    assert count(live_database, Customer) == 0  # the write pass is one transaction: it died with the worker

    workers()  # a new worker looks for jobs whose process is gone as it starts
    interrupted = wait_until(
        lambda: (job := fetch(live_database, ImportJob, job_id)).status != left_in and job, "the reaper"
    )
    assert (interrupted.status, interrupted.message) == ("failed", "interrupted")
    assert interrupted.finished_at is not None and count(live_database, Customer) == 0

    page = ui.get(f"/imports/{job_id}").text
    assert 'data-status="interrupted"' in page and 'id="import-interrupted"' in page
    assert 'id="import-run-again"' in page
    listed = ui.get("/imports").text
    assert 'data-status="interrupted"' in listed

    response = ui.submit(f"/imports/{job_id}/run-again")
    assert response.status_code == 303
    again_id = int(response.headers["location"].rsplit("/", 1)[1])
    again = fetch(live_database, ImportJob, again_id)
    assert (again.status, again.imported_rows, again.file_path) == ("done", ROWS, interrupted.file_path)
    assert count(live_database, Customer) == ROWS
    assert 'id="import-run-again"' not in ui.get(f"/imports/{job_id}").text  # the file was imported again
    with live_database.session() as session:
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "run_again")).one()
    assert (entry.object_type, entry.object_id, entry.changes["interrupted_import"]) == (
        "import",
        str(again_id),
        [None, job_id],
    )


def test_an_import_command_killed_while_writing_is_marked_interrupted_by_the_next_import(
    live_database: Database, env: dict[str, str], pauses: Pauses, tmp_path: Path
) -> None:
    first_file, second_file = customers_file(tmp_path, "first.csv"), customers_file(tmp_path, "second.csv", 5)
    command = [sys.executable, "-m", "smartcomm.cli.main", "import", "customers"]
    output = (tmp_path / "import.log").open("ab")
    pauses.hold("imports.writing")
    killed = subprocess.Popen(
        [*command, str(first_file)], env=env | pauses.env, stdout=output, stderr=output,
        start_new_session=True,
    )  # fmt: skip
    try:
        pauses.wait_until_reached("imports.writing", killed)
    finally:
        kill(killed)
    with live_database.session() as session:
        left = session.scalars(select(ImportJob)).one()
    assert left.status == "writing" and count(live_database, Customer) == 0

    subprocess.run([*command, str(second_file)], env=env, check=True, timeout=PROCESS_TIMEOUT, stdout=output)

    interrupted = fetch(live_database, ImportJob, left.id)
    assert (interrupted.status, interrupted.message) == ("failed", "interrupted")
    with live_database.session() as session:
        stored = set(session.scalars(select(Customer.external_id)))
    assert stored == {f"second.csv-{i}" for i in range(5)}


# --- segment builds --------------------------------------------------------------------------------------


def test_a_segment_build_whose_worker_is_killed_is_built_again(
    live_database: Database, env: dict[str, str], pauses: Pauses, workers: StartWorker
) -> None:
    with live_database.session() as session:
        for number, city in enumerate(["Moscow", "Moscow", "Moscow", "Kazan", "Kazan"]):
            customer_service.upsert(session, ACTOR, CustomerIn(external_id=f"C{number}", city=city))
        session.commit()  # before the segment exists: its refresh after commit places nobody in it
        segment = Segment(name="Moscow", rules={"root": {"op": "and", "children": [MOSCOW]}})
        segment.last_build_status = "running"  # as a request leaves it when it queues the build
        session.add(segment)
        session.commit()
        segment_id = segment.id

    pauses.hold("segments.build")
    first = workers(pause=True)
    queue_job(env, "smartcomm.segments.tasks", "build_segment", segment_id, "manual")
    pauses.wait_until_reached("segments.build", first)
    kill(first)
    assert [b.status for b in builds_of(live_database, segment_id)] == ["running"]
    assert count(live_database, SegmentMembership) == 0

    workers()
    done = wait_until(
        lambda: [b for b in builds_of(live_database, segment_id) if b.status == "done"], "the build again"
    )
    builds = builds_of(live_database, segment_id)
    assert [(b.status, b.error, b.trigger) for b in builds] == [
        ("failed", "interrupted", "manual"),
        ("done", None, "manual"),
    ]
    assert (done[0].members, done[0].entered) == (3, 3)
    assert count(live_database, SegmentMembership) == 3
    rebuilt = fetch(live_database, Segment, segment_id)
    assert (rebuilt.last_build_status, rebuilt.member_count) == ("done", 3)


def builds_of(database: Database, segment_id: int) -> list[SegmentBuild]:
    with database.session() as session:
        statement = select(SegmentBuild).where(SegmentBuild.segment_id == segment_id)
        return list(session.scalars(statement.order_by(SegmentBuild.id)))


# --- RFM calculations -----------------------------------------------------------------------------------


def test_an_rfm_calculation_whose_worker_is_killed_ends_interrupted_and_keeps_the_old_scores(
    live_database: Database, env: dict[str, str], pauses: Pauses, workers: StartWorker
) -> None:
    with live_database.session() as session:
        buyers(session, 6)
        previous = rfm_service.run(session, "manual")
        session.commit()
        buyers(session, 4, first=6)
        queued = rfm_service.queue(session, "manual")
        session.commit()
        previous_id, queued_id = previous.id, queued.id

    pauses.hold("rfm.calculate")
    first = workers(pause=True)
    queue_job(env, "smartcomm.rfm.tasks", "calculate", "manual", queued_id)
    pauses.wait_until_reached("rfm.calculate", first)
    kill(first)
    assert fetch(live_database, RfmCalculation, queued_id).status == "running"

    workers()
    interrupted = wait_until(
        lambda: (c := fetch(live_database, RfmCalculation, queued_id)).status != "running" and c, "the reaper"
    )
    assert (interrupted.status, interrupted.error) == ("failed", "interrupted")
    with live_database.session() as session:
        by_calculation = select(CustomerRfm.calculation_id, func.count()).group_by(CustomerRfm.calculation_id)
        # The killed run's scores never landed: every customer keeps a cell of the previous calculation
        # (the four newer buyers were placed by its thresholds when their receipts arrived).
        assert dict(session.execute(by_calculation).all()) == {previous_id: 10}


def buyers(session: Session, how_many: int, first: int = 0) -> None:
    for number in range(first, first + how_many):
        customer = customer_service.upsert(session, ACTOR, CustomerIn(external_id=f"B{number}"))[0]
        receipt = {
            "number": f"R{number}", "store": "S1", "customer_id": customer.id,
            "purchased_at": utcnow() - timedelta(days=number + 1), "lines": [{"sku": "A", "price": "100"}],
        }  # fmt: skip
        receipt_service.write(session, ACTOR, [ReceiptIn.model_validate(receipt)])


# --- audience imports -----------------------------------------------------------------------------------


def test_an_audience_import_whose_worker_is_killed_ends_interrupted_and_runs_again(
    live_database: Database, env: dict[str, str], pauses: Pauses, workers: StartWorker, ui: UIClient,
    tmp_path: Path,
) -> None:  # fmt: skip
    upload = tmp_path / "audience-upload.csv"
    upload.write_text("".join(f"A{i};\n" for i in range(20)) + "nobody-1;\n")
    with live_database.session() as session:
        for number in range(20):
            customer_service.upsert(session, ACTOR, CustomerIn(external_id=f"A{number}"))
        audience = Audience(name="Loyal")
        session.add(audience)
        session.flush()
        job = AudienceImport(
            file_name="loyal.csv", file_path=str(upload), id_type="external_id", mode="single",
            audience_id=audience.id, status="queued", unmatched=[], audiences=[],
        )  # fmt: skip
        session.add(job)
        session.commit()
        audience_id, job_id = audience.id, job.id

    pauses.hold("audiences.import")
    first = workers(pause=True)
    queue_job(env, "smartcomm.audiences.tasks", "run_audience_import", job_id)
    pauses.wait_until_reached("audiences.import", first)
    kill(first)
    assert fetch(live_database, AudienceImport, job_id).status == "running"
    assert Path(f"{upload}.unmatched.csv").exists()  # the report of the rows read so far

    workers()
    interrupted = wait_until(
        lambda: (j := fetch(live_database, AudienceImport, job_id)).status != "running" and j, "the reaper"
    )
    assert (interrupted.status, interrupted.message) == ("failed", "interrupted")
    assert count(live_database, AudienceMember) == 0 and upload.exists()
    assert not Path(f"{upload}.unmatched.csv").exists()

    page = ui.get(f"/audiences/imports/{job_id}").text
    assert 'data-badge="interrupted"' in page and 'id="import-run-again"' in page
    response = ui.submit(f"/audiences/imports/{job_id}/run-again")
    assert response.status_code == 303
    again = fetch(live_database, AudienceImport, int(response.headers["location"].rsplit("/", 1)[1]))
    assert (again.status, again.added, again.unmatched_total) == ("done", 20, 1)
    assert count(live_database, AudienceMember) == 20
    assert fetch(live_database, Audience, audience_id).member_count == 20
    assert not upload.exists()  # an import that ran keeps no uploaded contacts
