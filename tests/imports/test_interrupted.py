"""Imports as leased jobs: the reaper's verdicts, an import taken away stopping without writing, and
"Run again" for an interrupted import. Killing real processes: tests/worker/test_interrupted_jobs.py."""

from __future__ import annotations

import socket
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from smartcomm.audit.actor import Actor
from smartcomm.imports import service as import_module
from smartcomm.imports.repository import ImportJobRepository
from smartcomm.imports.service import import_service
from smartcomm.imports.tasks import run_import
from smartcomm.kit.db import Database, session_scope
from smartcomm.kit.leases import Claim, Owner, this_process
from smartcomm.kit.time import utcnow
from smartcomm.models import AuditEntry, Customer, ImportJob
from tests.conftest import UIClient
from tests.factories import make_user
from tests.imports.conftest import WriteCsv, counts

ACTOR = Actor.system("tests")
CUSTOMERS = "external_id,first_name\nC-1,Ivan\nC-2,Olga\n"


def gone_owner() -> str:
    """An owner on this host whose process has ended."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return str(Owner(socket.gethostname(), process.pid, "1"))


def job_in(session: Session, path: Path, status: str, owner: str | None, beat_ago: timedelta) -> ImportJob:
    job = import_service.register(session, ACTOR, kind="customers", path=path, valid_rows_only=False)
    job.status, job.lease_owner, job.lease_heartbeat_at = status, owner, utcnow() - beat_ago
    session.commit()
    return job


def state(session: Session, job: ImportJob) -> tuple[str, str | None]:
    session.refresh(job)
    return job.status, job.message


def test_the_reaper_interrupts_only_imports_whose_process_is_gone(
    session: Session, write_csv: WriteCsv
) -> None:
    path = write_csv(CUSTOMERS)
    long_ago, just_now = timedelta(hours=1), timedelta(seconds=5)
    mine = job_in(session, path, "writing", this_process(), long_ago)  # alive: its heartbeat does not matter
    dead = job_in(session, path, "checking", gone_owner(), just_now)  # gone: its heartbeat does not matter
    quiet = job_in(session, path, "writing", "worker-2.internal:7:123", long_ago)  # lease expired
    beating = job_in(session, path, "writing", "worker-2.internal:8:123", just_now)  # lease held
    legacy = job_in(session, path, "checking", None, long_ago)  # claimed before leases existed
    queued = job_in(session, path, "queued", None, long_ago)  # waits for a worker: nobody runs it yet

    assert sorted(import_service.reap()) == sorted([dead.id, quiet.id, legacy.id])

    interrupted = ("failed", "interrupted")
    assert [state(session, job) for job in (dead, quiet, legacy)] == [interrupted] * 3
    assert [state(session, job)[0] for job in (mine, beating, queued)] == ["writing", "writing", "queued"]
    assert import_service.reap() == []


def test_an_import_found_interrupted_while_it_checks_stops_and_writes_nothing(
    session: Session, write_csv: WriteCsv, monkeypatch: pytest.MonkeyPatch
) -> None:
    job = import_service.register(
        session, ACTOR, kind="customers", path=write_csv(CUSTOMERS), valid_rows_only=False
    )
    session.commit()
    before = counts(session)

    def judged_gone(name: str) -> None:  # as a reaper elsewhere would, its lease having expired
        with session_scope() as other:
            row = ImportJobRepository(other).claims()[0]
            assert ImportJobRepository(other).interrupt(Claim(row.id, row.owner, row.heartbeat_at), utcnow())

    monkeypatch.setattr(import_module, "pause_point", judged_gone)
    assert run_import.call_local(job.id) == "interrupted"

    assert state(session, job) == ("failed", "interrupted")  # the verdict stands
    assert counts(session) == before


def test_an_import_found_interrupted_while_it_writes_rolls_back(
    live_database: Database, backend: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if backend == "sqlite":
        pytest.skip("on SQLite the reaper's write waits for the import's write transaction to end")
    path = tmp_path / "people.csv"
    path.write_text(CUSTOMERS)
    with live_database.session() as session:
        job = import_service.register(session, ACTOR, kind="customers", path=path, valid_rows_only=False)
        session.commit()
        job_id = job.id

    def judged_gone(name: str) -> None:
        if name == "imports.writing":
            with live_database.session() as other:  # another connection, as another worker's reaper
                row = ImportJobRepository(other).claims()[0]
                assert ImportJobRepository(other).interrupt(row, utcnow())
                other.commit()

    monkeypatch.setattr(import_module, "pause_point", judged_gone)
    assert run_import.call_local(job_id) == "interrupted"

    with live_database.session() as session:
        assert session.get(ImportJob, job_id).message == "interrupted"  # type: ignore[union-attr]
        assert session.scalar(select(func.count()).select_from(Customer)) == 0
        assert session.scalar(select(func.count()).select_from(AuditEntry)) == 0  # no "import" entry


def interrupted_job(session: Session, path: Path) -> ImportJob:
    job = job_in(session, path, "writing", gone_owner(), timedelta(0))
    assert import_service.reap() == [job.id]
    session.refresh(job)
    return job


def test_only_an_interrupted_import_whose_file_is_here_runs_again(
    admin_client: UIClient, session: Session, write_csv: WriteCsv
) -> None:
    path = write_csv(CUSTOMERS)
    done = import_service.register(session, ACTOR, kind="customers", path=path, valid_rows_only=False)
    session.commit()
    run_import.call_local(done.id)
    gone_file = interrupted_job(session, write_csv(CUSTOMERS))
    Path(gone_file.file_path).unlink()
    jobs_before, entries_before = counts_of(session)

    for job in (done, gone_file):
        page = admin_client.get(f"/imports/{job.id}").text
        assert 'id="import-run-again"' not in page
        response = admin_client.submit(f"/imports/{job.id}/run-again")
        assert (response.status_code, response.headers["location"]) == (303, f"/imports/{job.id}")
        assert "This import cannot be run again" in admin_client.get(f"/imports/{job.id}").text
    assert counts_of(session) == (jobs_before, entries_before)


def test_run_again_keeps_how_the_import_was_asked_for(
    admin_client: UIClient, session: Session, write_csv: WriteCsv
) -> None:
    job = interrupted_job(session, write_csv(CUSTOMERS))
    job.valid_rows_only, job.classifier = True, "web"
    session.commit()

    again = import_service.run_again(session, ACTOR, job.id)
    assert (again.kind, again.file_path, again.valid_rows_only, again.classifier) == (
        "customers", job.file_path, True, "web",
    )  # fmt: skip
    assert import_service.can_run_again(session, job) is False  # its file was queued again


def counts_of(session: Session) -> tuple[int, int]:
    session.expire_all()
    jobs = session.scalar(select(func.count()).select_from(ImportJob))
    entries = session.scalar(select(func.count()).select_from(AuditEntry))
    return int(jobs or 0), int(entries or 0)


def test_an_interrupted_import_reads_as_such_in_russian(
    client: UIClient, session: Session, write_csv: WriteCsv
) -> None:
    job = interrupted_job(session, write_csv(CUSTOMERS))
    user, password = make_user(session, role="administrator", language="ru")
    client.sign_in(user.email, password)

    page = client.get(f"/imports/{job.id}").text
    listed = client.get("/imports").text

    assert "Прерван" in page and "Запустить снова" in page and "Из файла ничего не записано." in page
    assert 'data-status="interrupted"' in listed and "Прерван" in listed
