"""The template library in a real browser, in English and Russian: a designer builds an e-mail in the
visual editor, writes one in code with its live preview, makes SMS, Viber and push templates with the
phone preview and the part counter, previews them for a customer at desktop and mobile widths,
restores a version; a marketer browses the library. Every page is looked at 1280 and 1440 px wide."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from smartcomm.audit.actor import Actor
from smartcomm.kit.db import Database
from smartcomm.personalization.schemas import TemplateCreate
from smartcomm.personalization.service import template_service
from smartcomm.personalization.sms_parts import count_parts
from tests.browser.conftest import check_layout, sign_in, snapshot
from tests.personalization.shop import build_template_shop

LANGUAGES = ["en", "ru"]
COUNTER_TEXTS = (
    "",
    "a" * 160,
    "a" * 161,
    "€" * 80,
    "a" * 152 + "€" + "b" * 10,
    "{}" * 40 + "a",
    "Привет, " * 9,
    "я" * 66 + "😀" + "я" * 5,
    "Hi 😀 [x] ~ ^ | \\ \f",
)
WIDTHS = (1280, 1440)
DESIGNER = Actor("user", None, "Dana Designer <dana@example.com>")
WORDS = {
    "en": {
        "templates": "Templates",
        "saved": "The template was created.",
        "test customer": "Test customer",
        "hello": "hello!",
        "no field": "Subject, line 1: client has no field 'frist_name'",
    },
    "ru": {
        "templates": "Шаблоны",
        "saved": "Шаблон создан.",
        "test customer": "Тестовый клиент",
        "hello": "здравствуйте!",
        "no field": "Тема, строка 1: у client нет поля «frist_name»",
    },
}


def look(page: Page, name: str) -> None:
    """The page fits at both widths the product is checked at (with a screenshot of each when asked)."""
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        snapshot(page, f"{name}-{width}")
    page.set_viewport_size({"width": 1440, "height": 900})
    check_layout(page)


def seed(database: Database, *, with_templates: bool = False) -> dict[str, int]:
    """The test shop (Russian project, customers with receipts and carts), and some templates."""
    with database.session() as session:
        shop = build_template_shop(session, customers=2)
        if with_templates:
            for name, content in (
                (
                    "Скидка выходного дня",
                    {"channel": "sms", "text": "{{ client.first_name }}, скидка 20% в субботу!"},
                ),
                (
                    "Корзина ждёт",
                    {
                        "channel": "push",
                        "title": "{{ client.first_name }}, корзина ждёт",
                        "body": "В корзине {{ containers.cart.count }} товара",
                        "link": "myshop://cart",
                    },
                ),
                (
                    "Новинки недели",
                    {
                        "channel": "viber",
                        "text": "Новинки для вас, {{ client.first_name }}!",
                        "button_text": "Смотреть",
                        "button_url": "https://shop.example/new",
                    },
                ),
            ):
                data = TemplateCreate.model_validate({"name": name, "content": content})
                template_service.create(session, DESIGNER, data)
        session.commit()
        return shop.customers


def drag_block(page: Page, label: re.Pattern[str], *, x: int, y: int) -> None:
    """Drag a block of the visual editor onto its canvas (an iframe), as a mouse does."""
    handle = page.locator(".gjs-block").filter(has_text=label).first
    expect(handle).to_be_visible()
    block, canvas = handle.bounding_box(), page.locator("#gjs iframe.gjs-frame").bounding_box()
    assert block is not None and canvas is not None
    start_x, start_y = block["x"] + block["width"] / 2, block["y"] + block["height"] / 2
    page.mouse.move(start_x, start_y)
    page.mouse.down()
    page.mouse.move(start_x - 10, start_y + 10, steps=5)  # the browser starts dragging only once moved
    page.mouse.move(canvas["x"] + x, canvas["y"] + y, steps=25)
    page.mouse.move(canvas["x"] + x + 10, canvas["y"] + y + 10, steps=10)
    expect(page.locator(".gjs-placeholder").first).to_be_visible()  # where the block will land
    page.mouse.up()


def designer(staff, language: str) -> tuple[str, str]:
    name = "Dana Designer" if language == "en" else "Дарья Дизайнер"
    return staff("designer", full_name=name, language=language)


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_designer_builds_an_email_in_the_visual_editor_and_previews_it(
    page: Page, staff, live_database: Database, language: str
) -> None:
    customers = seed(live_database)
    sign_in(page, *designer(staff, language))
    expect(page).to_have_url(re.compile(r"/templates/email$"))  # the designer's landing page
    expect(page.locator("#first-template")).to_be_visible()
    look(page, f"templates-empty-{language}")

    page.click("#new-template")
    page.click("#new-visual")
    expect(page.locator("#gjs")).to_have_attribute("data-ready", "true", timeout=20_000)
    canvas = page.frame_locator("#gjs iframe.gjs-frame")
    hello = WORDS[language]["hello"]
    expect(canvas.locator("body")).to_contain_text("{{ client.first_name }}, " + hello)

    # Drag a text block from the blocks panel into the e-mail, below the greeting.
    drag_block(page, re.compile(r"^\s*(Text|Текст)\s*$"), x=300, y=100)
    expect(canvas.locator("body")).to_contain_text("Insert text here")

    page.fill("#f-name", "Welcome e-mail" if language == "en" else "Приветственное письмо")
    page.fill("#f-subject", "{{ client.first_name }}, welcome!")
    look(page, f"templates-visual-editor-{language}")
    page.click("#save-template")
    expect(page).to_have_url(re.compile(r"/templates/\d+/edit$"))
    expect(page.locator("#toasts")).to_contain_text(WORDS[language]["saved"])
    expect(page.locator("#save-template")).to_contain_text("2")  # the next save makes version 2

    page.goto("/templates/email")
    card = page.locator("#templates .sc-template-card")
    expect(card).to_have_count(1)
    expect(card.locator("[data-versions]")).to_have_text("v1")
    expect(page.frame_locator(".sc-thumb-frame").locator("body")).to_contain_text(f"Анна, {hello}")
    look(page, f"templates-list-email-{language}")
    page.click("[data-template-menu]")
    page.click("[data-action=preview]")

    expect(page.locator("#test-customer-badge")).to_have_text(WORDS[language]["test customer"])
    expect(page.locator("#rendered-subject")).to_have_text("Анна, welcome!")  # the project is Russian
    frame = page.frame_locator("#preview-frame")
    expect(frame.locator("body")).to_contain_text(f"Анна, {hello}")
    expect(frame.locator("body")).to_contain_text("Insert text here")

    page.fill("#customer-search", "Иванова-2")
    page.click(f"#customer-results [data-customer-id='{customers['C-2']}']")
    expect(page.locator("#rendered-subject")).to_have_text("Мария, welcome!")
    expect(frame.locator("body")).to_contain_text(f"Мария, {hello}")
    look(page, f"templates-preview-desktop-{language}")
    page.click("[data-device-link=mobile]")
    expect(page.locator("#preview-stage")).to_have_attribute("data-device", "mobile")
    expect(page.frame_locator("#preview-frame").locator("body")).to_contain_text(f"Мария, {hello}")
    look(page, f"templates-preview-mobile-{language}")


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_designer_writes_html_code_with_a_live_preview(
    page: Page, staff, live_database: Database, language: str
) -> None:
    seed(live_database)
    sign_in(page, *designer(staff, language))
    page.goto("/templates/email/new?editor=html")
    expect(page.locator(".CodeMirror")).to_be_visible()
    expect(page.frame_locator("#draft-frame").locator("body")).to_contain_text(
        "Анна, " + WORDS[language]["hello"]
    )

    page.click(".CodeMirror")
    page.keyboard.press("Control+A")
    page.keyboard.insert_text(
        "<html><head><style>.total { color: #16a34a; font-weight: bold; }</style></head><body>\n"
        "<h1>Hi {{ client.first_name }}</h1>\n"
        '<p class="total">You bought for {{ client.total_amount|money }}</p>\n</body></html>'
    )
    draft = page.frame_locator("#draft-frame")
    expect(draft.locator("h1")).to_have_text("Hi Анна")
    expect(draft.locator(".total")).to_have_attribute("style", re.compile("color: #16a34a"))
    page.click("[data-device=mobile]")
    expect(page.locator("#draft-stage")).to_have_attribute("data-device", "mobile")
    page.fill("#f-name", "Purchases summary")
    page.fill("#f-subject", "Your purchases")
    look(page, f"templates-code-editor-{language}")

    page.fill("#f-subject", "Your purchases, {{ client.frist_name }}")
    page.click("#save-template")
    expect(page.locator("#template-problems")).to_contain_text(WORDS[language]["no field"])
    expect(page.locator("#f-subject")).to_have_value("Your purchases, {{ client.frist_name }}")
    look(page, f"templates-code-editor-errors-{language}")
    page.fill("#f-subject", "Your purchases, {{ client.first_name }}")
    page.click("#save-template")
    expect(page).to_have_url(re.compile(r"/templates/\d+/edit$"))
    expect(page.frame_locator("#draft-frame").locator("h1")).to_have_text("Hi Анна")


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_designer_makes_an_sms_with_the_part_counter_and_the_phone_preview(
    page: Page, staff, live_database: Database, language: str
) -> None:
    customers = seed(live_database)
    sign_in(page, *designer(staff, language))
    page.goto("/templates/sms")
    page.click("#new-template")
    page.fill("#f-text", "Hello ")
    page.click("#variables .sc-var[data-insert='{{ client.first_name }}']")
    expect(page.locator("#f-text")).to_have_value("Hello {{ client.first_name }}")
    expect(page.locator("#phone-preview .sc-bubble")).to_contain_text("Hello {{ client.first_name }}")
    expect(page.locator("[data-count=encoding]")).to_have_text("GSM-7")
    expect(page.locator("[data-count=units]")).to_have_text("33")  # braces are GSM-7 extensions: 2 each
    expect(page.locator("[data-count=parts]")).to_have_text("1")

    page.fill(
        "#f-text",
        "{{ client.first_name }}, ваша скидка 20% действует до воскресенья! Покажите это SMS на кассе.",
    )
    expect(page.locator("[data-count=encoding]")).to_have_text("UCS-2")
    expect(page.locator("[data-count=parts]")).to_have_text("2")
    expect(page.locator("[data-count=units]")).to_have_text("93")
    expect(page.locator("[data-count=remaining]")).to_have_text("41")
    page.fill("#f-name", "Weekend sale")
    look(page, f"templates-sms-editor-{language}")
    # The page counts exactly as the server does (personalization/sms_parts.py).
    for text in COUNTER_TEXTS:
        counted = page.evaluate("text => window.smartcommTemplates.countParts(text)", text)
        expected = count_parts(text)
        assert (counted["encoding"], counted["units"], counted["parts"], counted["remaining"]) == (
            expected.encoding,
            expected.units,
            expected.parts,
            expected.remaining,
        ), text
    page.click("#save-template")
    expect(page).to_have_url(re.compile(r"/templates/\d+/edit$"))

    page.click("#open-preview")
    expect(page.locator("#rendered-message")).to_contain_text("Анна, ваша скидка 20%")
    page.fill("#customer-search", "maria1@example.com")
    page.click(f"#customer-results [data-customer-id='{customers['C-1']}']")
    expect(page.locator("#rendered-message")).to_contain_text("Мария, ваша скидка 20%")
    expect(page.locator("#sms-parts")).to_have_text("2")
    look(page, f"templates-sms-preview-{language}")


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_designer_makes_viber_and_push_templates(
    page: Page, staff, live_database: Database, language: str
) -> None:
    seed(live_database)
    sign_in(page, *designer(staff, language))
    page.goto("/templates/viber/new")
    page.fill("#f-name", "New arrivals")
    page.fill("#f-text", "{{ client.first_name }}, new arrivals are in!")
    page.fill("#f-button_text", "Shop now")
    page.fill("#f-button_url", "https://shop.example/new")
    expect(page.locator("#phone-preview .sc-bubble-button")).to_have_text("Shop now")
    look(page, f"templates-viber-editor-{language}")
    page.click("#save-template")
    expect(page).to_have_url(re.compile(r"/templates/\d+/edit$"))
    page.click("#open-preview")
    expect(page.locator("#rendered-message")).to_contain_text("Анна, new arrivals are in!")
    expect(page.locator("#rendered-message .sc-bubble-button")).to_have_attribute(
        "href", "https://shop.example/new"
    )

    page.goto("/templates/push/new")
    page.fill("#f-name", "Cart reminder")
    page.fill("#f-title", "{{ client.first_name }}, your cart")
    page.fill("#f-body", "{{ containers.cart.count }} items are waiting")
    page.fill("#f-link", "myshop://cart")
    expect(page.locator("#phone-preview .sc-push-title")).to_have_text("{{ client.first_name }}, your cart")
    look(page, f"templates-push-editor-{language}")
    page.click("#save-template")
    expect(page).to_have_url(re.compile(r"/templates/\d+/edit$"))
    page.click("#open-preview")
    expect(page.locator("#rendered-title")).to_have_text("Анна, your cart")
    expect(page.locator("#rendered-link")).to_have_text("myshop://cart")
    look(page, f"templates-push-preview-{language}")


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_designer_restores_an_earlier_version(
    page: Page, staff, live_database: Database, language: str
) -> None:
    seed(live_database, with_templates=True)
    sign_in(page, *designer(staff, language))
    page.goto("/templates/sms")
    page.click("[data-template-name='Скидка выходного дня'] [data-template-link]")
    page.fill("#f-text", "{{ client.first_name }}, скидка 30% в воскресенье!")
    page.click("#save-template")
    page.click("#open-versions")
    expect(page.locator("#versions tbody tr")).to_have_count(2)
    look(page, f"templates-versions-{language}")
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#versions tr[data-version='1'] [data-action=restore]")
    expect(page.locator("#versions tbody tr")).to_have_count(3)
    expect(page.locator("#versions tr[data-version='3']")).to_contain_text("скидка 20% в субботу")


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_marketer_browses_the_library_and_previews_but_does_not_edit(
    page: Page, staff, live_database: Database, language: str
) -> None:
    seed(live_database, with_templates=True)
    name = "Mila Marketer" if language == "en" else "Мила Маркетолог"
    sign_in(page, *staff("marketer", full_name=name, language=language))
    page.goto("/templates/sms")
    expect(page.locator("#main-menu")).to_contain_text(WORDS[language]["templates"])
    expect(page.locator("#templates .sc-template-card")).to_have_count(1)
    expect(page.locator("#new-template")).to_have_count(0)
    expect(page.locator("#channel-tabs [data-channel=push] .badge")).to_have_text("1")
    look(page, f"templates-list-sms-marketer-{language}")
    page.click("#channel-tabs [data-channel=viber]")
    expect(page.locator("#templates .sc-template-card")).to_contain_text("Новинки недели")
    look(page, f"templates-list-viber-marketer-{language}")
    page.click("#channel-tabs [data-channel=push]")
    page.click("[data-template-name='Корзина ждёт'] [data-template-link]")
    expect(page).to_have_url(re.compile(r"/preview$"))
    expect(page.locator("#edit-template")).to_have_count(0)
    expect(page.locator("#rendered-title")).to_have_text("Анна, корзина ждёт")
