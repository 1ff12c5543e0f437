"""Settings → General → Loyalty system in a real browser: an Administrator sets the address and the signing
secret that the opt-out webhook and the bonus accrual requests share; the secret is shown back masked. In
Russian too."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from smartcomm.kit.db import Database
from smartcomm.settings.schemas import DeliverySettings
from smartcomm.settings.service import settings_service
from tests.browser.conftest import check_layout, sign_in, snapshot


def test_an_administrator_connects_the_loyalty_system(page: Page, staff, live_database: Database) -> None:
    email, password = staff("administrator")
    sign_in(page, email, password)
    page.goto("/settings/general")

    card = page.locator("#loyalty-system-settings")
    expect(card.locator(".card-title")).to_have_text("Loyalty system")
    card.locator("#f-webhook_url").fill("https://loyalty.example/hooks/smartcomm")
    card.locator("#f-webhook_secret").fill("whsec-0123456789abcd")
    snapshot(page, "settings-loyalty-system")
    check_layout(page)
    page.click("#save-general")

    expect(page.locator("#toasts")).to_contain_text("Settings saved.")
    expect(card.locator("#f-webhook_url")).to_have_value("https://loyalty.example/hooks/smartcomm")
    expect(card.locator("#f-webhook_secret")).to_have_value("")
    expect(card.locator("#f-webhook_secret")).to_have_attribute("placeholder", "••••abcd")
    with live_database.session() as session:
        stored = settings_service.read(session, DeliverySettings)
        assert stored.webhook_url == "https://loyalty.example/hooks/smartcomm"

    card.locator("#f-webhook_url").fill("not an address")
    page.click("#save-general")
    expect(card.locator("#f-webhook_url")).to_have_class("form-control is-invalid")


def test_the_card_in_russian(page: Page, staff, live_database: Database) -> None:
    email, password = staff("administrator", language="ru")
    sign_in(page, email, password)
    page.goto("/settings/general")

    card = page.locator("#loyalty-system-settings")
    expect(card.locator(".card-title")).to_have_text("Программа лояльности")
    expect(card).to_contain_text("Секрет для подписи")
    snapshot(page, "settings-loyalty-system-ru")
    check_layout(page)
