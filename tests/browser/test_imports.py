"""Data import in a real browser: an administrator's file is rejected for a row, then imported without it."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
from pathlib import Path

from playwright.sync_api import Page, expect
from sqlalchemy import func, select, update

from smartcomm.imports.service import import_service
from smartcomm.kit.db import Database
from smartcomm.kit.leases import Owner
from smartcomm.models import Customer, ImportJob
from tests.browser.conftest import check_layout, sign_in, snapshot

CUSTOMERS = (
    "external_id;first_name;last_name;gender;birth_date;email;phone;city\n"
    "LP-2001;Vera;Zaitseva;f;1991-02-03;vera.z@example.com;+7 912 111-22-33;Perm\n"
    "LP-2002;Boris;Zhukov;m;1980-13-01;boris@example.com;+7 903 222-33-44;Kazan\n"
    "LP-2003;Alla;Zvereva;f;;alla@example;8 495 123-45-67;Moscow\n"
)


def upload(page: Page, path: Path, *, valid_rows_only: bool) -> None:
    page.goto("/imports")
    page.check("#kind-customers")
    page.set_input_files("#f-file", str(path))
    if valid_rows_only:
        page.check("#f-valid_rows_only")
    page.click("#start-import")
    expect(page).to_have_url(re.compile(r"/imports/\d+$"))


def test_administrator_imports_customers_after_a_rejection(
    page: Page, staff, live_database: Database, tmp_path: Path
) -> None:
    email, password = staff("administrator", full_name="Alice Admin")
    path = tmp_path / "loyalty-members.csv"
    path.write_text(CUSTOMERS, encoding="utf-8-sig")
    sign_in(page, email, password)

    page.goto("/imports")
    expect(page.locator("#main-menu")).to_contain_text("Data import")
    expect(page.locator("#imports")).to_have_count(0)
    page.click("a[href='#format-receipts']")
    expect(page.locator("#format-receipts")).to_contain_text("customer_external_id")
    snapshot(page, "imports-empty")
    check_layout(page)
    with page.expect_download() as download:
        page.click("#sample-receipts")
    assert download.value.suggested_filename == "sample-receipts.csv"

    upload(page, path, valid_rows_only=False)
    expect(page.locator("[data-status='rejected']")).to_be_visible()
    expect(page.locator("#import-message")).to_contain_text("1 row has errors")
    first_error = page.locator("#row-errors tbody tr").first
    expect(first_error).to_contain_text("3")
    expect(first_error).to_contain_text("birth_date")
    expect(page.locator("#imported-rows")).to_have_text("0")
    snapshot(page, "imports-rejected")
    check_layout(page)
    with live_database.session() as session:
        assert session.scalar(select(func.count()).select_from(Customer)) == 0

    upload(page, path, valid_rows_only=True)
    expect(page.locator("[data-status='done']")).to_be_visible()
    expect(page.locator("#imported-rows")).to_have_text("2")
    expect(page.locator("#error-rows")).to_have_text("1")
    snapshot(page, "imports-done")
    check_layout(page)

    page.goto("/imports")
    expect(page.locator("#imports tbody tr")).to_have_count(2)
    expect(page.locator("#imports tbody tr").first).to_contain_text("Alice Admin")
    snapshot(page, "imports-list")
    check_layout(page)

    page.goto("/customers?q=Zaitseva")
    expect(page.locator("#customers-table")).to_contain_text("Vera")
    snapshot(page, "imports-customer-found")
    check_layout(page)
    page.goto("/customers?q=Zhukov")
    expect(page.locator("#customers-table")).not_to_contain_text("Boris")
    check_layout(page)


def test_the_import_page_follows_a_running_import(page: Page, staff, live_database: Database) -> None:
    email, password = staff("administrator")
    with live_database.session() as session:
        job = ImportJob(
            kind="receipts",
            file_name="march-receipts.csv",
            file_path="/nowhere",
            status="checking",
            total_rows=120_000,
            processed_rows=45_000,
            errors=[],
        )
        session.add(job)
        session.commit()
        job_id = job.id
    sign_in(page, email, password)

    page.goto(f"/imports/{job_id}")
    expect(page.locator("[data-status='checking']")).to_be_visible()
    expect(page.locator("[data-progress]")).to_have_text("Checked 45,000 of ~120,000 rows")
    snapshot(page, "imports-running")
    check_layout(page)
    page.goto("/imports")
    expect(page.locator(f"tr[data-import-id='{job_id}'] [data-progress]")).to_contain_text("45,000")
    snapshot(page, "imports-list-running")
    check_layout(page)

    with live_database.session() as session:
        session.execute(
            update(ImportJob).where(ImportJob.id == job_id)
            .values(status="done", total_rows=120_000, imported_rows=120_000, processed_rows=120_000)
        )  # fmt: skip
        session.commit()
    # The list polls while an import runs: it shows the end without a reload.
    expect(page.locator(f"tr[data-import-id='{job_id}'] [data-status='done']")).to_be_visible(timeout=8000)
    expect(page.locator("#imports-poll")).to_have_count(0)


def test_an_interrupted_import_is_run_again_from_its_page(
    page: Page, staff, live_database: Database, tmp_path: Path
) -> None:
    email, password = staff("administrator")
    path = tmp_path / "members.csv"
    path.write_text(CUSTOMERS.replace("1980-13-01", "1980-12-01").replace("alla@example;", ";"))
    ended = subprocess.Popen([sys.executable, "-c", "pass"])
    ended.wait()
    with live_database.session() as session:
        job = ImportJob(
            kind="customers", file_name="members.csv", file_path=str(path), status="writing", errors=[],
            lease_owner=str(Owner(socket.gethostname(), ended.pid, "1")),  # its process is gone
        )  # fmt: skip
        session.add(job)
        session.commit()
        job_id = job.id
    assert import_service.reap() == [job_id]  # as a worker does when it starts
    sign_in(page, email, password)

    page.goto("/imports")
    expect(page.locator(f"tr[data-import-id='{job_id}'] [data-status='interrupted']")).to_be_visible()
    page.goto(f"/imports/{job_id}")
    expect(page.locator("#import-interrupted")).to_contain_text("Nothing of the file was written")
    snapshot(page, "imports-interrupted")
    check_layout(page)
    page.click("#import-run-again")
    expect(page).not_to_have_url(re.compile(rf"/imports/{job_id}$"))
    expect(page.locator("[data-status='done']")).to_be_visible()
    expect(page.locator("#imported-rows")).to_have_text("3")
    check_layout(page)
    with live_database.session() as session:
        assert session.scalar(select(func.count()).select_from(Customer)) == 3
