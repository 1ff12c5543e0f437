"""The `imports.run` job: ids in, and a job that already ran is left alone."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from smartcomm.audit.actor import Actor
from smartcomm.imports.service import import_service
from smartcomm.imports.tasks import run_import
from smartcomm.models import AuditEntry, Customer, ImportJob
from tests.imports.conftest import WriteCsv


def test_running_a_job_twice_imports_once(session: Session, write_csv: WriteCsv) -> None:
    path = write_csv("external_id,first_name\nC-1,Ivan\n")
    job = import_service.register(
        session, Actor.system("tests"), kind="customers", path=path, valid_rows_only=False
    )
    session.commit()

    assert run_import.call_local(job.id) == "done"
    assert run_import.call_local(job.id) == "done"

    session.refresh(job)
    assert (job.status, job.imported_rows, job.started_at is not None, job.finished_at is not None) == (
        "done",
        1,
        True,
        True,
    )
    assert session.scalar(select(func.count()).select_from(Customer)) == 1
    imports = select(func.count()).select_from(AuditEntry).where(AuditEntry.object_type == "import")
    assert session.scalar(imports) == 1


def test_a_job_whose_file_is_gone_is_rejected(session: Session, write_csv: WriteCsv) -> None:
    path = write_csv("external_id\nC-1\n")
    job = import_service.register(
        session, Actor.system("tests"), kind="customers", path=path, valid_rows_only=False
    )
    session.commit()
    path.unlink()

    assert run_import.call_local(job.id) == "rejected"
    stored = session.get(ImportJob, job.id)
    assert stored is not None
    session.refresh(stored)
    assert stored.errors == [
        {"row": 1, "column": "file", "message": "the uploaded file is gone; upload it again"}
    ]
