"""Segments in a real browser: a marketer builds a segment with the builder, watches the live count, saves
it, finds it in the list with its figures, exports it, and filters the customer list the same way."""

from __future__ import annotations

import csv
import io
import re

from playwright.sync_api import Locator, Page, expect

from smartcomm.kit.db import Database
from smartcomm.kit.time import utcnow
from tests.browser.conftest import check_layout, sign_in, snapshot
from tests.segments.shop import build_shop


def seed(database: Database) -> None:
    with database.session() as session:
        build_shop(session)
        session.commit()


def add_condition(page: Page, search: str, metric: str) -> Locator:
    """Add a condition, pick its attribute by typing in the picker; returns the new condition."""
    page.click("#builder-add-condition")
    menu = page.locator("[data-metric-menu]")
    menu.locator("[data-metric-search]").fill(search)
    menu.locator(f'[data-metric="{metric}"]').click()
    return page.locator("[data-condition]").last


def choose(condition: Locator, param: str, search: str, label: str) -> None:
    """Pick a parameter value through its search (products, categories, audiences …)."""
    condition.locator(f'[data-param="{param}"] [data-lookup-button]').click()
    menu = condition.locator("[data-lookup-menu]")
    menu.locator("[data-lookup-search]").fill(search)
    menu.locator(".sc-menu-item", has_text=label).click()


def live_count(page: Page) -> Locator:
    return page.locator("#builder-count")


def test_a_marketer_builds_saves_and_exports_a_segment(page: Page, staff, live_database: Database) -> None:
    seed(live_database)
    email, password = staff("marketer", full_name="Mila Marketer")
    sign_in(page, email, password)
    page.goto("/segments")
    page.click("#new-segment")
    expect(page).to_have_url(re.compile(r"/segments/new$"))
    expect(live_count(page)).to_have_text("6")  # no conditions yet: the whole base
    page.fill("#f-name", "Dairy lovers to invite")
    page.fill("#f-description", "Bought dairy twice lately and read our promotions")

    bought = add_condition(page, "categ", "purchases.category_count")
    bought.locator("[data-value]").fill("2")
    choose(bought, "category", "dai", "Dairy")
    bought.locator("[data-period-kind]").select_option("last")
    bought.locator("[data-period-n]").fill("90")
    expect(live_count(page)).to_have_text("4")  # Anna, Boris, Dina, Egor

    subscribed = add_condition(page, "subscribed", "contacts.subscribed")
    choose(subscribed, "category", "promo", "Promotions")
    expect(subscribed.locator("[data-channel]")).to_have_value("email")
    expect(live_count(page)).to_have_text("3")  # Egor unsubscribed from the e-mails

    audience = add_condition(page, "audiences and", "audiences.member")
    choose(audience, "audience", "disturb", "Do not disturb")
    expect(live_count(page)).to_have_text("1")  # only Boris is in the audience…
    audience.locator("[data-negate]").click()
    expect(live_count(page)).to_have_text("2")  # …so NOT in it leaves Anna and Dina
    expect(page.locator("#live-count .sc-live-base")).to_have_text("33.3 % of the base · 6 customers in all")
    snapshot(page, "segment-builder")
    check_layout(page)

    # The picker finds attributes by their group's name too.
    page.click("#builder-add-condition")
    page.locator("[data-metric-search]").fill("site and app")
    expect(page.locator("[data-metric-menu] .sc-menu-group")).to_have_text(["Site and app"])
    snapshot(page, "segment-builder-picker")
    check_layout(page)
    page.locator("[data-condition]").last.locator("[data-remove]").click()
    expect(page.locator("[data-condition]")).to_have_count(3)

    page.click("#save-segment")
    expect(page).to_have_url(re.compile(r"/segments/\d+$"))
    expect(page.locator("[data-kpi=members] .sc-kpi-value")).to_have_text("2")
    expect(page.locator("#segment-rules")).to_contain_text(
        "Bought from the category (times) Dairy ≥ 2 in the last 90 days"
    )
    expect(page.locator("#members tbody tr")).to_have_count(2)
    snapshot(page, "segment-page")
    check_layout(page)

    page.goto("/segments")
    row = page.locator("#segments tr", has_text="Dairy lovers to invite")
    expect(row.locator("[data-metric=members]")).to_have_text("2")
    expect(row.locator("[data-metric=base-share]")).to_contain_text("33.3")
    expect(row.locator("[data-metric=ltv]")).to_contain_text("539.50")
    snapshot(page, "segments-list")
    check_layout(page)

    row.locator("a", has_text="Dairy lovers to invite").click()
    with page.expect_download() as download:
        page.click("#export-csv")
    content = download.value.path().read_text(encoding="utf-8-sig")
    rows = list(csv.reader(io.StringIO(content), delimiter=";"))
    assert sorted(r[0] for r in rows[1:]) == ["C-1", "C-5"]

    # Editing starts from the stored tree, with the names of what it refers to.
    page.click("#edit-segment")
    bought = page.locator("[data-condition]").first
    expect(bought.locator('[data-param="category"] [data-lookup-label]')).to_have_text("Dairy")
    expect(live_count(page)).to_have_text("2")
    bought.locator("[data-value]").fill("3")
    expect(live_count(page)).to_have_text("1")  # only Dina bought dairy three times
    snapshot(page, "segment-edit")
    check_layout(page)
    page.click("#save-segment")
    expect(page.locator("[data-kpi=members] .sc-kpi-value")).to_have_text("1")
    expect(page.locator("#segment-rules")).to_contain_text("≥ 3 in the last 90 days")

    # Anna buys dairy a third time; the receipt arrives over the REST API and moves her into the segment.
    send_receipt_over_the_api(page, staff, customer="C-1", number="C-1-api", sku="MILK-1")
    page.reload()
    expect(page.locator("[data-kpi=members] .sc-kpi-value")).to_have_text("2")
    expect(page.locator("#members tbody")).to_contain_text("Orlova Anna")
    check_layout(page)


