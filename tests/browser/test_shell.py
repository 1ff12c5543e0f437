"""The back-office shell in a real browser: each role's menu, creating a user, the action history."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import check_layout, sign_in, sign_out, snapshot

# What each role finds in the menu (sections in the product's order).
MENUS = {
    "administrator": [
        "Summary",
        "Customers",
        "Campaigns",
        "Mass messaging",
        "Promo codes",
        "Polls",
        "Messages",
        "Templates",
        "Settings",
    ],
    "senior_marketer": [
        "Summary",
        "Customers",
        "Campaigns",
        "Mass messaging",
        "Promo codes",
        "Polls",
        "Messages",
        "Templates",
        "Settings",  # with the global control group only
    ],
    "marketer": [
        "Summary",
        "Customers",
        "Campaigns",
        "Mass messaging",
        "Promo codes",
        "Polls",
        "Messages",
        "Templates",
        "Settings",  # with the global control group only
    ],
    "analyst": [
        "Summary",
        "Customers",
        "Campaigns",
        "Mass messaging",
        "Promo codes",
        "Polls",
        "Messages",
        "Templates",
        "Settings",  # with the global control group only
    ],
    "designer": ["Templates", "Settings"],
    "operator": ["Customers", "Messages"],
}


def menu_sections(page: Page) -> list[str]:
    return [text.strip() for text in page.locator("#main-menu > li .nav-link-title").all_inner_texts()]


@pytest.mark.parametrize("role", list(MENUS))
def test_each_role_signs_in_and_sees_its_menu(page: Page, staff, role: str) -> None:
    email, password = staff(role, full_name=f"Test {role}")
    sign_in(page, email, password)
    expect(page.locator("#user-menu")).to_contain_text(f"Test {role}")
    assert menu_sections(page) == MENUS[role]
    snapshot(page, f"menu-{role}")
    check_layout(page)


def test_api_user_cannot_sign_in(page: Page, staff) -> None:
    email, password = staff("api")
    page.goto("/login")
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("#sign-in")
    expect(page.locator("#login-error")).to_contain_text("REST API only")


def test_admin_creates_a_marketer_who_signs_in_and_history_shows_it(page: Page, staff) -> None:
    admin_email, admin_password = staff("administrator", full_name="Alice Admin")
    sign_in(page, admin_email, admin_password)
    expect(page.locator("#main-menu")).to_contain_text("Settings")

    page.goto("/settings/users")
    snapshot(page, "users-list")
    check_layout(page)
    page.click("#new-user")
    page.fill("#f-full_name", "Maxim Marketer")
    page.fill("#f-email", "maxim@example.com")
    page.select_option("#f-role", "marketer")
    snapshot(page, "users-new")
    check_layout(page)
    page.click("#save-user")
    expect(page.locator("#new-user-email")).to_have_text("maxim@example.com")
    password = page.locator("#new-user-password").inner_text()
    snapshot(page, "users-created")
    check_layout(page)
    sign_out(page)

    sign_in(page, "maxim@example.com", password)
    expect(page.locator("#user-menu")).to_contain_text("Maxim Marketer")
    assert menu_sections(page) == MENUS["marketer"]
    # Settings holds the global control group alone for a Marketer: none of the administrators' pages.
    expect(page.locator('#main-menu a[href="/settings/global-control"]')).not_to_have_count(0)
    expect(page.locator('#main-menu a[href="/settings/general"]')).to_have_count(0)
    page.goto("/settings/users")
    expect(page.locator("#error-page")).to_contain_text("Access denied")
    check_layout(page)
    sign_out(page)

    sign_in(page, admin_email, admin_password)
    page.goto("/settings/history")
    table = page.locator("#history")
    created_row = table.locator("tr").filter(has_text="Created").filter(has_text="maxim@example.com")
    expect(created_row.locator(".sc-history-object")).to_contain_text("Maxim Marketer")
    created = table.locator("tr").filter(has_text="Created").filter(has_text="maxim@example.com")
    expect(created).to_contain_text("Alice Admin")
    expect(table.locator("tr").filter(has_text="Signed in").filter(has_text="Maxim Marketer")).to_have_count(
        1
    )
    snapshot(page, "history")
    check_layout(page)

    page.select_option("#filter-object", "user")
    expect(page).to_have_url(re.compile(r"object_type=user"))
    expect(page.locator("#history-table")).to_contain_text("maxim@example.com")
    page.fill("#filter-since", "2099-01-01")
    page.dispatch_event("#filter-since", "change")
    expect(page.locator("#history-table")).to_contain_text("Nothing recorded")


def test_russian_interface_for_a_russian_speaking_user(page: Page, staff) -> None:
    page.goto("/login")
    snapshot(page, "login")
    check_layout(page)
    email, password = staff("administrator", language="ru", full_name="Ольга Иванова")
    sign_in(page, email, password)
    expect(page.locator("#main-menu")).to_contain_text("Настройки")
    page.goto("/settings/users")
    expect(page.locator("h2.page-title")).to_have_text("Пользователи")
    expect(page.locator("#users")).to_contain_text("Администратор")
    snapshot(page, "users-ru")
    check_layout(page)
