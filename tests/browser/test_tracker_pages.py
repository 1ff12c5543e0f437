"""The site tracker in the back office, in a real browser: an Administrator sets the abandoned-cart times and
copies the Website snippet (English and Russian); a Marketer sees a customer's abandoned cart and pop-ups
on the profile (English and Russian) but not the settings."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from smartcomm.containers.service import ItemChange, container_service
from smartcomm.kit.db import Database
from smartcomm.kit.time import utcnow
from smartcomm.models import Container, EventSource, Popup
from smartcomm.models.containers import CART_CODE
from smartcomm.popups.schemas import PopupContent
from smartcomm.popups.service import popup_service
from smartcomm.settings.schemas import TrackingSettings
from smartcomm.settings.service import settings_service
from tests.browser.conftest import check_layout, sign_in, snapshot
from tests.events.conftest import make_customer, make_product

WORDS = {
    "en": {
        "cart_card": "Abandoned carts",
        "saved": "The abandoned-cart settings were saved.",
        "website": "Website",
        "copied": "The snippet was copied.",
        "abandoned": "Abandoned cart",
        "popups": "Pop-ups",
        "clicked": "Button clicked",
        "total": "Total",
    },
    "ru": {
        "cart_card": "Брошенные корзины",
        "saved": "Настройки брошенных корзин сохранены.",
        "website": "Сайт",
        "copied": "Код скопирован.",
        "abandoned": "Брошенная корзина",
        "popups": "Поп-апы",
        "clicked": "Нажата кнопка",
        "total": "Итого",
    },
}


def customer_with_an_abandoned_cart(database: Database) -> int:
    """Anna left a bag and socks in her cart three hours ago; a campaign showed her a pop-up she clicked."""
    with database.session() as session:
        anna = make_customer(session, "C-1", first_name="Anna", last_name="Orlova")
        bag = make_product(session, "BAG-1", "Leather bag", "4990.00")
        socks = make_product(session, "SOCKS", "Wool socks", "245.25")
        cart = session.scalars(select(Container.id).where(Container.code == CART_CODE)).one()
        changes = [ItemChange(bag.id, Decimal("1")), ItemChange(socks.id, Decimal("2"))]
        container_service.apply(session, anna.id, cart, "add", changes, utcnow() - timedelta(hours=3))
        content = PopupContent(
            title="Your bag is waiting", button_text="Go", button_url="https://shop.example/cart"
        )
        popup_service.queue(session, anna.id, "c-1:n-1:1", content, None, "campaign", 4, "n-1")
        popup_service.queue(session, anna.id, "c-1:n-1:2", content, None, "campaign", 4, "n-1")
        session.commit()
        return anna.id


def click_popup(database: Database, key: str) -> None:
    with database.session() as session:
        popup = session.scalars(select(Popup).where(Popup.key == key)).one()
        popup.status, popup.shown_at, popup.clicked_at = "clicked", utcnow(), utcnow()
        session.commit()


@pytest.mark.parametrize("language", ["en", "ru"])
def test_an_administrator_sets_the_cart_times_and_copies_the_snippet(
    page: Page, staff, live_database: Database, language: str
) -> None:
    words = WORDS[language]
    with live_database.session() as session:
        session.add(EventSource(code="web-shop", name="Web shop", domain="shop.example", write_key="wk-shop"))
        session.commit()
    email, password = staff("administrator", language=language)
    sign_in(page, email, password)

    page.goto("/settings/event-sources")
    card = page.locator("form#abandoned-cart-settings")
    expect(card).to_contain_text(words["cart_card"])
    expect(card.locator("#f-abandoned_cart_minutes")).to_have_value("60")
    expect(card.locator("#f-abandoned_cart_keep_days")).to_have_value("30")
    snapshot(page, f"event-sources-carts-{language}")
    check_layout(page)
    card.locator("#f-abandoned_cart_minutes").fill("0")
    card.locator("#save-cart-settings").click()
    expect(card.locator('[data-error-for="abandoned_cart_minutes"]')).to_be_visible()
    card.locator("#f-abandoned_cart_minutes").fill("45")
    card.locator("#save-cart-settings").click()
    expect(page.locator("#toasts")).to_contain_text(words["saved"])
    expect(page.locator("#f-abandoned_cart_minutes")).to_have_value("45")
    with live_database.session() as session:
        assert settings_service.read(session, TrackingSettings).abandoned_cart_minutes == 45

    page.click('tr[data-code="web-shop"] a.btn')
    expect(page.locator("#tab-website")).to_contain_text(words["website"])
    snippet = page.locator("#snippet-website-code")
    expect(snippet).to_be_visible()
    expect(snippet).to_contain_text('analytics.load("wk-shop")')
    expect(snippet).to_contain_text('data-write-key="wk-shop"')
    snapshot(page, f"event-source-website-{language}")
    page.click("#copy-website-snippet")
    expect(page.locator("#toasts")).to_contain_text(words["copied"])
    page.click('a[href="#snippet-python"]')
    expect(page.locator("#snippet-python-code")).to_be_visible()
    check_layout(page)


@pytest.mark.parametrize("language", ["en", "ru"])
def test_a_marketer_sees_the_abandoned_cart_and_the_popups_on_the_profile(
    page: Page, staff, live_database: Database, language: str
) -> None:
    words = WORDS[language]
    customer_id = customer_with_an_abandoned_cart(live_database)
    click_popup(live_database, "c-1:n-1:1")
    email, password = staff("marketer", language=language)
    sign_in(page, email, password)

    page.goto(f"/customers/{customer_id}")
    cart = page.locator("#abandoned-cart")
    expect(cart).to_contain_text(words["abandoned"])
    expect(cart.locator('tr[data-sku="BAG-1"]')).to_contain_text("Leather bag")
    expect(cart.locator('tr[data-sku="SOCKS"] [data-quantity]')).to_have_text("2")
    expect(cart.locator("tfoot")).to_contain_text(words["total"])
    # 4,990 + 2 × 245.25, as each language writes it: "5,480.50 ₽", "5 480,50 ₽".
    expect(page.locator("#abandoned-cart-total")).to_have_text(re.compile(r"^5\D480[.,]50\s₽$"))
    popups = page.locator("#popups-card")
    expect(popups).to_contain_text(words["popups"])
    expect(popups.locator('[data-status="clicked"]')).to_have_text(words["clicked"])
    expect(popups.locator('[data-status="queued"]')).to_have_count(1)
    expect(popups.locator('[data-count="clicked"]')).to_contain_text("1")
    snapshot(page, f"profile-abandoned-cart-{language}")
    check_layout(page)

    page.goto("/settings/event-sources")
    expect(page.locator("#abandoned-cart-settings")).to_have_count(0)  # the settings are the Administrator's
