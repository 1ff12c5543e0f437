"""Target audiences in a real browser: a marketer imports a file and reads its report; an analyst reads."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Page, expect

from smartcomm.audiences.schemas import AudienceIn, MembersIn
from smartcomm.audiences.service import audience_service
from smartcomm.audit.actor import Actor
from smartcomm.customers.schemas import CustomerIn
from smartcomm.customers.service import customer_service
from smartcomm.kit.db import Database
from smartcomm.segments.rules import SegmentRules
from smartcomm.segments.schemas import SegmentIn
from smartcomm.segments.service import segment_service
from tests.browser.conftest import check_layout, sign_in, snapshot

API = Actor("api", None, "tests")
PEOPLE = [
    ("LP-1001", "Maria", "Sokolova", "maria.sokolova@example.com", "+7 916 111-22-33", "Moscow"),
    ("LP-1002", "Ivan", "Petrov", "ivan.petrov@example.com", "+7 916 222-33-44", "Moscow"),
    ("LP-1003", "Elena", "Smirnova", "elena.smirnova@example.com", "+7 903 123-45-67", "Kazan"),
    ("LP-1004", "Dmitry", "Kuznetsov", None, "+7 903 555-10-20", "Moscow"),
    ("LP-1005", "Olga", "Volkova", "olga.volkova@example.com", None, "Kazan"),
    ("LP-1006", "Pavel", "Orlov", "p.orlov@example.com", "+7 921 444-55-66", "Saint Petersburg"),
]
# Phones as people type them; two lines match nobody and one is not a phone at all.
PHONE_FILE = """Phone;
8 (916) 111-22-33;
+7 916 2223344;
79031234567;

