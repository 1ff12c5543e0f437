"""Settings → Channels in a real browser, as the administrator who switches a channel from the sandbox to
a real provider, in English and in Russian."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import ConsoleMessage, Page, expect

from tests.browser.conftest import sign_in, snapshot
from tests.channels.smtp_server import smtp_server

WIDTHS = (1280, 1440)


@pytest.fixture
def csp_errors(page: Page) -> list[str]:
    """Content-Security-Policy violations the browser reports on the console (a refused form's 422 is
    logged there too, and is expected)."""
    errors: list[str] = []

    def keep(message: ConsoleMessage) -> None:
        if message.type == "error" and "Content Security Policy" in message.text:
            errors.append(message.text)

    page.on("console", keep)
    return errors


def look(page: Page, name: str) -> None:
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        snapshot(page, f"{name}-{width}")


def test_an_administrator_switches_e_mail_from_the_sandbox_to_an_smtp_server(
    page: Page, staff, csp_errors: list[str]
) -> None:
    email, password = staff("administrator", full_name="Alice Admin")
    sign_in(page, email, password)
    page.goto("/settings/general")
    page.click('[data-section="settings"] >> text=Channels')
    expect(page).to_have_url(re.compile(r"/settings/channels$"))
    expect(page.locator(".sc-active-line[data-active=sandbox]")).to_have_count(4)
    look(page, "channels-overview")

    with smtp_server(login=("shop", "relay-password-2026")) as server:
        page.click("#add-email")
        page.click('[data-kind="email.smtp"]')
        expect(page.locator("h2.page-title")).to_have_text("New provider")
        page.fill("#f-name", "Office relay")
        page.fill("#f-host", "127.0.0.1")
        page.fill("#f-port", "70000")
        page.click("#save-provider")
        expect(page.locator('[data-error-for="port"]')).to_have_text("The number is too large.")
        expect(page.locator('[data-error-for="from_address"]')).to_have_text("This field is required.")
        look(page, "channels-form-errors")
        page.fill("#f-port", str(server.port))
        page.select_option("#f-security", "none")
        page.fill("#f-from_address", "news@shop.example")
        page.fill("#f-from_name", "Ромашка")
        page.fill("#f-password", "relay-password-2026")
        page.fill("#f-username", "shop")
        page.click("#save-provider")
        expect(page.locator("#toasts")).to_contain_text("Send a test message, then make it active.")
        expect(page.locator('[data-mask-for="password"]')).to_have_text("••••2026")
        expect(page.locator("#f-password")).to_have_value("")
        expect(page.locator("#provider-status")).to_have_text("Inactive")

        page.fill("#f-recipient", "anna@example.com")
        page.click("#test-send-button")
        expect(page.locator('#test-outcome[data-outcome="accepted"]')).to_contain_text(
            "Accepted by the provider"
        )
        look(page, "channels-provider")
        received = server.recorder.messages
    assert [m.rcpt_tos for m in received] == [["anna@example.com"]]

    page.click("#toggle-active")
    expect(page.locator("#toasts")).to_contain_text("The provider is active")
    expect(page.locator("#provider-status")).to_have_text("Active")
    expect(page.locator("#delete-provider")).to_be_disabled()
    page.click("text=Channels >> nth=0")
    expect(page.locator("#channel-email .sc-active-line")).to_contain_text("Office relay")
    expect(page.locator(".sc-active-line[data-active=sandbox]")).to_have_count(3)
    assert csp_errors == []


def test_the_page_in_russian_with_a_refused_form(page: Page, staff, csp_errors: list[str]) -> None:
    email, password = staff("administrator", full_name="Ирина Админова", language="ru")
    sign_in(page, email, password)
    page.goto("/settings/channels")
    expect(page.locator("h2.page-title")).to_have_text("Каналы")
    expect(page.locator("#channel-viber")).to_contain_text("Каскад Viber → SMS")
    look(page, "channels-overview-ru")
    page.click("#add-sms")
    page.click('[data-kind="sms.http"]')
    expect(page.locator("h4.sc-form-section").first).to_have_text("Запрос")
    page.fill("#f-url", "ftp://sms.example")
    page.click("#save-provider")
    expect(page.locator('[data-error-for="url"]')).to_have_text(
        "Введите адрес, начинающийся с https:// или http://"
    )
    look(page, "channels-form-ru")
    page.fill("#f-url", "https://sms.example/api/send")
    page.fill("#f-token", "token-from-the-gateway")
    page.fill("#f-callback_secret", "callback-secret-1")
    page.click("#save-provider")
    expect(page.locator("#toasts")).to_contain_text("Провайдер сохранён")
    expect(page.locator("#callback-url")).to_have_value(re.compile(r"/callbacks/sms/\d+$"))
    look(page, "channels-provider-ru")
    assert csp_errors == []
