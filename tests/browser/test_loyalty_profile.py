"""The profile's loyalty cards in a real browser: a Senior marketer reads a customer's bonuses (balance and
what expires when) and loyalty operations, awards points, asks the loyalty system (a loopback server) for
bonuses — a wrong amount comes back in the form — and sends a failed accrual again; in Russian too. A
Marketer reads both cards without the buttons."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from playwright.sync_api import Page, expect
from sqlalchemy import insert

from smartcomm.campaigns.engine import project_zone
from smartcomm.kit.db import Database
from smartcomm.kit.time import utcnow
from smartcomm.loyalty.schemas import Source
from smartcomm.loyalty.service import loyalty_service
from smartcomm.models import LoyaltyRequest
from tests.browser.conftest import check_layout, sign_in, snapshot
from tests.delivery.helpers import make_customer
from tests.loyalty.conftest import connect
from tests.loyalty.data import give_bonuses
from tests.webhooks import conftest as webhook_fixtures
from tests.webhooks.conftest import LoyaltySystem

loyalty = webhook_fixtures.loyalty  # the loyalty system on loopback, a fixture of this module too


@dataclass
class Seeded:
    customer_id: int
    failed_id: int


def seed(database: Database, loyalty_url: str) -> Seeded:
    """Olga: 1,250.50 bonuses, 120 expiring in 3 days and 80 in 40 days, 40 welcome points, and an accrual
    the loyalty system refused to the last attempt."""
    with database.session() as session:
        today = utcnow().astimezone(project_zone(session)).date()  # the page counts the project's days
        connect(session, loyalty_url)
        olga = make_customer(session, first_name="Olga", last_name="Smirnova").id
        portions = [("120", today + timedelta(days=3)), ("80", today + timedelta(days=40))]
        give_bonuses(session, olga, Decimal("1250.50"), portions)
        loyalty_service.award_points(session, olga, 40, "welcome:olga", "Welcome", Source("campaign", "1"))
        failed = {
            "customer_id": olga, "operation": "accrue", "amount": Decimal("500"), "comment": "Anniversary",
            "key": "anniversary:olga", "source_kind": "campaign", "source_id": "2", "status": "failed",
            "attempts": 10, "next_attempt_at": utcnow(), "created_at": utcnow() - timedelta(hours=6),
            "response_status": 503, "error": "HTTP 503: maintenance",
        }  # fmt: skip
        failed_id = session.scalar(insert(LoyaltyRequest).returning(LoyaltyRequest.id), failed)
        session.commit()
        assert failed_id is not None
        return Seeded(olga, failed_id)


def test_a_senior_marketer_reads_bonuses_awards_points_and_asks_for_bonuses(
    page: Page, staff, live_database: Database, loyalty: LoyaltySystem
) -> None:
    seeded = seed(live_database, loyalty.url)
    email, password = staff("senior_marketer")
    sign_in(page, email, password)
    page.goto(f"/customers/{seeded.customer_id}")

    card = page.locator("#bonuses-card")
    expect(card.locator('[data-kpi="bonus-balance"]')).to_have_text("1,250.50")
    expect(card.locator('[data-kpi="points-balance"]')).to_have_text("40")
    expect(card.locator("#expiring-bonuses tr")).to_have_count(2)
    expect(card.locator("#expiring-bonuses tr").first.locator("[data-days]")).to_have_text("in 3 days")
    operations = page.locator("#loyalty-operations tbody tr")
    expect(operations).to_have_count(2)
    expect(page.locator('#loyalty-operations tr[data-status="failed"]')).to_contain_text("HTTP 503")
    snapshot(page, "profile-loyalty")
    check_layout(page)

    page.click("#award-points")
    page.fill("#f-points", "25")
    page.fill("#f-reason", "Apology for a late delivery")
    page.click("#save-points")
    expect(card.locator('[data-kpi="points-balance"]')).to_have_text("65")
    expect(page.locator('#loyalty-operations tr[data-operation="points"]').first).to_contain_text("+25")

    page.click("#accrue-bonuses")
    page.fill("#f-amount", "lots")
    page.click("#save-accrual")
    expect(page.locator("#accrual-form .invalid-feedback")).to_be_visible()
    page.fill("#f-amount", "300")
    page.fill("#f-comment", "Birthday gift")
    page.click("#save-accrual")
    delivered = page.locator('#loyalty-operations tr[data-status="delivered"]')
    expect(delivered).to_have_count(1)
    expect(delivered).to_contain_text("Birthday gift")
    assert loyalty.received[-1].signed_correctly

    page.locator('#loyalty-operations tr[data-status="failed"] [data-send-again]').click()
    expect(page.locator('#loyalty-operations tr[data-status="delivered"]')).to_have_count(2)
    expect(page.locator('#loyalty-operations tr[data-status="failed"]')).to_have_count(0)
    expect(page.locator('#loyalty-summary [data-count="failed"]')).to_have_count(0)
    check_layout(page)


def test_a_senior_marketer_reads_them_in_russian(
    page: Page, staff, live_database: Database, loyalty: LoyaltySystem
) -> None:
    seeded = seed(live_database, loyalty.url)
    email, password = staff("senior_marketer", language="ru")
    sign_in(page, email, password)
    page.goto(f"/customers/{seeded.customer_id}")

    expect(page.locator("#bonuses-card .card-title")).to_have_text("Бонусы")
    expect(page.locator("#expiring-bonuses tr").first.locator("[data-days]")).to_have_text("через 3 дня")
    expect(page.locator("#loyalty-card .card-title")).to_have_text("Операции программы лояльности")
    expect(page.locator("#award-points")).to_have_text("Начислить баллы")
    failed = page.locator('#loyalty-operations tr[data-status="failed"]')
    expect(failed.locator("[data-state]")).to_have_text("Ошибка")
    expect(failed.locator("[data-send-again]")).to_have_text("Отправить снова")
    snapshot(page, "profile-loyalty-ru")
    check_layout(page)

    page.click("#award-points")
    page.fill("#f-points", "0")
    page.click("#save-points")
    expect(page.locator("#points-form .invalid-feedback")).to_contain_text("укажите целое число")


def test_a_marketer_reads_the_cards_without_the_buttons(
    page: Page, staff, live_database: Database, loyalty: LoyaltySystem
) -> None:
    seeded = seed(live_database, loyalty.url)
    email, password = staff("marketer")
    sign_in(page, email, password)
    page.goto(f"/customers/{seeded.customer_id}")

    expect(page.locator("#loyalty-operations tbody tr")).to_have_count(2)
    expect(page.locator("#bonuses-card")).to_be_visible()
    expect(page.locator("#award-points")).to_have_count(0)
    expect(page.locator("#accrue-bonuses")).to_have_count(0)
    expect(page.locator("[data-send-again]")).to_have_count(0)
