"""Customers → Contact data quality in a real browser: a marketer and an analyst see who each channel reaches,
open the customers of a bucket from the numbers and the charts, in English and in Russian."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from smartcomm.kit.db import Database
from smartcomm.models import Customer
from tests.browser.conftest import check_layout, sign_in, snapshot
from tests.delivery.helpers import add_push_token, make_customer

CHART_DRAWN = "(id) => Boolean(window.Chart && window.Chart.getChart(document.getElementById(id)))"


def seed(database: Database) -> None:
    """Five customers: one broken e-mail, one e-mail two of them share, two mobiles, a landline, a broken
    phone, one with no phone, and two with a valid push token."""
    people = {
        "Orlova": {"email": "anna@example.com"},
        "Petrov": {
            "email": "boris@",
            "email_valid": False,
            "phone": "+74951234567",
            "phone_type": "landline",
        },
        "Sidorova": {
            "email": "family@example.com",
            "phone": "12345",
            "phone_valid": False,
            "phone_type": None,
        },
        "Sidorov": {"email": "family@example.com", "phone": None, "phone_valid": False, "phone_type": None},
        "Ivanova": {"email": None},
    }
    with database.session() as session:
        made: dict[str, Customer] = {
            name: make_customer(session, last_name=name, **values) for name, values in people.items()
        }
        add_push_token(session, made["Orlova"], "token-orlova")
        add_push_token(session, made["Ivanova"], "token-ivanova")
        session.commit()


def open_from_the_menu(page: Page) -> None:
    page.goto("/customers")
    page.locator('.sc-sidebar a[href="/customers/contact-quality"]').click()
    expect(page).to_have_url(re.compile(r"/customers/contact-quality$"))


def test_a_marketer_opens_the_customers_of_a_bucket(page: Page, staff, live_database: Database) -> None:
    seed(live_database)
    email, password = staff("marketer")
    sign_in(page, email, password)
    open_from_the_menu(page)

    expect(page.locator("h2.page-title")).to_have_text("Contact data quality")
    expect(page.locator('[data-reach="email"] a')).to_have_text("3")
    expect(page.locator('[data-reach="email"]')).to_contain_text("60.0 %")
    expect(page.locator('[data-reach="sms"] a')).to_have_text("2")  # Orlova's and Ivanova's mobiles
    expect(page.locator('#quality-phone [data-row="phone_landline"]')).to_contain_text("Landline (no SMS)")
    expect(page.locator('[data-duplicates="email"]')).to_contain_text("2")
    for kind in ("email", "phone", "push"):  # the charts are drawn by a deferred script: wait for them
        page.wait_for_function(CHART_DRAWN, arg=f"chart-{kind}", timeout=15_000)
    snapshot(page, "contact-quality")
    check_layout(page)

    page.locator('#quality-email [data-bucket="email_duplicate"]').click()
    expect(page).to_have_url(re.compile(r"/customers\?contact=email_duplicate$"))
    expect(page.locator("#customers tbody tr")).to_have_count(2)
    expect(page.locator("#contact-filter")).to_contain_text("E-mail: Shared by several customers")
    # A search keeps the bucket: one of the two is Sidorova.
    page.fill("#customer-search", "Sidorova")
    expect(page.locator("#customers tbody tr")).to_have_count(1)
    expect(page.locator("#customers tbody")).to_contain_text("Sidorova")
    check_layout(page)

    page.click("#clear-contact")
    expect(page).to_have_url(re.compile(r"/customers$"))
    expect(page.locator("#customers tbody tr")).to_have_count(5)


def test_an_analyst_reads_the_report_in_russian(page: Page, staff, live_database: Database) -> None:
    seed(live_database)
    email, password = staff("analyst", language="ru")
    sign_in(page, email, password)
    open_from_the_menu(page)

    expect(page.locator("h2.page-title")).to_have_text("Качество контактных данных")
    expect(page.locator('[data-reach="push"]')).to_contain_text("Доступны по push")
    expect(page.locator('[data-reach="push"]')).to_contain_text("40,0 %")
    expect(page.locator('#quality-email [data-row="email_invalid"]')).to_contain_text("Некорректные")
    expect(page.locator('#quality-phone [data-row="phone_missing"]')).to_contain_text("Не указаны")
    expect(page.locator("#quality-push thead")).to_contain_text("Доля")
    snapshot(page, "contact-quality-ru")
    check_layout(page)

    page.locator('#quality-push [data-bucket="push_missing"]').click()
    expect(page.locator("#customers tbody tr")).to_have_count(3)
    expect(page.locator("#contact-filter")).to_contain_text("Push: Без действующего токена")
    expect(page.locator("#contact-filter")).to_contain_text("3 клиента")
    check_layout(page)


def test_an_analyst_sees_the_page_in_english_too(page: Page, staff, live_database: Database) -> None:
    seed(live_database)
    email, password = staff("analyst")
    sign_in(page, email, password)
    open_from_the_menu(page)

    expect(page.locator('#quality-phone [data-row="phone_invalid"]')).to_contain_text("1")
    page.locator('#quality-phone [data-bucket="phone_invalid"]').click()
    expect(page.locator("#customers tbody")).to_contain_text("Sidorova")
    expect(page.locator("#customers tbody tr")).to_have_count(1)


def test_a_marketer_reads_the_report_in_russian(page: Page, staff, live_database: Database) -> None:
    seed(live_database)
    email, password = staff("marketer", language="ru")
    sign_in(page, email, password)
    open_from_the_menu(page)

    expect(page.locator('[data-duplicates="email"]')).to_contain_text("Общие у нескольких клиентов")
    expect(page.locator('[data-duplicates="phone"]')).to_contain_text("Общих значений у разных клиентов нет.")
    page.wait_for_function(CHART_DRAWN, arg="chart-phone", timeout=15_000)
