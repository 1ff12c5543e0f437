"""The orders module in a real browser: an administrator turns it on and keeps the status dictionary in
Settings → Order statuses; a Marketer reads the Orders list (totals, chart, statuses as coloured badges,
lines on expand, filters) and a customer's Orders tab; an administrator imports a file — in English and
in Russian."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from playwright.sync_api import Page, expect
from sqlalchemy import select

from smartcomm.audit.actor import Actor
from smartcomm.kit.db import Database
from smartcomm.models import OrderStatus
from smartcomm.orders.book import StatusBook
from smartcomm.orders.service import order_service
from smartcomm.orders.writer import LineRecord, OrderRecord, OrderWriter
from tests.browser.conftest import check_layout, sign_in, snapshot
from tests.delivery.helpers import make_customer

ACTOR = Actor.system("tests")


@dataclass
class Seeded:
    anna: int
    boris: int


def seed(database: Database, enabled: bool = True) -> Seeded:
    """Anna ordered coffee and a mug yesterday (new, awaiting payment) and tea a week ago (completed,
    delivered, paid); Boris's order of three days ago was cancelled."""
    now = datetime.now(UTC)
    with database.session() as session:
        anna = make_customer(session, external_id="C-1", first_name="Anna", last_name="Smirnova")
        boris = make_customer(session, external_id="C-2", first_name="Boris", last_name="Orlov")
        ids = {(s.dimension, s.code): s.id for s in session.scalars(select(OrderStatus))}

        def order(number: str, who: int, days: int, lines: list[LineRecord], **codes: str) -> OrderRecord:
            total = sum((line.amount for line in lines), Decimal("0"))
            status_ids = {d: ids[(d, c)] for d, c in codes.items()}
            return OrderRecord(
                number, who, now - timedelta(days=days), total, status_ids=status_ids, lines=lines
            )

        coffee = LineRecord("COF-250", Decimal(2), Decimal("450"), Decimal("900"), name="Coffee 250 g")
        mug = LineRecord("MUG", Decimal(1), Decimal("990"), Decimal("900"), name="Mug", discount=Decimal(90))
        tea = LineRecord("TEA", Decimal(3), Decimal("150"), Decimal("450"), name="Green tea")
        records = [
            order("W-1001", anna.id, 1, [coffee, mug], general="new", payment="awaiting_payment"),
            order("W-0990", anna.id, 7, [tea], general="completed", delivery="delivered", payment="paid"),
            order("W-0995", boris.id, 3, [tea], general="cancelled"),
        ]
        OrderWriter(session, StatusBook.load(session)).write(records, publish_events=False)
        if enabled:
            order_service.set_enabled(session, ACTOR, True)
        session.commit()
        return Seeded(anna.id, boris.id)


def test_a_marketer_reads_the_orders_and_filters_them(page: Page, staff, live_database: Database) -> None:
    seed(live_database)
    email, password = staff("marketer")
    sign_in(page, email, password)
    page.goto("/customers")  # the Customers section of the menu is open there
    page.click('#main-menu a[href="/orders"]')
    expect(page).to_have_url(re.compile(r"/orders$"))

    expect(page.locator('[data-total="orders"]')).to_have_text("3")
    expect(page.locator('[data-total="open"]')).to_have_text("1")  # completed and cancelled are final
    expect(page.locator("#orders-chart")).to_be_visible()
    rows = page.locator("#orders-table tbody[data-order]")
    expect(rows).to_have_count(3)
    expect(rows.first).to_have_attribute("data-order", "W-1001")  # the newest first
    first = page.locator('tbody[data-order="W-1001"]')
    expect(first.locator('[data-status="new"]')).to_have_text("New")
    expect(first.locator('[data-status="new"]')).to_have_class(re.compile("bg-azure-lt"))
    expect(page.locator('tbody[data-order="W-0995"] [data-status="cancelled"]')).to_have_class(
        re.compile("bg-red-lt")
    )
    expect(page.locator('tbody[data-order="W-0995"] [data-excluded]')).to_have_count(1)
    expect(first.locator('[data-lines-of="W-1001"]')).to_be_hidden()
    first.locator(".sc-receipt-row").click()
    expect(first.locator('[data-lines-of="W-1001"]')).to_be_visible()
    expect(first.locator('[data-lines-of="W-1001"] tbody tr')).to_have_count(2)
    expect(first.locator('[data-lines-of="W-1001"]')).to_contain_text("Coffee 250 g")
    snapshot(page, "orders-list")
    check_layout(page)

    page.select_option("#filter-general", label="Completed")
    expect(page).to_have_url(re.compile(r"general=\d+"))
    expect(rows).to_have_count(1)
    expect(page.locator('[data-total="orders"]')).to_have_text("1")
    expect(page.locator("#orders-chart")).to_be_visible()  # drawn again with the results
    page.click("#reset-filters")
    expect(rows).to_have_count(3)

    page.click('tbody[data-order="W-1001"] .sc-order-customer a')
    expect(page).to_have_url(re.compile(r"/customers/\d+"))
    page.click("#tab-orders")
    expect(page).to_have_url(re.compile(r"tab=orders"))
    expect(page.locator("#tab-orders .badge")).to_have_text("2")
    expect(page.locator("#customer-orders tbody[data-order]")).to_have_count(2)
    expect(page.locator('#customer-orders [data-status="delivered"]')).to_have_text("Delivered")
    snapshot(page, "profile-orders")
    check_layout(page)


