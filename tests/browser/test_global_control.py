"""Settings → Global control group in a real browser: an administrator turns effect measurement on, the
group is drawn and compared with the rest of the base (chart and table), a refused value and a file with
unknown customers are named where they belong — in English and in Russian."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from smartcomm.kit.db import Database
from smartcomm.kit.time import utcnow
from smartcomm.models import Customer, GlobalControlMember
from tests.attribution.helpers import make_receipt
from tests.browser.conftest import check_layout, sign_in, snapshot
from tests.control_groups.helpers import make_base

CHART_DRAWN = "(id) => Boolean(window.Chart && window.Chart.getChart(document.getElementById(id)))"
WORDS = {
    "en": {
        "title": "Global control group",
        "saved": "Global control group settings saved.",
        "months": "Enter a whole number of months from 1 to 36.",
        "row": "Row 2: no customer has the external id “NOBODY”",
        "member": "In the global control group since",
    },
    "ru": {
        "title": "Глобальная контрольная группа",
        "saved": "Настройки глобальной контрольной группы сохранены.",
        "months": "Укажите целое число месяцев от 1 до 36.",
        "row": "Строка 2: нет клиента с внешним идентификатором «NOBODY»",
        "member": "В глобальной контрольной группе с",
    },
}


def seed(database: Database) -> None:
    """200 customers, half men and half women; every third bought twice in the last weeks."""
    with database.session() as session:
        ids = make_base(session, 200, gender=lambda i: "mf"[i % 2])
        bought = utcnow() - timedelta(days=10)
        for index, customer_id in enumerate(ids):
            if index % 3 == 0:
                customer = session.get(Customer, customer_id)
                make_receipt(session, customer, bought, f"{100 + index}.00")
                make_receipt(session, customer, bought + timedelta(days=1), "50.00")
        session.commit()


@pytest.mark.parametrize("language", ["en", "ru"])
def test_an_administrator_turns_measurement_on_and_reads_the_effect(
    page: Page, staff, live_database: Database, tmp_path, language: str
) -> None:
    words = WORDS[language]
    seed(live_database)
    sign_in(page, *staff("administrator", language=language))
    page.goto("/settings/general")
    page.locator('.sc-sidebar a[href="/settings/global-control"]').click()
    expect(page).to_have_url(re.compile(r"/settings/global-control$"))
    expect(page.locator("h2.page-title")).to_have_text(words["title"])
    snapshot(page, f"global-control-off-{language}")

    page.locator("#f-enabled").check()
    page.fill("#f-percent", "10")
    page.locator('#f-strata input[value="gender"]').check(force=True)
    page.fill("#f-months", "40")
    page.click("#save-gcg")
    expect(page.locator('[data-error-for="months"]')).to_have_text(words["months"])
    expect(page.locator("#f-percent")).to_have_value("10")

    page.fill("#f-months", "6")
    page.click("#save-gcg")
    expect(page.locator("#toasts")).to_contain_text(words["saved"])
    expect(page.locator('[data-card="members"] [data-value]')).to_have_text("20")
    expect(page.locator("#gcg-draws tbody tr")).to_have_count(1)
    page.wait_for_function(CHART_DRAWN, arg="gcg-chart")
    expect(page.locator('[data-cell="main:recipients"]')).to_have_text("180")
    expect(page.locator('[data-cell="control:recipients"]')).to_have_text("20")
    snapshot(page, f"global-control-on-{language}")
    check_layout(page)

    listed = tmp_path / "group.csv"
    listed.write_text("G-1\nNOBODY\nG-3\n", encoding="utf-8")
    page.set_input_files("#f-file", str(listed))
    page.click("#upload-gcg")
    expect(page.locator("#file-errors")).to_contain_text(words["row"])
    expect(page.locator('[data-card="members"] [data-value]')).to_have_text("20")
    snapshot(page, f"global-control-upload-error-{language}")

    with live_database.session() as session:
        open_stays = select(GlobalControlMember.customer_id).where(GlobalControlMember.left_at.is_(None))
        member = session.scalars(open_stays.limit(1)).one()
    page.goto(f"/customers/{member}")
    expect(page.locator("#global-control-badge")).to_contain_text(words["member"])
    expect(page.locator("#global-control-stays [data-stay]")).to_have_count(1)
    snapshot(page, f"global-control-profile-{language}")
