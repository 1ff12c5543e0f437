"""My account lists where the user is signed in and signs the other browsers out."""

from __future__ import annotations

import re

from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import sign_in, snapshot, watch_for_page_errors


def test_a_user_signs_out_another_browser_from_my_account(
    page: Page, browser: Browser, live_server: str, staff
) -> None:
    email, password = staff("analyst", full_name="Ada Analyst")
    other = browser.new_context(base_url=live_server, locale="en-US")
    problems = watch_for_page_errors(other)
    phone = other.new_page()
    sign_in(phone, email, password)
    sign_in(page, email, password)

    page.goto("/account")
    expect(page.locator("#sessions-table tbody tr")).to_have_count(2)
    expect(page.locator("#sessions-table")).to_contain_text("This session")
    snapshot(page, "account-sessions")
    page.click("#end-other-sessions button")

    expect(page.locator("#toasts")).to_contain_text("Your other sessions were signed out.")
    expect(page.locator("#sessions-table tbody tr")).to_have_count(1)
    phone.goto("/account")
    expect(phone).to_have_url(re.compile(r"/login\?next=%2Faccount$"))
    other.close()
    assert problems == []
