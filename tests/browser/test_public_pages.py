"""The customer-facing pages in a real browser, in English and Russian, at desktop and phone widths: the
unsubscribe page (and its thank-you page), the preferences page, the e-mail confirmation page and the
page of a link that is not valid — as a customer arriving from a message, with no sign-in."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from smartcomm.audit.actor import Actor
from smartcomm.delivery.tokens import Purpose, sign
from smartcomm.kit.db import Database
from smartcomm.models import Customer, EmailConfirmation, Subscription, UnsubscribeRecord
from smartcomm.settings.schemas import DesignSettings
from smartcomm.settings.service import settings_service
from tests.browser.conftest import snapshot, watch_for_page_errors
from tests.tracking_public.helpers import make_category, make_customer, make_message, subscribe

# The laptops and monitors, and a phone (an iPhone's CSS width).
WIDTHS = (1280, 1440, 390)
LOCALES = {"en": "en-US", "ru": "ru-RU"}
WORDS = {
    "en": {
        "unsubscribe": "Unsubscribe",
        "only": "Only “Promotions”",
        "everything": "All e-mails from My company",
        "reason": "I receive messages too often",
        "done": "You will no longer get e-mails from us.",
        "thanks": "Thank you",
        "preferences": "Your subscriptions",
        "saved": "Your choice has been saved.",
        "confirm": "Confirm my address",
        "confirmed": "Your e-mail address is confirmed.",
        "invalid": "This link is not valid",
    },
    "ru": {
        "unsubscribe": "Отписаться",
        "only": "Только «Promotions»",
        "everything": "Все письма от My company",
        "reason": "Я получаю сообщения слишком часто",
        "done": "Вы больше не будете получать от нас письма.",
        "thanks": "Спасибо",
        "preferences": "Ваши подписки",
        "saved": "Ваш выбор сохранён.",
        "confirm": "Подтвердить адрес",
        "confirmed": "Ваш адрес e-mail подтверждён.",
        "invalid": "Неверная ссылка",
    },
}
PHONE_FITS = """() => document.documentElement.scrollWidth <= window.innerWidth + 1"""


@dataclass
class Reader:
    """A customer with a promotional e-mail in the ledger, and the links it carried."""

    customer_id: int
    message_id: int
    confirmation_id: int

    @property
    def unsubscribe(self) -> str:
        return f"/u/{sign(Purpose.UNSUBSCRIBE, self.message_id)}"

    @property
    def preferences(self) -> str:
        return f"/p/{sign(Purpose.PREFERENCES, self.message_id)}"

    @property
    def confirm(self) -> str:
        return f"/confirm/{sign(Purpose.CONFIRM, self.confirmation_id)}"


@pytest.fixture
def reader(live_database: Database) -> Reader:
    with live_database.session() as session:
        customer = make_customer(session, first_name="Anna")
        promo = make_category(session, "promo", "Promotions")
        make_category(session, "news", "News")
        subscribe(session, customer, promo)
        message = make_message(session, customer, category=promo)
        confirmation = EmailConfirmation(
            customer_id=customer.id, email=customer.email or "", message_id=message.id
        )
        session.add(confirmation)
        settings_service.update(session, Actor.system("tests"), DesignSettings, {"primary_color": "#e8590c"})
        session.commit()
        return Reader(customer.id, message.id, confirmation.id)


@pytest.fixture(params=["en", "ru"])
def customer_page(request: pytest.FixtureRequest, browser: Browser, live_server: str) -> Iterator[Page]:
    """A browser that speaks the language of the test, without any sign-in."""
    context = browser.new_context(
        base_url=live_server, viewport={"width": 1440, "height": 900}, locale=LOCALES[request.param]
    )
    context.set_default_timeout(10_000)
    problems = watch_for_page_errors(context)
    page = context.new_page()
    page.language = request.param  # type: ignore[attr-defined]
    yield page
    context.close()
    assert problems == [], "the pages logged errors or CSP violations:\n" + "\n".join(problems)


def look(page: Page, name: str) -> None:
    """The page at every width, fitting the phone's without sideways scrolling."""
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 844 if width == 390 else 900})
        snapshot(page, f"{name}-{width}")
        assert page.evaluate(PHONE_FITS), f"{page.url} scrolls sideways at {width}px"
    page.set_viewport_size({"width": 1440, "height": 900})


