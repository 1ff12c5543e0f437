"""The public poll page in a real browser at a phone's size (375×740) and on a desktop, in English and
Russian: a customer from a message answers, sees the conditional question appear after choosing its
option, submits, is thanked, and on reloading is told the poll was already answered."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from smartcomm.kit import i18n
from smartcomm.kit.db import Database
from smartcomm.models import PollResponse
from tests.browser.conftest import snapshot, watch_for_page_errors
from tests.polls.helpers import make_customer, make_message, make_poll, poll_link

LOCALES = {"en": "en-US", "ru": "ru-RU"}
PHONE = {"width": 375, "height": 740}
FITS = "() => document.documentElement.scrollWidth <= window.innerWidth + 1"


def words(language: str, text: str) -> str:
    """The page's text in the language under test (from the catalog the page itself uses)."""
    with i18n.language(language):
        return i18n.gettext_(text)


@pytest.fixture(params=["en", "ru"])
def phone(request: pytest.FixtureRequest, browser: Browser, live_server: str) -> Iterator[Page]:
    context = browser.new_context(
        base_url=live_server, viewport=PHONE, locale=LOCALES[request.param], is_mobile=True, has_touch=True
    )
    context.set_default_timeout(10_000)
    problems = watch_for_page_errors(context)
    page = context.new_page()
    page.language = request.param  # type: ignore[attr-defined]
    yield page
    context.close()
    assert problems == [], "the pages logged errors or CSP violations:\n" + "\n".join(problems)


@pytest.fixture
def link(live_database: Database) -> tuple[str, int]:
    with live_database.session() as session:
        poll = make_poll(session, thank_you="See you soon!")
        customer = make_customer(session)
        message = make_message(session, customer, source_kind="mailing", source_id=4)
        session.commit()
        return poll_link(poll, customer.id, message.id), customer.id


def test_a_customer_answers_on_a_phone(phone: Page, link: tuple[str, int], live_database: Database) -> None:
    page, language = phone, phone.language  # type: ignore[attr-defined]
    url, customer_id = link
    page.goto(url)
    expect(page.locator("html")).to_have_attribute("lang", language)
    expect(page.locator("#page-title")).to_have_text("Shopping habits")
    expect(page.locator("#question-q1 .poll-required")).to_be_visible()
    conditional = page.locator("#question-q3")
    expect(conditional).to_be_hidden()
    assert page.evaluate(FITS), "the poll scrolls sideways on a phone"
    # The matrix is a stack of radio groups on a phone: each option's label beside its radio.
    expect(page.locator("#question-q4 thead")).to_be_hidden()
    expect(page.locator("#question-q4 tr[data-row=price] .poll-cell-label").first).to_be_visible()
    snapshot(page, f"poll-{language}-phone")

    page.get_by_text("Online", exact=True).click()
    expect(conditional).to_be_hidden()
    page.get_by_text("Elsewhere", exact=True).click()
    expect(conditional).to_be_visible()
    # At most two things to buy: the third box cannot be ticked.
    page.get_by_text("Food", exact=True).click()
    page.get_by_text("Books", exact=True).click()
    expect(page.locator("#question-q2 input[value=toys]")).to_be_disabled()
    page.locator("#question-q4 tr[data-row=staff] input[value=good]").check()

    page.click("#poll-submit")  # the open question is required now that it is shown
    expect(page.locator("[data-error-for=q3]")).to_have_text(words(language, "Please answer this question"))
    expect(page.locator("#question-q1 input[value=other]")).to_be_checked()
    expect(conditional).to_be_visible()
    conditional.locator("textarea").fill("At the market")
    page.click("#poll-submit")

    expect(page.locator("#page-title")).to_have_text(words(language, "Thank you!"))
    expect(page.locator("#page-text")).to_have_text("See you soon!")
    snapshot(page, f"poll-{language}-thanks")
    page.goto(url)
    expect(page.locator("#page-title")).to_have_text(words(language, "You have already answered this poll"))
    with live_database.session() as session:
        answers = session.scalars(
            select(PollResponse.answers).where(PollResponse.customer_id == customer_id)
        ).one()
    assert answers == {"q1": "other", "q2": ["food", "books"], "q3": "At the market", "q4": {"staff": "good"}}


def test_the_matrix_is_a_table_on_a_desktop(
    browser: Browser, live_server: str, link: tuple[str, int]
) -> None:
    context = browser.new_context(
        base_url=live_server, viewport={"width": 1280, "height": 900}, locale="en-US"
    )
    problems = watch_for_page_errors(context)
    page = context.new_page()
    page.goto(link[0])
    expect(page.locator("#question-q4 thead")).to_be_visible()
    label = page.locator("#question-q4 .poll-cell-label").first.bounding_box()  # read aloud, not shown
    assert label is not None and label["width"] <= 1
    assert page.evaluate(FITS)
    snapshot(page, "poll-en-desktop")
    context.close()
    assert problems == []
