"""The Data import pages: upload, the list with progress, the import page, the error report and samples."""

from __future__ import annotations

import re

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from smartcomm.models import Customer, ImportJob
from tests.conftest import UIClient
from tests.imports.conftest import add_customers, counts

BAD_CUSTOMERS = b"external_id;first_name;gender\nC-1;Ivan;m\nC-2;Olga;x\nC-3;Oleg;\n"


def upload(client: UIClient, kind: str, content: bytes, *, valid_rows_only: bool = False):
    data = {
        "kind": kind,
        "valid_rows_only": "true" if valid_rows_only else "false",
        "csrf_token": client.csrf,
    }
    return client.post("/imports", data=data, files={"file": ("people.csv", content, "text/csv")})


def test_upload_runs_the_import_and_the_page_shows_the_rejection(
    admin_client: UIClient, session: Session
) -> None:
    before = counts(session)
    response = upload(admin_client, "customers", BAD_CUSTOMERS)

    assert response.status_code == 303
    job = session.scalars(select(ImportJob)).one()
    assert response.headers["location"] == f"/imports/{job.id}"
    assert (job.status, job.total_rows, job.error_rows, job.file_name) == ("rejected", 3, 1, "people.csv")
    assert counts(session) == before
    page = admin_client.get(f"/imports/{job.id}").text
    assert 'data-status="rejected"' in page
    assert re.search(r"<td[^>]*>3</td><td><code>gender</code></td><td>expected m or f</td>", page)
    assert 'id="import-valid-rows"' in page

    errors = admin_client.get(f"/imports/{job.id}/errors.csv")
    assert errors.headers["content-type"].startswith("text/csv")
    assert errors.text == "\ufeffrow,column,message\r\n3,gender,expected m or f\r\n"


def test_valid_rows_only_imports_the_rest(admin_client: UIClient, session: Session) -> None:
    response = upload(admin_client, "customers", BAD_CUSTOMERS, valid_rows_only=True)

    job = session.get(ImportJob, int(response.headers["location"].rsplit("/", 1)[1]))
    assert job is not None and (job.status, job.imported_rows, job.error_rows) == ("done", 2, 1)
    assert sorted(session.scalars(select(Customer.external_id))) == ["C-1", "C-3"]
    listing = admin_client.get("/imports").text
    assert f'data-import-id="{job.id}"' in listing and 'data-status="done"' in listing
    assert "Anna Admin" in listing


def test_a_rejected_import_can_be_run_again_for_its_valid_rows(
    admin_client: UIClient, session: Session
) -> None:
    upload(admin_client, "customers", BAD_CUSTOMERS)
    rejected = session.scalars(select(ImportJob)).one()

    response = admin_client.submit(f"/imports/{rejected.id}/valid-rows")

    assert response.status_code == 303
    again = session.scalars(select(ImportJob).where(ImportJob.id != rejected.id)).one()
    assert response.headers["location"] == f"/imports/{again.id}"
    assert (again.status, again.valid_rows_only, again.imported_rows, again.file_path) == (
        "done",
        True,
        2,
        rejected.file_path,
    )
    assert session.scalar(select(func.count()).select_from(Customer)) == 2


def test_receipts_upload_with_an_unknown_header_is_rejected_by_column(
    admin_client: UIClient, session: Session
) -> None:
    add_customers(session, "C-1")
    upload(admin_client, "receipts", b"number,store,customer_external_id,purchased_at,sku,price,colour\n")
    job = session.scalars(select(ImportJob)).one()

    assert job.status == "rejected"
    assert job.errors == [{"row": 1, "column": "colour", "message": "unknown column"}]
    page = admin_client.get(f"/imports/{job.id}").text
    assert "cannot be read as this kind of import" in page and 'id="import-valid-rows"' not in page


def test_the_form_asks_for_a_kind_and_a_file(admin_client: UIClient, session: Session) -> None:
    response = admin_client.post("/imports", data={"kind": "", "csrf_token": admin_client.csrf})

    assert response.status_code == 422
    assert 'data-error-for="kind"' in response.text and 'data-error-for="file"' in response.text
    assert session.scalar(select(func.count()).select_from(ImportJob)) == 0


def test_sample_files_follow_their_format(admin_client: UIClient) -> None:
    for kind, first_column in (("customers", "external_id"), ("receipts", "number"), ("products", "sku")):
        response = admin_client.get(f"/imports/samples/{kind}.csv")
        assert response.status_code == 200
        assert response.text.startswith("\ufeff" + first_column + ",")
    assert admin_client.get("/imports/samples/orders.csv").status_code == 404


def test_the_list_polls_only_while_an_import_runs(admin_client: UIClient, session: Session) -> None:
    page = admin_client.get("/imports").text
    assert 'id="imports-poll"' not in page and "No imports yet" in page
    session.add(ImportJob(kind="receipts", file_name="big.csv", file_path="/nowhere", status="checking",
                          total_rows=1000, processed_rows=250, errors=[]))  # fmt: skip
    session.commit()

    fragment = admin_client.get("/imports", headers={"HX-Request": "true", "HX-Target": "imports-table"}).text
    assert 'id="imports-poll"' in fragment and "<html" not in fragment
    assert "Checked 250 of ~1,000 rows" in fragment and 'style="width: 25%"' in fragment