def test_a_customer_unsubscribes_from_the_whole_channel(
    customer_page: Page, reader: Reader, live_database: Database
) -> None:
    page, language = customer_page, customer_page.language  # type: ignore[attr-defined]
    words = WORDS[language]
    page.goto(reader.unsubscribe)
    expect(page.locator("html")).to_have_attribute("lang", language)
    expect(page.locator("#page-title")).to_have_text(words["unsubscribe"])
    expect(page.locator("#scope-category")).to_be_checked()
    expect(page.get_by_text(words["only"])).to_be_visible()
    expect(page.locator("#recipient")).to_contain_text("•••@example.com")
    look(page, f"public-unsubscribe-{language}")

    page.get_by_text(words["everything"]).click()
    page.get_by_text(words["reason"]).click()
    page.fill("#comment", "—")
    page.click("#unsubscribe-button")
    expect(page.locator("#page-title")).to_have_text(words["thanks"])
    expect(page.locator("#outcome")).to_have_text(words["done"])
    look(page, f"public-unsubscribed-{language}")
    with live_database.session() as session:
        customer = session.get(Customer, reader.customer_id)
        assert customer is not None and customer.allow_email is False
        record = session.scalars(select(UnsubscribeRecord)).one()
        assert (record.scope, record.reason_code) == ("channel", "too_often")


def test_a_customer_changes_the_preferences(
    customer_page: Page, reader: Reader, live_database: Database
) -> None:
    page, language = customer_page, customer_page.language  # type: ignore[attr-defined]
    words = WORDS[language]
    page.goto(reader.preferences)
    expect(page.locator("#page-title")).to_have_text(words["preferences"])
    expect(page.locator("#sub-promo-email")).to_be_checked()
    look(page, f"public-preferences-{language}")
    page.locator("[data-channel=sms] .pp-switch").uncheck()
    page.locator("label:has(#sub-news-email)").click()
    page.click("#save-preferences")
    expect(page.locator("#saved")).to_contain_text(words["saved"])
    expect(page.locator("#allow-sms")).not_to_be_checked()
    expect(page.locator("#sub-news-email")).to_be_checked()
    look(page, f"public-preferences-saved-{language}")
    with live_database.session() as session:
        customer = session.get(Customer, reader.customer_id)
        assert customer is not None and customer.allow_sms is False
        cells = session.scalars(select(Subscription).where(Subscription.customer_id == reader.customer_id))
        assert sorted((c.channel, c.subscribed) for c in cells) == [("email", True), ("email", True)]


def test_a_customer_confirms_the_address(
    customer_page: Page, reader: Reader, live_database: Database
) -> None:
    page, language = customer_page, customer_page.language  # type: ignore[attr-defined]
    words = WORDS[language]
    page.goto(reader.confirm)
    expect(page.locator("#confirm-button")).to_have_text(words["confirm"])
    look(page, f"public-confirm-{language}")
    page.click("#confirm-button")
    expect(page.locator("#outcome")).to_have_text(words["confirmed"])
    with live_database.session() as session:
        customer = session.get(Customer, reader.customer_id)
        assert customer is not None and customer.confirmed_email == customer.email


def test_a_link_that_is_not_valid_gets_a_branded_page(customer_page: Page, reader: Reader) -> None:
    page, language = customer_page, customer_page.language  # type: ignore[attr-defined]
    response = page.goto("/u/this-is-not-a-token")
    assert response is not None and response.status == 404
    expect(page.locator("#page-title")).to_have_text(WORDS[language]["invalid"])
    look(page, f"public-invalid-{language}")
    page.click(f"[data-lang={'en' if language == 'ru' else 'ru'}]")
    expect(page.locator("html")).to_have_attribute("lang", "en" if language == "ru" else "ru")
