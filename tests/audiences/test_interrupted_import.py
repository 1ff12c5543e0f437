"""Audience imports whose process died: the reaper's verdict, "Run again", and an import taken away that
stops without writing (killing a real worker: tests/worker/test_interrupted_jobs.py)."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from smartcomm.audiences import importer
from smartcomm.audiences.importer import audience_import_service, report_path
from smartcomm.audiences.repository import AudienceImportRepository
from smartcomm.audiences.schemas import AudienceIn
from smartcomm.audiences.service import audience_service
from smartcomm.audiences.tasks import run_audience_import
from smartcomm.kit.db import Database
from smartcomm.kit.leases import Owner, this_process
from smartcomm.kit.time import utcnow
from smartcomm.models import Audience, AudienceImport, AudienceMember, AuditEntry
from tests.audiences.helpers import ACTOR, customer
from tests.conftest import UIClient
from tests.factories import make_user


def gone_owner() -> str:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return str(Owner(socket.gethostname(), process.pid, "1"))


def upload(tmp_path: Path, text: str = "LP-1;\nLP-2;\n") -> Path:
    path = tmp_path / "audience-upload.csv"
    path.write_text(text)
    return path


def an_import(session: Session, path: Path, *, status: str = "queued", owner: str | None = None,
              audience_id: int | None = None, new_name: str | None = None) -> AudienceImport:  # fmt: skip
    job = AudienceImport(
        file_name="list.csv", file_path=str(path), id_type="external_id", mode="single",
        audience_id=audience_id, audience_name=new_name, status=status, lease_owner=owner,
        lease_heartbeat_at=utcnow(), unmatched=[], audiences=[],
    )  # fmt: skip
    session.add(job)
    session.commit()
    return job


def members(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(AudienceMember)) or 0)


def test_the_reaper_interrupts_an_import_whose_process_is_gone(session: Session, tmp_path: Path) -> None:
    path = upload(tmp_path)
    dead = an_import(session, path, status="running", owner=gone_owner(), new_name="New")
    alive = an_import(session, path, status="running", owner=this_process(), new_name="Other")
    report_path(dead).write_text("row;value;reason\r\n")  # what the dead run had reported so far

    assert audience_import_service.reap() == [dead.id]

    session.refresh(dead)
    session.refresh(alive)
    assert (dead.status, dead.message, alive.status) == ("failed", "interrupted", "running")
    assert not report_path(dead).exists() and path.exists()  # the file stays, to run again


def test_run_again_imports_the_file_into_the_same_audience_and_is_audited(
    client: UIClient, session: Session, tmp_path: Path
) -> None:
    customer(session, "LP-1", "Sokolova")
    customer(session, "LP-2", "Orlov")
    audience = audience_service.create(session, ACTOR, AudienceIn(name="Loyal"))
    path = upload(tmp_path)
    job = an_import(session, path, status="running", owner=gone_owner(), audience_id=audience.id)
    audience_import_service.reap()
    user, password = make_user(session, role="marketer")
    client.sign_in(user.email, password)

    page = client.get(f"/audiences/imports/{job.id}").text
    assert 'id="import-interrupted"' in page and 'id="import-run-again"' in page
    response = client.submit(f"/audiences/imports/{job.id}/run-again")

    again = session.scalars(select(AudienceImport).where(AudienceImport.id > job.id)).one()
    assert response.headers["location"] == f"/audiences/imports/{again.id}"
    assert (again.status, again.added, again.audience_id) == ("done", 2, audience.id)
    assert members(session) == 2 and not path.exists()
    entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "run_again")).one()
    assert (entry.object_type, entry.object_id) == ("audience_import", str(again.id))
    assert 'id="import-run-again"' not in client.get(f"/audiences/imports/{job.id}").text


def test_run_again_is_refused_and_writes_nothing_when_it_cannot_run(
    client: UIClient, session: Session, tmp_path: Path
) -> None:
    done = an_import(session, upload(tmp_path), status="done")
    named = an_import(session, upload(tmp_path), status="running", owner=gone_owner(), new_name="VIP")
    audience_import_service.reap()
    audience_service.create(session, ACTOR, AudienceIn(name="vip"))  # the name was taken meanwhile
    session.commit()
    user, password = make_user(session, role="marketer")
    client.sign_in(user.email, password)
    imports_before = session.scalar(select(func.count()).select_from(AudienceImport))

    for job in (done, named):
        response = client.submit(f"/audiences/imports/{job.id}/run-again")
        assert response.headers["location"] == f"/audiences/imports/{job.id}"
    assert session.scalar(select(func.count()).select_from(AudienceImport)) == imports_before
    assert session.scalars(select(AuditEntry).where(AuditEntry.action == "run_again")).all() == []


def test_analysts_see_an_interrupted_import_without_running_it_again(
    client: UIClient, session: Session, tmp_path: Path
) -> None:
    job = an_import(session, upload(tmp_path), status="running", owner=gone_owner(), new_name="New")
    audience_import_service.reap()
    user, password = make_user(session, role="analyst")
    client.sign_in(user.email, password)
    page = client.get(f"/audiences/imports/{job.id}").text
    assert 'data-badge="interrupted"' in page and 'id="import-run-again"' not in page
    assert client.submit(f"/audiences/imports/{job.id}/run-again").status_code == 403


def test_an_import_found_interrupted_before_it_ends_rolls_back(
    live_database: Database, backend: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if backend == "sqlite":
        pytest.skip("on SQLite the reaper's write waits for the import's write transaction to end")
    with live_database.session() as session:
        customer(session, "LP-1", "Sokolova")
        session.commit()
        job_id = an_import(session, upload(tmp_path), new_name="Loyal").id

    def judged_gone(name: str) -> None:
        with live_database.session() as other:  # another connection, as another worker's reaper
            [claim] = AudienceImportRepository(other).claims()
            assert AudienceImportRepository(other).interrupt(claim, utcnow())
            other.commit()

    monkeypatch.setattr(importer, "pause_point", judged_gone)
    assert run_audience_import.call_local(job_id) == "interrupted"

    with live_database.session() as session:
        job = session.get(AudienceImport, job_id)
        assert job is not None and (job.status, job.message) == ("failed", "interrupted")
        assert session.scalar(select(func.count()).select_from(Audience)) == 0  # "Loyal" was not made
        assert members(session) == 0 and Path(job.file_path).exists()
