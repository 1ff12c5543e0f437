"""The notification bell in a real browser: a campaign's "Send notification" tells a Marketer (English)
about a customer's purchase — the bell counts it, the list names the customer, opening it leads to the
profile and empties the bell; a Senior marketer (Russian) marks all read at once."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from smartcomm.kit.db import Database
from smartcomm.models import User
from tests.browser.conftest import check_layout, sign_in, snapshot
from tests.campaigns.helpers import active_campaign, buy, edge, graph, node
from tests.delivery.helpers import make_customer

WORDS = {
    "en": {"title": "Notifications", "empty": "No new notifications", "read_all": "Mark all as read"},
    "ru": {
        "title": "Уведомления",
        "empty": "Нет новых уведомлений",
        "read_all": "Отметить все как прочитанные",
    },
}


def purchase_noticed(database: Database, email: str, purchases: int) -> int:
    """A campaign that notifies the user of every purchase, and a customer's purchases; the customer's id."""
    with database.session() as session:
        user = session.query(User).filter_by(email=email).one()
        action = node(
            "n", "action.send_notification", user_ids=[user.id], title="Big purchase", text="Call back"
        )
        body = graph([node("t", "trigger.cheque_issued"), action], [edge("t", "n")])
        active_campaign(session, body, reentry_minutes=0)
        olga = make_customer(session, first_name="Olga", last_name="Smirnova", external_id="C-77")
        session.commit()
        for _ in range(purchases):
            buy(session, olga)
        return olga.id


def test_a_marketer_opens_a_notification_and_lands_on_the_customers_profile(
    page: Page, staff, live_database: Database
) -> None:
    email, password = staff("marketer")
    customer_id = purchase_noticed(live_database, email, 1)
    sign_in(page, email, password)
    page.goto("/account")

    expect(page.locator("#bell-count")).to_have_text("1")
    page.click("#bell-toggle")
    items = page.locator("#bell-list .sc-bell-item")
    expect(items).to_have_count(1)
    expect(items.first).to_contain_text("Big purchase")
    expect(items.first).to_contain_text("Smirnova Olga (C-77)")
    snapshot(page, "bell-open-en")
    check_layout(page)

    items.first.click()
    expect(page).to_have_url(re.compile(rf"/customers/{customer_id}$"))
    expect(page.locator("#bell-toggle")).to_be_visible()
    expect(page.locator("#bell-count")).to_have_count(0)
    page.click("#bell-toggle")
    expect(page.locator("#bell-empty")).to_have_text(WORDS["en"]["empty"])


@pytest.mark.parametrize("language", ["en", "ru"])
def test_a_senior_marketer_marks_every_notification_read(
    page: Page, staff, live_database: Database, language: str
) -> None:
    email, password = staff("senior_marketer", language=language)
    purchase_noticed(live_database, email, 3)
    sign_in(page, email, password)
    page.goto("/account")

    expect(page.locator("#bell-count")).to_have_text("3")
    page.click("#bell-toggle")
    expect(page.locator(".sc-bell-menu .card-title")).to_have_text(WORDS[language]["title"])
    expect(page.locator("#bell-list .sc-bell-item")).to_have_count(3)
    snapshot(page, f"bell-three-{language}")

    expect(page.locator("#bell-read-all")).to_have_text(WORDS[language]["read_all"])
    page.click("#bell-read-all")
    expect(page.locator("#bell-count")).to_have_count(0)
    page.click("#bell-toggle")
    expect(page.locator("#bell-empty")).to_have_text(WORDS[language]["empty"])
    page.reload()
    expect(page.locator("#bell-toggle")).to_be_visible()
    expect(page.locator("#bell-count")).to_have_count(0)
