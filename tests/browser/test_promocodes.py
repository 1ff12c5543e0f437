"""Promo codes in a real browser: a Marketer generates a thousand codes and sees the counts (in English
and in Russian); an Analyst reads the same pages without any form."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from smartcomm.audit.actor import Actor
from smartcomm.kit.db import Database
from smartcomm.promocodes.importing import text_lines
from smartcomm.promocodes.schemas import GroupCreate
from smartcomm.promocodes.service import promocode_service
from tests.browser.conftest import check_layout, sign_in, snapshot

ACTOR = Actor("api", None, "tests")


def seed(database: Database) -> int:
    """A group running low (five codes) beside an empty one; returns the low group's id."""
    with database.session() as session:
        data = GroupCreate(name="Autumn coffee", code="AUTUMN", nominal="15 %", low_threshold=10)
        low = promocode_service.create(session, ACTOR, data)
        codes = "\n".join(f"AUT-{n}" for n in range(5))
        promocode_service.add_codes(session, ACTOR, low.id, text_lines(codes), str, "tests")
        session.commit()
        return low.id


def generate_a_thousand(page: Page, name: str, code: str) -> None:
    page.goto("/promocodes")
    page.click("#new-group")
    page.fill("#f-name", name)
    page.fill("#f-code", code)
    page.fill("#f-nominal", "500 ₽")
    page.click("#save-group")
    page.click("#tab-link-generate")
    expect(page.locator("[data-preview-examples] code")).to_have_count(5)
    page.fill("#f-quantity", "1000")
    page.click("#generate-submit")
    expect(page.locator('[data-total="active"]')).to_have_text("1,000" if code == "SPRING" else "1\u00a0000")


def test_a_marketer_generates_a_thousand_codes_and_sees_the_counts(
    page: Page, staff, live_database: Database
) -> None:
    seed(live_database)
    email, password = staff("marketer", full_name="Mila Marketer")
    sign_in(page, email, password)
    generate_a_thousand(page, "Spring sale", "SPRING")
    expect(page.locator("#codes tbody tr")).to_have_count(50)
    snapshot(page, "promocodes-group")
    check_layout(page)
    page.fill("#code-search", page.locator("#codes tbody tr code").first.inner_text())
    expect(page.locator("#codes tbody tr")).to_have_count(1)
    page.goto("/promocodes")
    expect(page.locator('[data-total="active"]')).to_have_text("1,005")
    expect(page.locator('tr[data-group="AUTUMN"] [data-badge="low"]')).to_be_visible()
    snapshot(page, "promocodes-list")
    check_layout(page)


def test_a_marketer_works_in_russian(page: Page, staff, live_database: Database) -> None:
    email, password = staff("marketer", full_name="Мила Маркетолог", language="ru")
    sign_in(page, email, password)
    generate_a_thousand(page, "Весенняя распродажа", "VESNA")
    expect(page.locator("#tab-link-generate")).to_contain_text("Сгенерировать")
    snapshot(page, "promocodes-group-ru")
    check_layout(page)


def test_an_analyst_reads_without_forms(page: Page, staff, live_database: Database) -> None:
    group_id = seed(live_database)
    email, password = staff("analyst", full_name="Ana Analyst")
    sign_in(page, email, password)
    page.goto("/promocodes")
    expect(page.locator("#new-group")).to_have_count(0)
    expect(page.locator('tr[data-group="AUTUMN"] [data-count="active"]')).to_have_text("5")
    page.goto(f"/promocodes/{group_id}")
    expect(page.locator("#stock-warning")).to_be_visible()
    expect(page.locator("#add-codes")).to_have_count(0)
    expect(page.locator("#edit-group")).to_have_count(0)
    expect(page.locator("#codes tbody tr")).to_have_count(5)
    snapshot(page, "promocodes-analyst")
    check_layout(page)
