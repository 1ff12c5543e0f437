"""Messages → Outbox and the customer's Communications in a real browser: a Marketer (English) finds a
message, looks at the e-mail in its sandboxed frame and simulates a click; an Operator (Russian) goes from a
customer's Communications to the Viber leg of a cascade, shown as a phone would, and delivers it."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from playwright.sync_api import Page, expect

from smartcomm.config import config
from smartcomm.delivery.ledger import Source
from smartcomm.delivery.repository import LedgerRepository
from smartcomm.delivery.schemas import InlineSource, PlanRequest
from smartcomm.delivery.service import delivery_service
from smartcomm.kit.db import Database
from smartcomm.personalization.renderer import renderer
from tests.browser.conftest import check_layout, sign_in, snapshot
from tests.delivery.helpers import email_template, make_customer, text_template

WIDTHS = (1280, 1440)


@dataclass
class Sent:
    customer_id: int
    email_id: int
    viber_id: int
    sms_id: int


def look(page: Page, name: str) -> None:
    check_layout(page)
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        snapshot(page, f"{name}-{width}")


def transactional(
    channel: str, customer_id: int, occurrence: str, context: dict[str, str] | None = None, **values: object
) -> PlanRequest:
    options = {"deliver_immediately": True, "context": context or {}}
    fields = {
        "source_kind": Source.TRANSACTIONAL,
        "source_id": 1,
        "channel": channel,
        "customer_id": customer_id,
    }
    return PlanRequest(**(fields | {"occurrence": occurrence, "options": options} | values))  # type: ignore[arg-type]


def send_some(database: Database) -> Sent:
    """An e-mail, a Viber → SMS cascade to a number the sandbox's Viber does not reach, an SMS to a
    landline, and a few more e-mails — all through the sandbox (sent in this process after the commit)."""
    renderer.forget()
    with database.session() as session:
        olga = make_customer(
            session, first_name="Olga", last_name="Smirnova", phone="+79161234567", email="olga@example.com"
        )
        landline = make_customer(session, first_name="Boris", phone="+74951234567", phone_type="landline")
        others = [make_customer(session, first_name="Ivan") for _ in range(5)]
        email = email_template(session, subject="Your order {{ event.order }} is on its way")
        sms = text_template(session, "sms", "{{ client.first_name }}, your order is ready to collect")
        viber = InlineSource(
            "viber",
            {
                "body": "{{ client.first_name }}, your order is ready to collect",
                "button_text": "Track order",
                "button_url": "https://shop.example/track",
                "image_url": None,
            },
        )
        first = delivery_service.plan(
            session,
            [
                transactional("email", olga.id, "o-1", {"order": "A-1042"}, template_version_id=email.id),
                transactional("sms", landline.id, "s-1", template_version_id=sms.id),
                *[
                    transactional(
                        "email", c.id, f"g-{c.id}", {"order": f"B-{c.id}"}, template_version_id=email.id
                    )
                    for c in others
                ],
            ],
        )
        viber_leg = delivery_service.plan(session, [transactional("viber", olga.id, "v-1", inline=viber)])[0]
        sms_leg = transactional(
            "sms", olga.id, "v-1", template_version_id=sms.id, part="cascade-sms", cascade_of=viber_leg.id
        )
        second = delivery_service.plan(session, [sms_leg])[0]
        session.commit()
        return Sent(olga.id, first[0].id, viber_leg.id, second.id)


def test_a_marketer_finds_a_message_and_simulates_a_click(page: Page, staff, live_database: Database) -> None:
    sent = send_some(live_database)
    email, password = staff("marketer", full_name="Maria Marketer")
    sign_in(page, email, password)
    page.click('[data-section="messages"] a')
    expect(page).to_have_url(re.compile(r"/outbox$"))
    expect(page.locator("#messages tbody tr")).to_have_count(9)
    expect(page.locator(f'tr[data-message-id="{sent.sms_id}"] [data-reason="cascade_wait"]')).to_be_visible()
    look(page, "outbox-list")

    page.select_option("#filter-status", "suppressed")
    expect(page.locator("#messages tbody tr")).to_have_count(1)
    expect(page.locator("#messages [data-reason=landline]")).to_have_text("Suppressed")
    page.click("#reset-filters")
    page.fill("#outbox-search", "ivan")
    expect(page.locator("#messages tbody tr")).to_have_count(5)

    page.goto(f"/outbox/{sent.email_id}")
    expect(page.locator("#message-subject")).to_have_text("Your order A-1042 is on its way")
    expect(page.frame_locator("#mail-frame").locator("body")).to_contain_text("Dear Olga")
    expect(page.locator('[data-header="List-Unsubscribe"]')).to_be_visible()
    expect(page.locator("#history [data-event]")).to_have_count(3)
    look(page, "outbox-email")

    page.click("#simulate-clicked")
    expect(page.locator("#toasts")).to_contain_text("A link of the message was clicked.")
    expect(page.locator('#message-status [data-status="clicked"]')).to_be_visible()
    expect(page.locator('[data-kpi="clicks"]')).to_have_text("1")
    expect(page.locator('#history [data-event="clicked"]')).to_be_visible()


def test_a_marketer_opens_a_sandbox_e_mail_as_its_recipient_and_follows_its_tracked_link(
    page: Page, staff, live_database: Database, live_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(config, "public_base_url", live_server)  # the links in the e-mail lead to this server
    sent = send_some(live_database)
    email, password = staff("marketer", full_name="Maria Marketer")
    sign_in(page, email, password)
    page.goto(f"/outbox/{sent.email_id}")
    opened_for_shop: list[str] = []
    page.context.route(
        "https://shop.example/**",
        lambda route: (opened_for_shop.append(route.request.url), route.fulfill(status=200, body="shop")),
    )
    with page.context.expect_page() as opened:
        page.click("#open-as-recipient")
    mailbox = opened.value
    mailbox.wait_for_load_state()
    expect(mailbox.locator("body")).to_contain_text("Dear Olga")
    link = mailbox.locator("a", has_text="the sale")
    expect(link).to_have_attribute("href", re.compile(r"/t/c/"))  # tracked, not the shop's address

    link.click()
    mailbox.wait_for_url("https://shop.example/sale")
    assert opened_for_shop == ["https://shop.example/sale"]
    with live_database.session() as session:
        kinds = [row.kind for row in LedgerRepository(session).history(sent.email_id)]
    assert "opened" in kinds and "clicked" in kinds  # a headless browser's, so flagged as a machine's


def test_an_operator_follows_a_cascade_from_the_customers_communications_in_russian(
    page: Page, staff, live_database: Database
) -> None:
    sent = send_some(live_database)
    email, password = staff("operator", full_name="Ольга Оператор", language="ru")
    sign_in(page, email, password)
    page.goto(f"/customers/{sent.customer_id}")
    page.click("#tab-communications")
    expect(page.locator("#communications [data-message-id]")).to_have_count(3)
    expect(page.locator('#communications-summary [data-count="delivered"]')).to_contain_text("Доставлено")
    look(page, "communications-ru")

    page.click(f'#communications [data-message-id="{sent.viber_id}"] a.sc-excerpt')
    expect(page).to_have_url(re.compile(rf"/outbox/{sent.viber_id}$"))
    expect(page.locator("h2.page-title")).to_have_text(f"Сообщение №{sent.viber_id}")
    expect(page.locator("#rendered-message .sc-bubble-button")).to_have_text("Track order")
    expect(page.locator('#cascade [data-leg] [data-reason="cascade_wait"]')).to_have_text("Запланировано")
    look(page, "outbox-viber-ru")

    page.click("#simulate-delivered")
    expect(page.locator("#toasts")).to_contain_text("Сообщение отмечено как доставленное.")
    expect(page.locator('#cascade [data-leg] [data-reason="cascade_delivered"]')).to_have_text("Отменён")
    page.click(f'#cascade [data-leg="{sent.sms_id}"]')
    expect(page.locator("#history [data-event=cancelled]")).to_contain_text("Отменён")


def test_an_administrator_sets_the_send_time_windows(page: Page, staff) -> None:
    email, password = staff("administrator")
    sign_in(page, email, password)
    page.goto("/settings/general")
    expect(page.locator("#f-sms_window")).to_be_checked()
    expect(page.locator("#f-email_window")).not_to_be_checked()
    look(page, "settings-delivery")
    page.check("#f-email_window")
    page.fill("#f-email_window_start", "10:00")
    page.fill("#f-email_window_end", "10:30")
    page.click("#save-general")
    expect(page.locator("#delivery-channels")).to_contain_text("the window must be at least an hour long")
    page.fill("#f-email_window_end", "19:00")
    page.fill("#f-email_cap", "3")
    page.click("#save-general")
    expect(page.locator("#toasts")).to_contain_text("Settings saved.")
    expect(page.locator("#f-email_window")).to_be_checked()
    expect(page.locator("#f-email_cap")).to_have_value("3")
