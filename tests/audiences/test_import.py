"""CSV import of audiences: both modes, every id type, the unmatched report, headers, BOM and batches."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from smartcomm.audiences import importer
from smartcomm.audiences.importer import audience_import_service, report_path
from smartcomm.audiences.repository import AudienceRepository
from smartcomm.audiences.schemas import AudienceIn, IdType, ImportMode, ImportRequest, MembersIn
from smartcomm.audiences.service import audience_service
from smartcomm.kit.db import session_scope
from smartcomm.kit.errors import InvalidInput
from smartcomm.models import Audience, AudienceImport, AudienceMember
from tests.audiences.helpers import ACTOR, audit_rows, customer, member_ids


def run_import(
    session: Session,
    text: str,
    *,
    id_type: IdType = IdType.EXTERNAL_ID,
    mode: ImportMode = ImportMode.SINGLE,
    audience_id: int | None = None,
    new_name: str | None = None,
    bom: bool = False,
    raw: bytes | None = None,
) -> AudienceImport:
    """Upload a file as the import form does and run the import job on it."""
    request = ImportRequest(mode=mode, id_type=id_type, audience_id=audience_id, new_name=new_name)
    content = raw if raw is not None else ("\ufeff" if bom else "").encode() + text.encode("utf-8")
    job = audience_import_service.start(session, ACTOR, request, "list.csv", io.BytesIO(content))
    audience_import_service.run(job.id)
    session.expire_all()
    return audience_import_service.get(session, job.id)


def unmatched(job: AudienceImport) -> list[tuple[int, str]]:
    return [(item["row"], item["value"]) for item in job.unmatched]


@pytest.fixture
def people(session: Session) -> None:
    customer(session, "LP-1", "Sokolova", email="maria.sokolova@example.com", phone="+7 916 111-22-33")
    customer(session, "LP-2", "Petrov", email="ivan@example.com", phone="8 903 555-10-20")
    customer(session, "LP-3", "Volkov", email="p.volkov@example.com")


def test_one_audience_for_the_file_with_a_report_of_unmatched_rows(session: Session, people: None) -> None:
    job = run_import(session, "LP-1;\nLP-404;\n\nLP-2\nLP-1;\nNOPE-7;\n", new_name="Autumn promo")
    audience = session.scalars(select(Audience).where(Audience.name == "Autumn promo")).one()
    assert (job.status, job.audience_id, job.rows_read) == ("done", audience.id, 5)
    assert (job.added, job.already_members, job.unmatched_total) == (2, 1, 2)
    assert unmatched(job) == [(2, "LP-404"), (6, "NOPE-7")]
    assert job.unmatched[0]["reason"] == "no customer with this external id"
    assert member_ids(session, audience.id) == {"LP-1", "LP-2"}
    assert audience.member_count == 2
    created, imported = audit_rows(session, audience.id)
    assert (created.action, created.changes["source"]) == ("create", [None, "import of list.csv"])
    assert imported.action == "import"
    assert imported.changes == {
        "added": [None, 2],
        "already_members": [None, 1],
        "file": [None, "list.csv"],
        "id_type": [None, "external_id"],
        "member_count": [None, 2],
        "rows": [None, 5],
        "unmatched": [None, 2],
    }


def test_into_an_existing_audience_counts_those_already_in(session: Session, people: None) -> None:
    audience = audience_service.create(session, ACTOR, AudienceIn(name="VIP"))
    audience_service.add_members(session, ACTOR, audience.id, MembersIn(external_ids=["LP-1"]))
    job = run_import(session, "LP-1\nLP-3\n", audience_id=audience.id)
    assert (job.added, job.already_members, job.unmatched_total) == (1, 1, 0)
    assert member_ids(session, audience.id) == {"LP-1", "LP-3"}
    assert session.scalar(select(Audience.member_count).where(Audience.id == audience.id)) == 2


def test_an_audience_per_row_creates_missing_audiences(session: Session, people: None) -> None:
    vip = audience_service.create(session, ACTOR, AudienceIn(name="VIP"))
    text = "LP-1;vip\nLP-2; Newcomers \nLP-3;Newcomers\nLP-9;Newcomers\nLP-3;\nLP-1;Coffee; lovers\n"
    job = run_import(session, text, mode=ImportMode.PER_ROW)
    newcomers = audience_service.find_by_name(session, "Newcomers")
    coffee = audience_service.find_by_name(session, "Coffee")
    assert newcomers is not None and coffee is not None
    assert member_ids(session, vip.id) == {"LP-1"}  # "vip" is the existing "VIP"
    assert member_ids(session, newcomers.id) == {"LP-2", "LP-3"}
    assert member_ids(session, coffee.id) == {"LP-1"}
    assert (job.rows_read, job.added, job.audiences_created, job.audience_id) == (6, 4, 2, None)
    assert [(i["row"], i["value"], i["reason"]) for i in job.unmatched] == [
        (4, "LP-9", "no customer with this external id"),
        (5, "LP-3", "no audience name"),
    ]
    assert [(a["name"], a["added"], a["created"], a["member_count"]) for a in job.audiences] == [
        ("Coffee", 1, True, 1),
        ("Newcomers", 2, True, 2),
        ("VIP", 1, False, 1),
    ]
    assert [row.action for row in audit_rows(session, newcomers.id)] == ["create", "import"]


def test_phones_in_any_format_are_normalised_before_matching(session: Session, people: None) -> None:
    text = "8 (916) 111-22-33\n+7 903 5551020\n79161112233\n9035551020\n12345\n+7 999 000-00-00\n"
    job = run_import(session, text, id_type=IdType.PHONE, new_name="By phone")
    assert member_ids(session, job.audience_id or 0) == {"LP-1", "LP-2"}
    assert (job.rows_read, job.added, job.already_members) == (6, 2, 2)
    assert [(i["row"], i["value"], i["reason"]) for i in job.unmatched] == [
        (5, "12345", "not a valid phone number"),
        (6, "+7 999 000-00-00", "no customer with this phone"),
    ]


def test_emails_in_any_case_match(session: Session, people: None) -> None:
    text = "E-mail\nMaria.Sokolova@Example.COM\n IVAN@example.com \nnot-an-address\nnobody@example.com\n"
    job = run_import(session, text, id_type=IdType.EMAIL, new_name="By e-mail")
    assert member_ids(session, job.audience_id or 0) == {"LP-1", "LP-2"}
    assert job.rows_read == 4  # the header line is not a row
    assert [(i["row"], i["reason"]) for i in job.unmatched] == [
        (4, "not a valid e-mail address"),
        (5, "no customer with this e-mail"),
    ]


def test_platform_ids(session: Session) -> None:
    ivan = customer(session, "LP-1", "Ivanov")
    job = run_import(
        session, f"id\n{ivan.id}\n99999999\nLP-1\n", id_type=IdType.PLATFORM_ID, new_name="By id"
    )
    assert member_ids(session, job.audience_id or 0) == {"LP-1"}
    assert [(i["row"], i["value"], i["reason"]) for i in job.unmatched] == [
        (3, "99999999", "no customer with this platform id"),
        (4, "LP-1", "a platform id is a number"),
    ]


def test_a_header_is_detected_only_when_it_does_not_look_like_an_id(session: Session) -> None:
    customer(session, "ANNA", "Ivanova")
    customer(session, "LP-2", "Petrov")
    titled = run_import(session, "External id;Audience\nLP-2;Titled\n", mode=ImportMode.PER_ROW)
    assert (titled.rows_read, titled.unmatched_total) == (1, 0)
    # A first value without digits that is a customer's external id is data, not a header.
    untitled = run_import(session, "ANNA\nLP-2\n", new_name="No header")
    assert (untitled.rows_read, untitled.added) == (2, 2)
    # Only the first line can be a header: a later line without digits is an unmatched row.
    later = run_import(session, "LP-2\nexternal_id\n", new_name="Later")
    assert unmatched(later) == [(2, "external_id")]


def test_a_byte_order_mark_is_tolerated(session: Session, people: None) -> None:
    job = run_import(session, "LP-1;\r\nLP-3;\r\n", new_name="From Excel", bom=True)
    assert (job.added, job.unmatched_total) == (2, 0)
    phones = run_import(session, "Phone\n+79161112233\n", id_type=IdType.PHONE, new_name="Phones", bom=True)
    assert (phones.rows_read, phones.added) == (1, 1)


def test_a_file_with_no_match_succeeds_with_its_report(session: Session) -> None:
    job = run_import(session, "A-1\nA-2\n", new_name="Nobody")
    assert (job.status, job.rows_read, job.added, job.unmatched_total) == ("done", 2, 0, 2)
    assert list(audience_import_service.report_lines(job)) == [
        "row;value;reason\r\n",
        "1;A-1;no customer with this external id\r\n",
        "2;A-2;no customer with this external id\r\n",
    ]
    assert session.scalar(select(Audience.member_count).where(Audience.id == job.audience_id)) == 0


def test_a_large_file_streams_in_batches_and_keeps_the_first_unmatched_rows(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    for number in range(30):
        customer(session, f"K-{number}", f"Last{number}")
    lookups: list[int] = []
    original = AudienceRepository.customers_by

    def counting(self: AudienceRepository, column: Any, values: Any) -> dict[Any, list[int]]:
        lookups.append(len(values))
        return original(self, column, values)

    monkeypatch.setattr(importer, "BATCH_ROWS", 100)
    monkeypatch.setattr(importer, "MAX_STORED_UNMATCHED", 50)
    monkeypatch.setattr(AudienceRepository, "customers_by", counting)
    lines = [f"K-{(n // 10) % 30}" if n % 10 == 0 else f"U-{n}" for n in range(1, 1051)]
    job = run_import(session, "\n".join(lines) + "\n", new_name="Big")
    assert lookups == [100] * 10 + [50]
    assert (job.rows_read, job.added, job.already_members) == (1050, 30, 75)
    assert (job.unmatched_total, len(job.unmatched)) == (945, 50)
    assert job.unmatched[0] == {"row": 1, "value": "U-1", "reason": "no customer with this external id"}
    report = list(audience_import_service.report_lines(job))
    assert len(report) == 946 and report[-1] == "1049;U-1049;no customer with this external id\r\n"
    assert session.scalar(select(Audience.member_count).where(Audience.id == job.audience_id)) == 30


def test_a_file_that_is_not_utf8_fails_and_writes_nothing(session: Session, people: None) -> None:
    job = run_import(session, "", raw="LP-1\nСписок\n".encode("cp1251"), new_name="Broken")
    assert (job.status, job.added, job.rows_read) == ("failed", 0, 0)
    assert job.message == 'The file is not UTF-8 text: save it as "CSV UTF-8" and upload it again.'
    assert audience_service.find_by_name(session, "Broken") is None
    assert session.scalar(select(func.count()).select_from(AudienceMember)) == 0
    assert not report_path(job).exists() and not Path(job.file_path).exists()


def test_the_target_audience_is_checked_before_the_file_is_kept(session: Session) -> None:
    audience_service.create(session, ACTOR, AudienceIn(name="Taken"))
    for request, field in (
        (ImportRequest(new_name="taken"), "new_name"),
        (ImportRequest(), "audience_id"),
    ):
        with pytest.raises(InvalidInput) as refused:
            audience_import_service.start(session, ACTOR, request, "list.csv", io.BytesIO(b"LP-1\n"))
        assert refused.value.errors[0].field == field
    assert session.scalar(select(func.count()).select_from(AudienceImport)) == 0


def test_the_job_runs_after_commit_and_only_once(session: Session, people: None) -> None:
    request = ImportRequest(new_name="Queued")
    with session_scope() as request_session:  # as a request does: the job is queued when it commits
        job = audience_import_service.start(
            request_session, ACTOR, request, "list.csv", io.BytesIO(b"LP-1\nLP-2\n")
        )
        assert job.status == "queued"
    session.expire_all()
    done = audience_import_service.get(session, job.id)
    assert (done.status, done.added) == ("done", 2)
    assert not Path(done.file_path).exists()  # the uploaded ids are not kept once imported
    assert audience_import_service.run(job.id) == "done"
    assert len(audit_rows(session, done.audience_id or 0, "import")) == 1
