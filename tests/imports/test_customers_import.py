"""Importing customers: normalised contacts, consent, custom fields, updates by external id."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from smartcomm.imports.runner import import_file
from smartcomm.models import AuditEntry, Customer, ImportJob
from tests.imports.conftest import WriteCsv, add_customers, add_field, counts


def customer(session: Session, external_id: str) -> Customer:
    found = session.scalar(select(Customer).where(Customer.external_id == external_id))
    assert found is not None
    session.refresh(found)
    return found


def test_customers_are_created_with_normalised_contacts(session: Session, write_csv: WriteCsv) -> None:
    path = write_csv(
        "external_id,first_name,last_name,gender,birth_date,email,phone,registered_at,allow_sms\n"
        "C-1,Ivan,Petrov,M,1990-05-17, Ivan.Petrov@Example.COM ,8 (912) 345-67-89,2025-03-01 10:00,N\n"
        "C-2,Anna,,f,,not-an-email,12,,\n"
        "C-3,Olga,,,,,+7 495 123-45-67,,\n"
    )
    summary = import_file("customers", path)

    assert (summary.status, summary.total_rows, summary.imported_rows, summary.error_rows) == (
        "done",
        3,
        3,
        0,
    )
    ivan = customer(session, "C-1")
    assert (ivan.first_name, ivan.last_name, ivan.gender, ivan.birth_date) == (
        "Ivan",
        "Petrov",
        "m",
        date(1990, 5, 17),
    )
    assert (ivan.email, ivan.email_valid) == ("ivan.petrov@example.com", True)
    assert (ivan.phone, ivan.phone_valid, ivan.phone_type) == ("+79123456789", True, "mobile")
    # Without an offset the time is in the project time zone (Europe/Moscow, UTC+3).
    assert ivan.registered_at == datetime(2025, 3, 1, 7, 0, tzinfo=UTC)
    assert (ivan.allow_sms, ivan.allow_email) == (False, True)
    anna = customer(session, "C-2")
    assert (anna.last_name, anna.email, anna.email_valid, anna.phone_valid) == (
        None,
        "not-an-email",
        False,
        False,
    )
    # A landline's numbering plan names one time zone: it becomes the customer's.
    olga = customer(session, "C-3")
    assert (olga.phone, olga.phone_type, olga.time_zone) == ("+74951234567", "landline", "Europe/Moscow")


def test_existing_customers_get_the_file_columns_and_keep_the_rest(
    session: Session, write_csv: WriteCsv
) -> None:
    add_field(session, "customer", "pet", "string")
    add_field(session, "customer", "children", "integer")
    import_file(
        "customers",
        write_csv("external_id,first_name,city,custom.pet,custom.children\nC-1,Ivan,Perm,Rex,2\n"),
    )

    summary = import_file("customers", write_csv("external_id;city;custom.children\nC-1;Kazan;\n"))

    assert summary.status == "done"
    updated = customer(session, "C-1")
    assert (updated.first_name, updated.city, updated.custom) == ("Ivan", "Kazan", {"pet": "Rex"})
    assert counts(session)["customers"] == 1


def test_one_audit_row_per_import_with_counts(session: Session, write_csv: WriteCsv) -> None:
    add_customers(session, "C-1")
    summary = import_file(
        "customers",
        write_csv("external_id,first_name\nC-1,Ivan\nC-2,Oleg\nC-2,Olga\n"),
    )

    entries = session.scalars(select(AuditEntry).where(AuditEntry.object_type == "import")).all()
    assert len(entries) == 1
    entry = entries[0]
    assert (entry.action, entry.object_id, entry.actor_kind, entry.actor_label) == (
        "import",
        str(summary.job_id),
        "system",
        "command line",
    )
    assert entry.changes["created"] == [None, 1] and entry.changes["updated"] == [None, 1]
    assert entry.changes["imported_rows"] == [None, 3]
    assert customer(session, "C-2").first_name == "Olga"
    job = session.get(ImportJob, summary.job_id)
    assert job is not None and (job.status, job.imported_rows, job.total_rows) == ("done", 3, 3)


def test_bad_rows_reject_the_file_and_nothing_is_written(session: Session, write_csv: WriteCsv) -> None:
    add_field(session, "customer", "children", "integer")
    before = counts(session)
    path = write_csv(
        "external_id,gender,birth_date,custom.children,allow_email\n"
        "C-1,m,1990-01-01,1,Y\n"
        "C-2,x,1990-13-01,two,maybe\n"
        ",f,,,\n"
    )
    summary = import_file("customers", path)

    assert (summary.status, summary.imported_rows, summary.error_rows, summary.total_rows) == (
        "rejected",
        0,
        2,
        3,
    )
    assert [(e.row, e.column) for e in summary.errors] == [
        (3, "allow_email"),
        (3, "birth_date"),
        (3, "custom.children"),
        (3, "gender"),
        (4, "external_id"),
    ]
    assert counts(session) == before
