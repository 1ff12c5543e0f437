"""The segment builder's communication metrics in a real browser: a marketer picks a mailing by name and
counts communications by channel, in English and in Russian."""

from __future__ import annotations

import re
from datetime import timedelta

from playwright.sync_api import Page, expect

from smartcomm.kit.db import Database
from smartcomm.kit.time import utcnow
from tests.browser.conftest import check_layout, sign_in, snapshot
from tests.browser.test_segments import add_condition, choose, live_count
from tests.delivery.helpers import make_customer
from tests.segments.communications_data import make_mailing, make_message


def seed(database: Database) -> None:
    """Anna and Boris received the spring mailing, Vera's bounced; an autumn SMS reached Vera."""
    with database.session() as session:
        anna, boris, vera = (
            make_customer(session, external_id=name).id for name in ("anna", "boris", "vera")
        )
        spring, autumn = (
            make_mailing(session, "Spring sale").id,
            make_mailing(session, "Autumn", "sms_viber").id,
        )
        sent = utcnow() - timedelta(days=2)
        make_message(
            session, anna, source_id=spring, status="opened", handed_over_at=sent, opened_at=sent, opens=1
        )
        make_message(session, boris, source_id=spring, status="delivered", handed_over_at=sent)
        make_message(session, vera, source_id=spring, status="failed", handed_over_at=sent)
        make_message(session, vera, source_id=autumn, channel="sms", status="delivered", handed_over_at=sent)
        session.commit()


def test_a_marketer_picks_a_mailing_and_counts_communications(
    page: Page, staff, live_database: Database
) -> None:
    seed(live_database)
    email, password = staff("marketer")
    sign_in(page, email, password)
    page.goto("/segments/new")
    expect(live_count(page)).to_have_text("3")

    received = add_condition(page, "received", "communications.received")
    choose(received, "mailing", "spring", "Spring sale")
    expect(live_count(page)).to_have_text("2")  # Anna and Boris: Vera's e-mail bounced

    counted = add_condition(page, "number of comm", "communications.count")
    channel = counted.locator('[data-param="channel"] [data-channel]')
    expect(channel).to_have_value("")  # any channel until one is chosen
    expect(channel.locator("option").first).to_have_text("any channel")
    counted.locator("[data-value]").fill("1")
    expect(live_count(page)).to_have_text("2")
    channel.select_option("sms")
    expect(live_count(page)).to_have_text("0")  # Vera's SMS, but she did not receive the spring mailing
    # (add_condition's locator is the last condition: name the first one again.)
    page.locator("[data-condition]").first.locator("[data-negate]").click()
    expect(live_count(page)).to_have_text("1")
    snapshot(page, "segment-communication-metrics")
    check_layout(page)

    page.fill("#f-name", "SMS, not the spring mailing")
    page.click("#save-segment")
    expect(page).to_have_url(re.compile(r"/segments/\d+$"))
    expect(page.locator("#segment-rules")).to_contain_text("Received the mailing Spring sale")
    expect(page.locator("[data-kpi=members] .sc-kpi-value")).to_have_text("1")


def test_a_marketer_finds_the_communication_metrics_in_russian(
    page: Page, staff, live_database: Database
) -> None:
    seed(live_database)
    email, password = staff("marketer", language="ru")
    sign_in(page, email, password)
    page.goto("/segments/new")

    page.click("#builder-add-condition")
    page.locator("[data-metric-search]").fill("коммуникац")
    expect(page.locator("[data-metric-menu] .sc-menu-group")).to_have_text(["Коммуникации"])
    page.locator('[data-metric="communications.opened"]').click()
    opened = page.locator("[data-condition]").last
    expect(opened).to_contain_text("Открыл рассылку")
    choose(opened, "mailing", "spring", "Spring sale")
    expect(live_count(page)).to_have_text("1")  # Anna opened it

    days = add_condition(page, "дней с последней", "communications.days_since_last")
    expect(days.locator('[data-param="channel"] [data-channel] option').first).to_have_text("любой канал")
    snapshot(page, "segment-communication-metrics-ru")
    check_layout(page)
