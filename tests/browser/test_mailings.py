"""Mass messaging in a real browser, in English and Russian: a Senior marketer prepares an e-mail mailing
with a 10 % control group and two variants, calculates its volume and launches it; a Marketer edits a
draft and finds the launch left to a senior marketer; an Analyst looks through the list."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from playwright.sync_api import Page, expect

from smartcomm.kit.db import Database
from smartcomm.mailings.schemas import MailingCreate
from smartcomm.mailings.service import mailing_service
from tests.browser.conftest import check_layout, sign_in, snapshot
from tests.delivery.helpers import email_template
from tests.mailings.helpers import audience_of, customers
from tests.segments.shop import ACTOR

LANGUAGES = ["en", "ru"]
WIDTHS = (1280, 1440)
WORDS = {
    "en": {"control": "Control group", "saved": "The draft was saved.", "hint": "senior marketer"},
    "ru": {"control": "Контрольная группа", "saved": "Черновик сохранён.", "hint": "старший маркетолог"},
}


@dataclass
class Shop:
    audience_id: int
    first_version: int
    second_version: int
    draft_id: int


def look(page: Page, name: str) -> None:
    check_layout(page)
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        snapshot(page, f"{name}-{width}")


def prepare(database: Database) -> Shop:
    with database.session() as session:
        audience = audience_of(session, customers(session, 20), name="Loyal customers")
        first = email_template(session, subject="December sale")
        second = email_template(session, subject="Only today")
        body = MailingCreate(channel="email", name="Weekly digest", template_version_id=first.id)
        draft = mailing_service.create(session, ACTOR, body)
        session.commit()
        return Shop(audience.id, first.id, second.id, draft.id)


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_senior_marketer_prepares_and_launches_an_ab_tested_mailing(
    page: Page, staff, live_database: Database, language: str
) -> None:
    shop = prepare(live_database)
    sign_in(page, *staff("senior_marketer", language=language))
    page.click('[data-section="mailings"] > a')
    page.click('[data-section="mailings"] a[href="/mailings/email"]')
    expect(page).to_have_url(re.compile(r"/mailings/email$"))
    page.click("#new-mailing")
    expect(page).to_have_url(re.compile(r"/mailings/new\?channel=email$"))

    page.fill("#f-name", "December sale")
    page.select_option("#f-template_version_id", str(shop.first_version))
    page.check(f'input[name="include_audience_ids[]"][value="{shop.audience_id}"]')
    page.fill("#f-sender-address", "news@shop.example")
    page.check("#f-ab_enabled")
    expect(page.locator("#variants [data-variant]")).to_have_count(2)
    expect(page.locator("#f-variants-1-share")).to_have_value("50")
    page.select_option("#f-variants-1-template_version_id", str(shop.second_version))
    page.fill("#f-variants-1-subject", "Only today")
    page.fill("#f-control_percent", "10")
    expect(page.locator("#control-percent-value")).to_have_text("10%")
    expect(page.locator("#section-control .card-title")).to_contain_text(WORDS[language]["control"])
    look(page, f"mailing-new-{language}")

    page.click("#save-draft")
    expect(page.locator("#toasts")).to_contain_text(WORDS[language]["saved"])
    expect(page.locator("#variants [data-variant]")).to_have_count(2)
    page.click("#calculate-volume")
    expect(page.locator('[data-volume="audience"]')).to_have_text("20")
    control = int(page.locator('[data-volume="control"]').inner_text())
    good = int(page.locator('[data-volume="good_recipients"]').inner_text())
    assert 0 < control < 10 and control + good == 20
    look(page, f"mailing-volume-{language}")

    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#launch")
    expect(page.locator("#mailing-status [data-status]")).to_be_visible()
    expect(page.locator("#mailing-form")).to_have_count(0)
    expect(page.locator("#variants-summary [data-variant-row]")).to_have_count(2)
    look(page, f"mailing-launched-{language}")


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_marketer_edits_a_draft_and_finds_the_launch_left_to_a_senior_marketer(
    page: Page, staff, live_database: Database, language: str
) -> None:
    shop = prepare(live_database)
    sign_in(page, *staff("marketer", language=language))
    page.goto(f"/mailings/{shop.draft_id}")
    expect(page.locator("#launch")).to_be_disabled()
    expect(page.locator("#launch-hint")).to_contain_text(WORDS[language]["hint"])
    page.fill("#f-name", "")
    page.click("#save-draft")
    expect(page.locator('[data-error-for="name"]')).to_be_visible()
    page.fill("#f-name", "Weekly digest, edited")
    page.fill("#f-scheduled_at", "2030-01-15T10:30")
    page.click("#save-draft")
    expect(page.locator("#toasts")).to_contain_text(WORDS[language]["saved"])
    expect(page.locator("#f-name")).to_have_value("Weekly digest, edited")
    expect(page.locator("#f-scheduled_at")).to_have_value("2030-01-15T10:30")
    look(page, f"mailing-marketer-{language}")


@pytest.mark.parametrize("language", LANGUAGES)
def test_an_analyst_looks_through_the_list(page: Page, staff, live_database: Database, language: str) -> None:
    shop = prepare(live_database)
    with live_database.session() as session:
        for number in range(3):
            body = MailingCreate(channel="email", name=f"Promo {number}")
            mailing_service.create(session, ACTOR, body)
        session.commit()
    sign_in(page, *staff("analyst", language=language))
    page.goto("/mailings/email")
    expect(page.locator("#mailing-rows tbody tr")).to_have_count(4)
    expect(page.locator("#new-mailing")).to_have_count(0)
    expect(page.locator('[data-total="mailings"]')).to_have_text("0")
    look(page, f"mailings-list-{language}")
    page.fill("#mailing-search", "promo")
    expect(page.locator("#mailing-rows tbody tr")).to_have_count(3)
    page.click('[data-sort="name"]')
    expect(page).to_have_url(re.compile(r"sort=name"))
    expect(page.locator("#mailing-rows tbody tr").first).to_contain_text("Promo 0")
    page.goto(f"/mailings/{shop.draft_id}")
    expect(page.locator("#mailing-progress")).to_be_visible()
    expect(page.locator("#mailing-form")).to_have_count(0)
