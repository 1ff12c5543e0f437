"""The Summary dashboard in a real browser: an Analyst lands on it after signing in, every chart is drawn,
a card's table shows the same numbers, a table's figure opens its customers; in English and in Russian."""

from __future__ import annotations

import random
import re
from datetime import timedelta

from playwright.sync_api import Page, expect

from smartcomm.analytics.dashboard import dashboard_service
from smartcomm.control_groups.service import global_control_service
from smartcomm.customers.repository import CustomerRepository
from smartcomm.kit.db import Database
from smartcomm.kit.time import utcnow
from tests.analytics.fixtures import attribute, calculation
from tests.attribution.helpers import make_customer, make_receipt
from tests.browser.conftest import check_layout, sign_in, snapshot
from tests.control_groups.helpers import ACTOR, enable

CHARTS = ("chart-base", "chart-returning", "chart-rfm", "chart-repeat", "chart-sales")
CHART_DRAWN = "(id) => Boolean(window.Chart && window.Chart.getChart(document.getElementById(id)))"
CHANNELS = ("email", "sms", "push", "viber")


def seed(database: Database, group: bool = False) -> None:
    """Sixty customers buying over fourteen months (some never), a third of the recent receipts attributed
    to a communication, and a monthly RFM calculation; then the dashboard computed as the worker would.
    With `group`, every sixth customer is in the global control group since a year ago."""
    rng, now = random.Random(7), utcnow()
    with database.session() as session:
        people = [make_customer(session) for _ in range(60)]
        if group:
            year_ago = now - timedelta(days=365)
            enable(session, source="file", now=year_ago)
            listed = "\n".join(person.external_id for person in people[::6]).encode()
            global_control_service.upload(session, ACTOR, "group.csv", listed, now=year_ago)
        for person in people[:52]:
            for _ in range(rng.choice((1, 1, 2, 3, 5))):
                when = now - timedelta(days=rng.uniform(0, 420))
                receipt = make_receipt(session, person, when, f"{rng.randint(300, 5000)}.00")
                if when > now - timedelta(days=200) and rng.random() < 0.35:
                    attribute(session, receipt, rng.choice(CHANNELS), credited=True)
        for month in range(12):
            calculation(session, now - timedelta(days=30 * month + 1), best=20 + month % 4, lost=5 + month)
        CustomerRepository(session).refresh_aggregates([person.id for person in people])
        session.commit()
        dashboard_service.recompute(session)
        session.commit()


def look_at_the_dashboard(page: Page, name: str) -> None:
    expect(page).to_have_url(re.compile(r"/dashboard$"))
    for chart in CHARTS:  # drawn by a deferred script: wait for them
        page.wait_for_function(CHART_DRAWN, arg=chart, timeout=15_000)
    expect(page.locator('[data-kpi="customers"] [data-value]')).to_have_text("60")
    snapshot(page, name)
    check_layout(page)


def test_an_analyst_lands_on_the_dashboard_and_reads_its_tables(
    page: Page, staff, live_database: Database
) -> None:
    seed(live_database)
    sign_in(page, *staff("analyst"))
    look_at_the_dashboard(page, "dashboard-en")
    expect(page.locator("h2.page-title")).to_have_text("Summary dashboard")
    expect(page.locator("#control-disabled a")).to_have_attribute("href", "/settings/global-control")

    card = page.locator("#block-base")
    expect(card.locator("[data-part=table]")).to_be_hidden()
    card.locator("[data-show=table]").click()
    expect(card.locator("[data-part=chart]")).to_be_hidden()
    never = card.locator('tr[data-bucket="never"] td').nth(2)
    expect(never).to_have_text("8")  # the eight customers without a receipt
    snapshot(page, "dashboard-en-table")
    check_layout(page)

    sales = page.locator("#block-sales")
    sales.locator("[data-show=table]").click()
    expect(sales.locator("[data-part=table] tbody tr")).to_have_count(12)
    page.locator("#block-sales [data-show=chart]").click()
    page.locator("[data-measure=channels]").click()

    card.locator('tr[data-bucket="never"] a').click()
    expect(page).to_have_url(re.compile(r"/customers\?rules="))
    expect(page.locator("body")).to_contain_text("8 customers match the filter")


def test_the_dashboard_in_russian_with_another_period(page: Page, staff, live_database: Database) -> None:
    seed(live_database)
    sign_in(page, *staff("analyst", language="ru"))
    look_at_the_dashboard(page, "dashboard-ru")
    expect(page.locator("h2.page-title")).to_have_text("Сводная панель")
    expect(page.locator("#control-disabled")).to_contain_text("Глобальная контрольная группа не включена")
    revenue = page.locator('[data-kpi="revenue"] [data-value]').inner_text()
    assert re.fullmatch(r"[\d\u00a0\u202f ]+,\d\d\u00a0₽", revenue), revenue  # 123 456,00 ₽

    page.locator('[data-period="last-6"]').click()
    expect(page.locator("#dashboard-empty")).to_be_visible()  # not computed for six months yet
    page.locator("#recompute").click()
    for chart in CHARTS:
        page.wait_for_function(CHART_DRAWN, arg=chart, timeout=15_000)
    expect(page.locator("#computed-at")).to_contain_text("Рассчитано")
    card = page.locator("#block-repeat")
    card.locator("[data-show=table]").click()
    expect(card.locator("tbody tr")).to_have_count(6)
    expect(card.locator("tbody tr").first).to_contain_text("%")
    snapshot(page, "dashboard-ru-6-months")


def test_the_effect_of_all_communications_with_a_global_control_group(
    page: Page, staff, live_database: Database
) -> None:
    seed(live_database, group=True)
    sign_in(page, *staff("analyst"))
    look_at_the_dashboard(page, "dashboard-en-control")
    page.wait_for_function(CHART_DRAWN, arg="chart-control", timeout=15_000)
    card = page.locator("#block-control")
    expect(card.locator('[data-card="members"] [data-value]')).to_have_text("10")
    expect(page.locator("#control-disabled")).to_have_count(0)
    card.locator("[data-show=table]").click()
    expect(card.locator('[data-cell="control:recipients"]')).to_have_text("10")
    expect(card.locator('[data-cell="main:recipients"]')).to_have_text("50")
    check_layout(page)