def send_receipt_over_the_api(page: Page, staff, *, customer: str, number: str, sku: str) -> None:
    username, password = staff("api")
    token = page.request.post("/api/v1/token", data={"username": username, "password": password})
    assert token.ok, token.text()
    receipt = {
        "number": number,
        "store": "S1",
        "customer_external_id": customer,
        "purchased_at": utcnow().isoformat(),
        "lines": [{"sku": sku, "quantity": "1", "price": "89.90"}],
    }
    headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
    sent = page.request.post("/api/v1/receipts", data=receipt, headers=headers)
    assert sent.ok, sent.text()


def test_a_marketer_filters_the_customer_list_with_the_builder(
    page: Page, staff, live_database: Database
) -> None:
    seed(live_database)
    email, password = staff("marketer")
    sign_in(page, email, password)
    page.goto("/customers")
    expect(page.locator("#customers tbody tr")).to_have_count(6)

    page.click("#filter-toggle")
    page.click("#filter-add-condition")
    page.locator("[data-metric-search]").fill("number of receipts")
    page.locator('[data-metric="purchases.count"]').click()
    condition = page.locator("#filter [data-condition]")
    condition.locator("[data-value]").fill("4")
    # The live count: only Dina has 4 receipts.
    expect(page.locator("#filter-share")).to_have_text("1 customer · 16.7 % of the base")
    page.click("#apply-filter")

    expect(page.locator("#customers tbody tr")).to_have_count(1)
    expect(page.locator("#customers tbody")).to_contain_text("Petrova Dina")
    expect(page.locator("#filter-result")).to_contain_text("1 customer matches the filter")
    snapshot(page, "customers-filter")
    check_layout(page)

    page.click("#save-as-segment")
    expect(page).to_have_url(re.compile(r"/segments/new\?rules="))
    expect(page.locator("#builder [data-condition]")).to_have_count(1)
    expect(live_count(page)).to_have_text("1")
    check_layout(page)
