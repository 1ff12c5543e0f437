"""What any import file may look like: headers, delimiters, BOM, encodings, blank lines, size."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from smartcomm.imports import service
from smartcomm.imports.runner import import_file
from smartcomm.models import Customer, ImportJob
from tests.imports.conftest import WriteCsv, add_field, counts


def names(session: Session) -> dict[str, str | None]:
    return dict(session.execute(select(Customer.external_id, Customer.first_name)).all())


def test_unknown_columns_reject_the_file_naming_them(session: Session, write_csv: WriteCsv) -> None:
    add_field(session, "customer", "pet", "string")
    before = counts(session)
    summary = import_file(
        "customers", write_csv("external_id,first_name,colour,custom.pet,custom.nope\nC-1,Ivan,red,Rex,x\n")
    )

    assert (summary.status, summary.imported_rows, summary.total_rows) == ("rejected", 0, 0)
    assert [(e.row, e.column, e.message) for e in summary.errors] == [
        (1, "colour", "unknown column"),
        (1, "custom.nope", "unknown custom field (define it in Settings → Fields)"),
    ]
    assert counts(session) == before


def test_a_missing_required_column_is_named(session: Session, write_csv: WriteCsv) -> None:
    summary = import_file("receipts", write_csv("number,store,customer_external_id,purchased_at,sku\n"))
    assert [(e.row, e.column, e.message) for e in summary.errors] == [(1, "price", "the column is required")]


@pytest.mark.parametrize(
    ("text", "bom"),
    [
        ("external_id;first_name\nC-1;Ivan, the first\nC-2;Olga\n", True),
        ('external_id,first_name\nC-1,"Ivan, the first"\nC-2,Olga\n', False),
        ("external_id;first_name\r\nC-1;Ivan, the first\r\nC-2;Olga\r\n", False),
    ],
    ids=["semicolons-with-bom", "commas", "crlf"],
)
def test_delimiter_and_bom_are_recognised(
    session: Session, write_csv: WriteCsv, text: str, bom: bool
) -> None:
    summary = import_file("customers", write_csv(text, bom=bom))

    assert (summary.status, summary.imported_rows) == ("done", 2)
    assert names(session) == {"C-1": "Ivan, the first", "C-2": "Olga"}


def test_values_are_trimmed_and_blank_lines_skipped_with_true_line_numbers(
    session: Session, write_csv: WriteCsv
) -> None:
    summary = import_file("customers", write_csv("external_id , gender\n\n  C-1 ,  m \n\nC-2,x\n,,\n"))

    assert summary.total_rows == 2
    assert [(e.row, e.column) for e in summary.errors] == [(5, "gender")]


@pytest.mark.parametrize("batch_rows", [1, 50_000])
def test_line_numbers_count_the_line_breaks_inside_quoted_cells(
    session: Session, write_csv: WriteCsv, monkeypatch: pytest.MonkeyPatch, batch_rows: int
) -> None:
    monkeypatch.setattr(service, "BATCH_ROWS", batch_rows)
    quoted = 'external_id,first_name,gender\nC-1,"Ivan\nthe\r\nfirst",m\n\nC-2,Olga,x\nC-3,Oleg,y\n'
    unquoted = quoted.replace('"Ivan\nthe\r\nfirst"', "Ivan")

    # A row's number is the line it starts on, with or without quoted line breaks before it.
    assert [(e.row, e.column) for e in import_file("customers", write_csv(quoted)).errors] == [
        (6, "gender"),
        (7, "gender"),
    ]
    assert [(e.row, e.column) for e in import_file("customers", write_csv(unquoted)).errors] == [
        (4, "gender"),
        (5, "gender"),
    ]


def test_a_row_longer_than_the_header_is_an_error(session: Session, write_csv: WriteCsv) -> None:
    summary = import_file("customers", write_csv("external_id,first_name\nC-1,Ivan,extra\nC-2\n"))

    assert [(e.row, e.column, e.message) for e in summary.errors] == [
        (2, "row", "3 values but the header has 2 columns")
    ]


def test_files_that_are_not_utf8_or_empty_are_refused(
    session: Session, write_csv: WriteCsv, tmp_path
) -> None:
    latin = tmp_path / "latin.csv"
    latin.write_bytes("external_id,first_name\nC-1,Fran\xe7ois\n".encode("latin-1"))
    assert [(e.row, e.message) for e in import_file("customers", latin).errors] == [
        (2, "the file is not UTF-8 text")
    ]
    empty = write_csv("")
    assert (
        import_file("customers", empty).errors[0].message
        == "the file is empty: the first row must be a header"
    )
    assert counts(session)["customers"] == 0


def test_a_big_file_streams_in_batches_with_progress(
    session: Session, write_csv: WriteCsv, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(service, "BATCH_ROWS", 100)
    path = write_csv("external_id,first_name\n" + "".join(f"C-{n},Name {n}\n" for n in range(1, 1001)))
    calls: list[tuple[int, int]] = []

    summary = import_file("customers", path, progress=lambda done, total: calls.append((done, total)))

    assert (summary.status, summary.imported_rows) == ("done", 1000)
    # Ten batches checked, then ten written; the checking total is estimated from the line breaks.
    assert calls[:10] == [(n, 1000) for n in range(100, 1001, 100)]
    assert calls[10:] == [(n, 1000) for n in range(100, 1001, 100)]
    job = session.get(ImportJob, summary.job_id)
    assert job is not None and (job.status, job.total_rows, job.imported_rows) == ("done", 1000, 1000)
    assert names(session)["C-1000"] == "Name 1000"


def test_every_error_is_counted_but_the_report_keeps_the_first_thousand(
    session: Session, write_csv: WriteCsv
) -> None:
    path = write_csv("external_id,gender\n" + "".join(f"C-{n},x\n" for n in range(1500)))
    summary = import_file("customers", path)

    assert (summary.error_rows, len(summary.errors)) == (1500, 1000)
    assert (summary.errors[0].row, summary.errors[-1].row) == (2, 1001)
