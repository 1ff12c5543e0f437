"""Data settings in a real browser, as the administrator who configures them."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import check_layout, sign_in, snapshot


@pytest.fixture
def admin_page(page: Page, staff) -> Page:
    email, password = staff("administrator", full_name="Alice Admin")
    sign_in(page, email, password)
    return page


def field_codes(page: Page) -> list[str]:
    codes: list[str] = page.locator("#fields tbody tr").evaluate_all(
        "rows => rows.map(r => r.dataset.fieldCode)"
    )
    return codes


def drag_to_the_top(page: Page, code: str) -> None:
    """Drag a field's handle onto the top edge of the first row. A loaded machine may drop a mouse gesture a
    row short (the list animates while the pointer moves), so the gesture is made again, at most twice, until
    the field is first — as a person would."""
    for _ in range(3):
        handle = page.locator(f'tr[data-field-code="{code}"] .sc-drag-handle')
        first_row = page.locator("#fields tbody tr").first
        handle.drag_to(first_row, target_position={"x": 40, "y": 2}, steps=20)
        page.wait_for_timeout(300)  # the list's animation
        if first_row.get_attribute("data-field-code") == code:
            return


def test_custom_field_is_created_and_fields_are_reordered_by_drag_and_drop(admin_page: Page) -> None:
    page = admin_page
    page.goto("/settings/fields")
    expect(page.locator("#object-tabs .active")).to_contain_text("Customers")
    snapshot(page, "fields-list")
    check_layout(page)
    page.click("#new-field")
    page.fill("#f-code", "Favourite-Store")
    page.fill("#f-name", "Favourite store")
    page.click("#save-field")
    expect(page.locator('[data-error-for="code"]')).to_contain_text("Use lowercase Latin letters")
    snapshot(page, "fields-new-invalid")
    check_layout(page)
    page.fill("#f-code", "favourite_store")
    page.select_option("#f-type", "string")
    page.fill("#f-group", "scoring")
    snapshot(page, "fields-new")
    check_layout(page)
    page.click("#save-field")
    expect(page.locator("#toasts")).to_contain_text("The field was created.")
    assert field_codes(page)[-1] == "favourite_store"

    drag_to_the_top(page, "favourite_store")
    expect(page.locator("#toasts")).to_contain_text("The order was saved.")
    expect(page.locator("#fields tbody tr").first).to_have_attribute("data-field-code", "favourite_store")
    expect(page.locator("#fields tbody tr").first.locator(".sc-position")).to_have_text("1")

    page.click("#order-builder")
    expect(page.locator("#order-builder")).to_have_attribute("aria-current", "true")
    assert field_codes(page)[0] == "external_id" and field_codes(page)[-1] == "favourite_store"
    snapshot(page, "fields-builder-order")
    check_layout(page)
    page.goto("/settings/fields?object=customer&order=profile")
    assert field_codes(page)[:2] == ["favourite_store", "external_id"]

    page.click('tr[data-field-code="email"] a.fw-medium')
    expect(page.locator("#delete-field")).to_be_disabled()
    snapshot(page, "fields-edit-system")
    check_layout(page)


def test_dictionary_items_are_added_and_reordered(admin_page: Page) -> None:
    page = admin_page
    page.goto("/settings/dictionaries")
    snapshot(page, "dictionaries-list")
    check_layout(page)
    page.click('tr[data-code="unsubscribe_reasons"] a.fw-medium')
    page.fill("#new-item-code", "too_often")
    page.fill("#new-item-value", "Too many e-mails")
    page.click("#add-item-button")
    expect(page.locator('#add-item [data-error-for="code"]')).to_have_text(
        "This dictionary already has an item with this code"
    )
    expect(page.locator("#new-item-value")).to_have_value("Too many e-mails")
    page.fill("#new-item-code", "moved")
    page.fill("#new-item-value", "I moved to another city")
    page.click("#add-item-button")
    expect(page.locator("#toasts")).to_contain_text("The item was added.")
    rows = page.locator("#items tbody tr")
    expect(rows).to_have_count(3)

    rows.nth(2).locator(".sc-drag-handle").drag_to(rows.nth(0), target_position={"x": 40, "y": 4}, steps=12)
    expect(page.locator("#toasts")).to_contain_text("The order was saved.")
    expect(page.locator("#items tbody tr").first).to_have_attribute("data-item-code", "moved")

    moved = page.locator('tr[data-item-code="moved"]')
    moved.get_by_role("button", name="Edit").click()
    moved.locator('input[name="value"]').fill("I moved away")
    snapshot(page, "dictionary-item-editing")
    check_layout(page)
    moved.locator('input[name="value"]').press("Enter")
    expect(page.locator("#toasts")).to_contain_text("The item was saved.")
    expect(page.locator('tr[data-item-code="moved"] .item-value')).to_have_text("I moved away")
    snapshot(page, "dictionary-detail")
    check_layout(page)


def test_mailing_category_is_created(admin_page: Page) -> None:
    page = admin_page
    page.goto("/settings/mailing-categories")
    snapshot(page, "mailing-categories-empty")
    check_layout(page)
    page.click("#new-category")
    page.fill("#f-name", "Promotions")
    page.fill("#f-code", "promo")
    page.fill("#f-description", "Weekly offers and sales")
    snapshot(page, "mailing-categories-new")
    check_layout(page)
    page.click("#save-category")
    row = page.locator('tr[data-code="promo"]')
    expect(row).to_contain_text("Promotions")
    expect(row.locator('[data-channel="email"]')).to_have_text("0")
    snapshot(page, "mailing-categories-list")
    check_layout(page)


def test_event_source_shows_its_write_key_and_issues_a_new_one(admin_page: Page) -> None:
    page = admin_page
    page.goto("/settings/event-sources")
    expect(page.locator('tr[data-code="online-store"]')).to_contain_text("System")
    snapshot(page, "event-sources-list")
    check_layout(page)
    page.click("#new-source")
    page.fill("#f-name", "Mobile app")
    page.fill("#f-code", "mobile-app")
    page.fill("#f-domain", "https://m.shop.example.com/")
    page.click("#save-source")
    expect(page.locator("#toasts")).to_contain_text("The event source was created.")
    key = page.locator("#write-key").input_value()
    assert re.fullmatch(r"[A-Za-z0-9_-]{32}", key)
    expect(page.locator("#snippet-python-code")).to_contain_text(f'analytics.write_key = "{key}"')
    expect(page.locator("#f-domain")).to_have_value("m.shop.example.com")
    page.click("#copy-write-key")
    expect(page.locator("#toasts")).to_contain_text("The write key was copied.")
    snapshot(page, "event-source-detail")
    check_layout(page)

    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#regenerate-write-key")
    expect(page.locator("#toasts")).to_contain_text("A new write key was issued.")
    new_key = page.locator("#write-key").input_value()
    assert new_key != key and re.fullmatch(r"[A-Za-z0-9_-]{32}", new_key)
    expect(page.locator("#snippet-python-code")).to_contain_text(new_key)


def test_classifiers_and_containers_pages(admin_page: Page) -> None:
    page = admin_page
    page.goto("/settings/classifiers")
    expect(page.locator('tr[data-code="default"]')).to_contain_text("System")
    snapshot(page, "classifiers-list")
    check_layout(page)
    page.click('tr[data-code="default"] a.fw-medium')
    expect(page.locator("#delete-classifier")).to_be_disabled()
    snapshot(page, "classifiers-edit-system")
    check_layout(page)
    page.goto("/settings/containers")
    expect(page.locator("#containers tbody tr").first).to_have_attribute("data-code", "cart")
    snapshot(page, "containers-list")
    check_layout(page)
    page.click('tr[data-code="wishlist"] a.fw-medium')
    snapshot(page, "containers-edit")
    check_layout(page)


def test_sms_default_country_is_changed(admin_page: Page) -> None:
    page = admin_page
    page.goto("/settings/general")
    expect(page.locator("#f-sms_default_country")).to_have_value("RU")
    page.select_option("#f-sms_default_country", "KZ")
    snapshot(page, "general-settings")
    check_layout(page)
    page.click("#save-general")
    expect(page.locator("#toasts")).to_contain_text("Settings saved.")
    expect(page.locator("#f-sms_default_country")).to_have_value("KZ")
    expect(page.locator("#f-sms_default_country option:checked")).to_have_text("Kazakhstan (KZ)")
