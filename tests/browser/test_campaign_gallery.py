"""Instant campaigns in a real browser: a Marketer looks through the gallery, uses "Abandoned cart" and
lands in the editor on the new draft; in Russian, "Birthday" with its promo-code group present; an Analyst
sees the gallery but cannot use it."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect
from sqlalchemy import select

from smartcomm.kit.db import Database
from smartcomm.models import Campaign, PromoCodeGroup
from smartcomm.personalization.renderer import renderer
from tests.browser.conftest import check_layout, sign_in, snapshot

RECIPES = 7


def look_through_the_gallery(page: Page, name: str) -> None:
    page.goto("/campaigns/gallery")
    expect(page.locator("[data-recipe]")).to_have_count(RECIPES)
    expect(page.locator('[data-recipe="birthday"] [data-diagram] rect')).to_have_count(5)
    expect(page.locator('[data-recipe="abandoned_cart"] [data-need="tracker"]')).to_be_visible()
    check_layout(page)
    snapshot(page, f"campaign-gallery-{name}")


def made_campaign(database: Database, url: str) -> Campaign:
    campaign_id = int(re.search(r"/campaigns/(\d+)$", url).group(1))  # type: ignore[union-attr]
    with database.session() as session:
        found = session.get(Campaign, campaign_id)
        assert found is not None
        session.expunge(found)
        return found


def test_a_marketer_uses_the_abandoned_cart_recipe(page: Page, staff, live_database: Database) -> None:
    renderer.forget()
    email, password = staff("marketer", full_name="Maria Marketer")
    sign_in(page, email, password)

    look_through_the_gallery(page, "en")
    page.click('[data-use="abandoned_cart"]')

    expect(page).to_have_url(re.compile(r"/campaigns/\d+$"))
    campaign = made_campaign(live_database, page.url)
    assert (campaign.name, campaign.status, campaign.trigger_kind) == (
        "Abandoned cart",
        "draft",
        "trigger.lost_cart",
    )
    snapshot(page, "campaign-gallery-used-en")


def test_in_russian_the_birthday_recipe_finds_its_promo_code_group(
    page: Page, staff, live_database: Database
) -> None:
    renderer.forget()
    with live_database.session() as session:
        session.add(PromoCodeGroup(code="BIRTHDAY", name="День рождения"))
        session.commit()
    email, password = staff("marketer", full_name="Мария Маркетолог", language="ru")
    sign_in(page, email, password)

    look_through_the_gallery(page, "ru")
    expect(page.locator('[data-recipe="birthday"] [data-need="group"]')).to_have_attribute(
        "data-found", "yes"
    )
    expect(page.locator('[data-recipe="birthday"] h3')).to_have_text("День рождения с промокодом")
    page.click('[data-use="birthday"]')

    expect(page).to_have_url(re.compile(r"/campaigns/\d+$"))
    campaign = made_campaign(live_database, page.url)
    assert campaign.name == "День рождения с промокодом"
    with live_database.session() as session:
        assert session.scalars(select(PromoCodeGroup.code)).all() == ["BIRTHDAY"]


def test_an_analyst_sees_the_gallery_without_using_it(page: Page, staff) -> None:
    email, password = staff("analyst")
    sign_in(page, email, password)

    page.goto("/campaigns/gallery")

    expect(page.locator("[data-recipe]")).to_have_count(RECIPES)
    expect(page.locator("[data-use]")).to_have_count(0)
