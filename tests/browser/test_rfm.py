"""RFM segments in a real browser: a marketer reads the grids, switches tabs and opens a cell."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from playwright.sync_api import Page, expect
from sqlalchemy import select
from sqlalchemy.orm import Session

from smartcomm.audit.actor import Actor
from smartcomm.customers.schemas import CustomerIn
from smartcomm.customers.service import customer_service
from smartcomm.kit.db import Database
from smartcomm.kit.time import utcnow
from smartcomm.models import Customer, CustomerRfm, RfmCalculation
from smartcomm.receipts.schemas import ReceiptIn
from smartcomm.receipts.service import receipt_service
from smartcomm.rfm.service import rfm_service
from tests.browser.conftest import check_layout, sign_in, snapshot

API = Actor("api", None, "tests")
FIRST = ("Maria", "Ivan", "Elena", "Dmitry", "Olga", "Pavel", "Anna", "Sergey", "Irina", "Alexey")
LAST = ("Sokolova", "Petrov", "Smirnova", "Kuznetsov", "Volkova", "Orlov", "Popova", "Lebedev")


def buyer(session: Session, chance: random.Random, number: int) -> Customer:
    first, last = chance.choice(FIRST), chance.choice(LAST)
    data = CustomerIn(
        external_id=f"LP-{2000 + number}", first_name=first, last_name=last,
        email=f"{first}.{last}{number}@example.com".lower(), phone=f"+7 916 {1000000 + number * 7919}",
    )  # fmt: skip
    return customer_service.upsert(session, API, data)[0]


def purchases(session: Session, chance: random.Random, customer: Customer, now: datetime) -> None:
    """Loyal customers buy often, recently and more; others once or twice, long ago."""
    loyalty = chance.random()
    for receipt in range(1 + int(loyalty * 12)):
        bought = now - timedelta(days=chance.uniform(0, 420) * (1.2 - loyalty), hours=receipt)
        price = f"{chance.uniform(250, 2500) * (0.5 + loyalty):.2f}"
        item = {"number": f"{customer.id}-{receipt}", "store": "MSK-01", "customer_id": customer.id,
                "purchased_at": bought.isoformat(), "lines": [{"sku": "COF", "price": price}]}  # fmt: skip
        receipt_service.write(session, API, [ReceiptIn.model_validate(item)])


def seed(database: Database) -> RfmCalculation:
    """Ninety customers with a year of varied purchases, a few past calculations, and a fresh one."""
    chance = random.Random(7)
    now = utcnow()
    with database.session() as session:
        for number in range(90):
            purchases(session, chance, buyer(session, chance, number), now)
        for days in range(6, 0, -1):  # the history the Best/Lost chart draws
            session.add(RfmCalculation(
                trigger="schedule", status="done", started_at=now - timedelta(days=days),
                finished_at=now - timedelta(days=days), duration_ms=40, period_days=365,
                scored=80, best=3 + days % 3, lost=20 - days,
            ))  # fmt: skip
        calculation = rfm_service.run(session, "schedule")
        session.commit()
        return calculation


def test_a_marketer_reads_the_grids_and_opens_a_cell(page: Page, staff, live_database: Database) -> None:
    calculation = seed(live_database)
    biggest = max((key for key in calculation.cells), key=lambda key: calculation.cells[key])
    r, m = biggest[0], biggest[2]
    in_rm_cell = sum(count for key, count in calculation.cells.items() if key[0] == r and key[2] == m)
    email, password = staff("marketer", full_name="Mila Marketer")
    sign_in(page, email, password)

    page.goto("/rfm")
    expect(page.locator('[data-kpi="scored"]')).to_have_text(str(calculation.scored))
    expect(page.locator('[data-grid="rf"]')).to_be_visible()
    expect(page.locator('[data-grid="rm"]')).to_be_hidden()
    expect(page.locator("#rfm-history-chart")).to_be_visible()
    assert page.evaluate("() => Boolean(window.Chart.getChart('rfm-history-chart'))")  # drawn by rfm.js
    snapshot(page, "rfm-grids")
    check_layout(page)

    page.click("#tab-rm")
    expect(page.locator('[data-grid="rf"]')).to_be_hidden()
    rm_cell = page.locator(f'[data-cell="r{r}m{m}"]')
    expect(rm_cell).to_be_visible()
    expect(rm_cell.locator("[data-count]")).to_have_text(str(in_rm_cell))
    snapshot(page, "rfm-grid-rm")
    check_layout(page)
    page.click("#tab-fm")
    expect(page.locator('[data-grid="fm"]')).to_be_visible()
    page.click("#tab-rm")

    rm_cell.click()
    expect(page).to_have_url(f"/rfm/cells?r={r}&m={m}")
    expect(page.locator("#cell-count")).to_have_text(str(in_rm_cell))
    rows = page.locator("#cell-customers tbody tr")
    expect(rows).to_have_count(min(in_rm_cell, 25))
    top_spender = top_of_cell(live_database, int(r), int(m))
    expect(rows.first.locator("td").first).to_contain_text(top_spender)
    snapshot(page, "rfm-cell")
    check_layout(page)

    rows.first.locator("td a").first.click()
    expect(page.locator("#rfm-card [data-score='r']")).to_have_text(f"R{r}")
    expect(page.locator("#rfm-card [data-score='m']")).to_have_text(f"M{m}")
    snapshot(page, "rfm-profile-card")
    check_layout(page)


def test_a_marketer_recalculates_from_the_page(page: Page, staff, live_database: Database) -> None:
    seed(live_database)
    email, password = staff("marketer")
    sign_in(page, email, password)
    page.goto("/rfm")
    page.click("#recalculate")
    expect(page.locator("#toasts")).to_contain_text("The RFM calculation has started.")
    expect(page.locator("#rfm-summary")).to_contain_text("started by hand")
    check_layout(page)


def top_of_cell(database: Database, r: int, m: int) -> str:
    with database.session() as session:
        statement = (
            select(Customer)
            .join(CustomerRfm, CustomerRfm.customer_id == Customer.id)
            .where(CustomerRfm.r == r, CustomerRfm.m == m)
            .order_by(CustomerRfm.monetary.desc(), Customer.id)
        )
        return session.scalars(statement.limit(1)).one().full_name