+7 999 000-00-00;
9035551020;
call me;
"""


def seed(database: Database) -> int:
    """Six customers, a Moscow segment and a small "VIP" audience; returns the audience id."""
    with database.session() as session:
        for external_id, first, last, email, phone, city in PEOPLE:
            data = CustomerIn(
                external_id=external_id, first_name=first, last_name=last, email=email, phone=phone, city=city
            )
            customer_service.upsert(session, API, data)
        condition = {"metric": "profile.city", "operator": "eq", "value": "Moscow"}
        rules = SegmentRules.model_validate({"root": {"op": "and", "children": [condition]}})
        segment = segment_service.create(session, API, SegmentIn(name="Moscow customers", rules=rules))
        segment_service.build(session, segment.id, "manual")
        vip = audience_service.create(
            session, API, AudienceIn(name="VIP", description="Spent more than 50,000 ₽ last year")
        )
        audience_service.add_members(session, API, vip.id, MembersIn(external_ids=["LP-1001", "LP-1006"]))
        audience_service.create(session, API, AudienceIn(name="Newsletter winners"))
        session.commit()
        return vip.id


def test_a_marketer_imports_phones_and_sees_the_rows_that_matched_nothing(
    page: Page, staff, live_database: Database, tmp_path: Path
) -> None:
    seed(live_database)
    email, password = staff("marketer", full_name="Mila Marketer")
    sign_in(page, email, password)
    page.goto("/audiences")
    expect(page.locator("#audiences tbody tr")).to_have_count(2)
    expect(page.locator("#audiences tr", has_text="VIP").locator("[data-members]")).to_have_text("2")
    snapshot(page, "audiences-list")
    check_layout(page)

    page.click("#import-audiences")
    page.click("label[for=target-new]")
    page.fill("#f-new_name", "Autumn coffee promo")
    page.select_option("#f-id_type", "phone")
    csv_file = tmp_path / "autumn-promo.csv"
    csv_file.write_text(PHONE_FILE, encoding="utf-8")
    page.set_input_files("#f-file", str(csv_file))
    snapshot(page, "audiences-import-form")
    check_layout(page)
    page.click("#start-import")

    expect(page.locator("#import-status")).to_have_attribute("data-status", "done")
    expect(page.locator('[data-count="rows_read"]')).to_have_text("6")
    expect(page.locator('[data-count="added"]')).to_have_text("4")
    expect(page.locator('[data-count="unmatched_total"]')).to_have_text("2")
    rows = page.locator("#unmatched-rows tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("6")
    expect(rows.nth(0)).to_contain_text("+7 999 000-00-00")
    expect(rows.nth(0)).to_contain_text("no customer with this phone")
    expect(rows.nth(1)).to_contain_text("8")
    expect(rows.nth(1)).to_contain_text("call me")
    expect(page.locator("#download-unmatched")).to_be_visible()
    snapshot(page, "audiences-import-report")
    check_layout(page)

    page.click("#import-status a:has-text('Autumn coffee promo')")
    expect(page.locator("h2.page-title")).to_have_text("Autumn coffee promo")
    expect(page.locator("#member-count")).to_have_text("4")
    names = page.locator("#members tbody tr td:first-child a")
    expect(names).to_have_text(["Kuznetsov Dmitry", "Petrov Ivan", "Smirnova Elena", "Sokolova Maria"])
    expect(page.locator("#members tr", has_text="Sokolova")).to_contain_text("+79161112233")
    snapshot(page, "audiences-members")
    check_layout(page)

    page.fill("#member-search", "petrov")
    expect(page.locator("#members tbody tr")).to_have_count(1)
    expect(page.locator("#members tbody tr")).to_contain_text("ivan.petrov@example.com")


def test_a_marketer_creates_an_audience_fills_it_from_a_segment_and_deletes_one(
    page: Page, staff, live_database: Database
) -> None:
    seed(live_database)
    email, password = staff("marketer")
    sign_in(page, email, password)
    page.goto("/audiences")
    page.click("#new-audience")
    expect(page.locator("#dialog #audience-form")).to_be_visible()
    page.fill("#dialog #f-name", "vip")
    page.click("#save-audience")
    expect(page.locator("#dialog [data-error-for='name']")).to_have_text(
        "an audience with this name already exists"
    )
    snapshot(page, "audiences-create-taken")
    check_layout(page)
    page.fill("#dialog #f-name", "Moscow regulars")
    page.fill("#dialog #f-description", "Everyone in the Moscow segment in November")
    page.click("#save-audience")
    expect(page.locator("h2.page-title")).to_have_text("Moscow regulars")
    expect(page.locator("#members-table .empty-title")).to_have_text("The audience is empty")

    page.select_option("#segment-choice", label="Moscow customers · 3")
    page.click("#add-segment")
    expect(page.locator("#toasts")).to_contain_text("3 customers were added to the audience.")
    expect(page.locator("#member-count")).to_have_text("3")
    expect(page.locator("#members tbody tr")).to_have_count(3)
    page.locator("#members tr", has_text="Petrov").locator("[data-action='remove-member']").click()
    expect(page.locator("#member-count")).to_have_text("2")
    expect(page.locator("#audience-history")).to_contain_text("Moscow customers")
    snapshot(page, "audiences-segment-added")
    check_layout(page)

    page.click("#delete-audience")
    expect(page.locator("#dialog")).to_contain_text("Delete “Moscow regulars”?")
    snapshot(page, "audiences-delete-confirm")
    check_layout(page)
    page.click("#confirm-delete")
    expect(page).to_have_url(re.compile(r"/audiences$"))
    expect(page.locator("#audiences tbody tr")).to_have_count(2)
    expect(page.locator("#audiences")).not_to_contain_text("Moscow regulars")
    check_layout(page)


def test_an_analyst_sees_audiences_without_edit_buttons(page: Page, staff, live_database: Database) -> None:
    vip = seed(live_database)
    email, password = staff("analyst")
    sign_in(page, email, password)
    page.goto("/audiences")
    expect(page.locator("#audiences tbody tr")).to_have_count(2)
    expect(page.locator("#new-audience")).to_have_count(0)
    expect(page.locator("#import-audiences")).to_have_count(0)
    expect(page.locator("#audiences .dropdown")).to_have_count(0)
    check_layout(page)
    page.click("text=VIP")
    expect(page).to_have_url(re.compile(rf"/audiences/{vip}$"))
    expect(page.locator("#members tbody tr")).to_have_count(2)
    for control in (
        "#edit-audience",
        "#delete-audience",
        "#import-into",
        "#segment-form",
        "[data-action='remove-member']",
    ):
        expect(page.locator(control)).to_have_count(0)
    snapshot(page, "audiences-analyst")
    check_layout(page)
