"""Settings → Design as the designer (the live preview follows what is typed, before saving) and
Settings → Watchers as the administrator, in English and Russian, at 1280 and 1440 px."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from smartcomm.kit.db import Database
from smartcomm.models import WatcherGroup
from smartcomm.settings.schemas import DesignSettings
from smartcomm.settings.service import settings_service
from tests.browser.conftest import check_layout, sign_in, snapshot

LANGUAGES = ["en", "ru"]
WIDTHS = (1280, 1440)
WORDS = {
    "en": {
        "settings": "Settings",
        "design": "Design",
        "subscriptions": "Your subscriptions",
        "saved": "The design was saved.",
        "watchers": "Watchers",
        "created": "The watcher group was created.",
        "bad line": "Line 2: boss@ is not a valid e-mail address.",
        "title": "Leaving so soon?",
    },
    "ru": {
        "settings": "Настройки",
        "design": "Дизайн",
        "subscriptions": "Ваши подписки",
        "saved": "Дизайн сохранён.",
        "watchers": "Наблюдатели",
        "created": "Группа наблюдателей создана.",
        "bad line": "Строка 2: boss@ — неверный адрес e-mail.",
        "title": "Уже уходите?",
    },
}


def look(page: Page, name: str) -> None:
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        snapshot(page, f"{name}-{width}")
    page.set_viewport_size({"width": 1440, "height": 900})
    check_layout(page)


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_designer_brands_the_public_pages_with_a_live_preview(
    page: Page, staff, live_database: Database, language: str
) -> None:
    words = WORDS[language]
    email, password = staff("designer", language=language)
    sign_in(page, email, password)
    page.click(f'[data-section="settings"] >> text={words["settings"]}')
    page.click('[data-section="settings"] a[href="/settings/design"]')
    expect(page).to_have_url(re.compile(r"/settings/design$"))
    preview = page.frame_locator("#design-preview")
    expect(preview.locator("#unsubscribe-button")).to_be_visible()
    look(page, f"design-{language}")

    page.fill(f"#f-unsubscribe_title_{language}", words["title"])
    expect(preview.locator("#page-title")).to_have_text(words["title"])
    page.locator("#f-primary_color").evaluate(
        "(field) => { field.value = '#0f9d58'; field.dispatchEvent(new Event('input', {bubbles: true})); }"
    )
    expect(preview.locator("#unsubscribe-button")).to_have_css("background-color", "rgb(15, 157, 88)")
    page.click("[data-page-tab=preferences]")
    expect(preview.locator("#page-title")).to_have_text(words["subscriptions"])
    page.click("[data-preview-device=phone]")
    expect(page.locator("#preview-stage")).to_have_attribute("data-device", "phone")
    look(page, f"design-preview-phone-{language}")

    page.click("#save-design")
    expect(page.locator("#toasts")).to_contain_text(words["saved"])
    with live_database.session() as session:
        saved = settings_service.read(session, DesignSettings)
        assert saved.primary_color == "#0f9d58"
        assert getattr(saved, f"unsubscribe_title_{language}") == words["title"]


@pytest.mark.parametrize("language", LANGUAGES)
def test_an_administrator_sets_up_a_watcher_group(
    page: Page, staff, live_database: Database, language: str
) -> None:
    words = WORDS[language]
    email, password = staff("administrator", language=language)
    sign_in(page, email, password)
    page.goto("/settings/general")
    page.click(f'[data-section="settings"] >> text={words["watchers"]}')
    expect(page).to_have_url(re.compile(r"/settings/watchers$"))
    look(page, f"watchers-empty-{language}")

    page.click("#new-watcher-group")
    page.fill("#f-name", "Marketing")
    page.fill("#f-emails", "head@shop.example\nboss@")
    page.fill("#f-phones", "8 916 123-45-67")
    page.click("#save-watcher-group")
    expect(page.locator('[data-error-for="emails"]')).to_have_text(words["bad line"])
    look(page, f"watchers-form-errors-{language}")
    page.fill("#f-emails", "head@shop.example\nboss@shop.example")
    page.click("#save-watcher-group")
    expect(page.locator("#toasts")).to_contain_text(words["created"])
    row = page.locator('tr[data-group="Marketing"]')
    expect(row.locator("[data-column=emails]")).to_contain_text("head@shop.example, boss@shop.example")
    expect(row.locator("[data-column=phones]")).to_contain_text("+79161234567")
    look(page, f"watchers-list-{language}")
    with live_database.session() as session:
        group = session.query(WatcherGroup).one()
        assert group.emails == ["head@shop.example", "boss@shop.example"]