def test_a_marketer_reads_them_in_russian(page: Page, staff, live_database: Database) -> None:
    seeded = seed(live_database)
    email, password = staff("marketer", language="ru")
    sign_in(page, email, password)
    page.goto("/orders")

    expect(page.locator('#main-menu a[href="/orders"]')).to_have_text("Заказы")
    expect(page.locator("#orders")).to_contain_text("Статусы")
    expect(page.locator("body")).to_contain_text("Заказы по дням")
    expect(page.locator('tbody[data-order="W-1001"] [data-status="awaiting_payment"]')).to_have_text(
        "Ожидает оплаты"
    )
    expect(page.locator('tbody[data-order="W-0995"] [data-status="cancelled"]')).to_have_text("Отменён")
    snapshot(page, "orders-list-ru")
    check_layout(page)
    page.goto(f"/customers/{seeded.anna}?tab=orders")
    expect(page.locator("#tab-orders")).to_contain_text("Заказы")
    expect(page.locator('#customer-orders [data-status="new"]').first).to_have_text("Новый")
    check_layout(page)


def test_with_the_module_off_a_marketer_sees_no_orders(page: Page, staff, live_database: Database) -> None:
    seeded = seed(live_database, enabled=False)
    email, password = staff("marketer")
    sign_in(page, email, password)
    page.goto(f"/customers/{seeded.anna}")
    expect(page.locator("#tab-receipts")).to_be_visible()
    expect(page.locator("#tab-orders")).to_have_count(0)
    expect(page.locator('#main-menu a[href="/orders"]')).to_have_count(0)


def test_an_administrator_turns_orders_on_and_keeps_the_statuses(
    page: Page, staff, live_database: Database
) -> None:
    seed(live_database, enabled=False)
    email, password = staff("administrator")
    sign_in(page, email, password)
    page.goto("/settings/order-statuses")
    expect(page.locator("#orders-module")).to_have_attribute("data-enabled", "false")
    expect(page.locator("#statuses-general [data-code]")).to_have_count(5)
    expect(page.locator('#statuses-general [data-code="new"] [data-orders]')).to_have_text("1 order")
    snapshot(page, "order-statuses")
    check_layout(page)

    page.click("#switch-module")
    expect(page.locator("#orders-module")).to_have_attribute("data-enabled", "true")
    expect(page.locator('#main-menu a[href="/orders"]')).to_have_count(1)

    page.click("#new-delivery-status")
    page.fill("#f-name", "Returned to the shop")
    page.fill("#f-code", "returned")
    page.click("#save-status")
    expect(page).to_have_url(re.compile(r"/settings/order-statuses$"))
    returned = page.locator('#statuses-delivery [data-code="returned"]')
    expect(returned).to_contain_text("Returned to the shop")
    returned.locator("[data-analytics]").click()  # leave it out of analytics
    expect(page.locator('#statuses-delivery [data-code="returned"] [data-analytics]')).not_to_be_checked()

    page.click('#statuses-general [data-code="new"] [data-edit]')
    expect(page.locator("#delete-status")).to_be_disabled()  # an order is in it
    expect(page.locator("body")).to_contain_text("1 order is in this status")
    check_layout(page)


def test_an_administrator_reads_the_statuses_in_russian(page: Page, staff, live_database: Database) -> None:
    seed(live_database)
    email, password = staff("administrator", language="ru")
    sign_in(page, email, password)
    page.goto("/settings/order-statuses")
    expect(page.locator("#statuses-payment")).to_contain_text("Статус оплаты")
    expect(page.locator('#statuses-payment [data-code="refunded"]')).to_contain_text("Возврат средств")
    expect(page.locator("#module-state")).to_have_text("Включён")
    snapshot(page, "order-statuses-ru")
    check_layout(page)


def test_an_administrator_imports_a_file(page: Page, staff, live_database: Database, tmp_path: Path) -> None:
    seed(live_database)
    email, password = staff("administrator")
    sign_in(page, email, password)
    page.goto("/orders")
    page.click("#import-orders")
    bad = tmp_path / "bad.csv"
    bad.write_text("number;customer_external_id;created_at;sku;price\nW-2000;NOBODY;2026-05-01 10:00;A;10\n")
    page.set_input_files("#f-file", str(bad))
    page.click("#start-import")
    expect(page.locator("#import-result")).to_have_attribute("data-status", "rejected")
    expect(page.locator('#import-errors tr[data-row="2"]')).to_contain_text("customer_external_id")

    good = tmp_path / "good.csv"
    good.write_text(
        "number;customer_external_id;created_at;general_status;sku;price\n"
        "W-2000;C-2;2026-05-01 10:00;new;A;10\n"
    )
    page.set_input_files("#f-file", str(good))
    page.click("#start-import")
    expect(page.locator("#import-result")).to_have_attribute("data-status", "done")
    expect(page.locator('#import-result [data-count="created"]')).to_have_text("1")
    snapshot(page, "orders-import")
    check_layout(page)
    page.goto("/orders?q=W-2000")
    expect(page.locator("#orders-table tbody[data-order]")).to_have_count(1)
