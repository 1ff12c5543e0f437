"""Settings → Channels → E-mail → Deliverability in a real browser, as an administrator in English and in
Russian: the domain check against a DNS server on loopback, the rate charts, and the warm-up form."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta

import pytest
from playwright.sync_api import Page, expect

from smartcomm.campaigns.engine import project_zone
from smartcomm.config import config
from smartcomm.kit.db import Database
from smartcomm.kit.time import utcnow
from smartcomm.models import Customer, Message
from tests.browser.conftest import check_layout, sign_in, snapshot
from tests.channels.dns_server import dns_server

WORDS = {
    "en": {"title": "Deliverability", "check": "Check domain", "pass": "Passing", "missing": "Missing"},
    "ru": {
        "title": "Доставляемость",
        "check": "Проверить домен",
        "pass": "Проходит",
        "missing": "Не найдено",
    },
}


def sent_e_mail(live_database: Database) -> None:
    """Two days of e-mail: 200 sent with 3 hard bounces yesterday, 150 clean today (project days: in the
    evening UTC, Moscow's day has already turned)."""
    now = utcnow()
    with live_database.session() as session:
        zone = project_zone(session)
        midnight = datetime.combine(now.astimezone(zone).date(), time(), zone).astimezone(UTC)
        today, yesterday = max(midnight, now - timedelta(minutes=5)), midnight - timedelta(hours=12)
        customer = Customer(external_id="R-1", email="reader@example.com", email_valid=True)
        session.add(customer)
        session.flush()
        for index in range(350):
            when = yesterday if index < 200 else today
            bounced = index < 3
            session.add(
                Message(
                    idempotency_key=f"browser-{index}",
                    source_kind="mailing",
                    source_id=1,
                    customer_id=customer.id,
                    channel="email",
                    status="failed" if bounced else "delivered",
                    reason="bounced" if bounced else None,
                    recipient="reader@example.com",
                    created_at=when,
                    next_attempt_at=when,
                    sent_at=when,
                )
            )
        session.commit()


@pytest.mark.parametrize("language", ["en", "ru"])
def test_an_administrator_checks_the_domain_and_sets_up_warm_up(
    page: Page, staff, live_database: Database, language: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    words = WORDS[language]
    sent_e_mail(live_database)
    sign_in(page, *staff("administrator", language=language))
    page.goto("/settings/channels")
    page.click("#open-deliverability")
    expect(page.locator("h2.page-title")).to_have_text(words["title"])
    expect(page.locator("#sandbox-note")).to_be_visible()
    expect(page.locator("#rate-days tbody tr")).to_have_count(2)
    expect(page.locator('[data-total="bounce"] [data-level]')).to_have_attribute("data-level", "ok")
    page.wait_for_function("() => window.Chart && Chart.getChart('bounce-chart') !== undefined")

    records = {"shop.example": ["v=spf1 mx ~all"], "_dmarc.shop.example": ["v=DMARC1; p=reject"]}
    with dns_server(records) as server:
        monkeypatch.setattr(config, "dns_nameserver", server.address)
        page.fill("#f-domain", "shop.example")
        page.click("#check-domain")
        expect(page.locator("#domain-checks[data-checked='shop.example']")).to_be_visible()
    checks = page.locator(".sc-dns-check")
    expect(checks).to_have_count(3)
    expect(page.locator('[data-check="spf"] [data-badge]')).to_have_text(words["pass"])
    expect(page.locator('[data-check="dmarc"]')).to_have_attribute("data-state", "pass")
    expect(page.locator('[data-check="dkim"]')).to_have_attribute("data-state", "missing")
    check_layout(page)
    for width in (1280, 1440):
        page.set_viewport_size({"width": width, "height": 900})
        page.wait_for_timeout(300)  # the charts redraw at the new width
        snapshot(page, f"deliverability-{language}-{width}")

    page.check("#f-enabled")
    page.fill("#f-start_date", "")
    page.click("#save-warm-up")
    expect(page.locator('[data-error-for="start_date"]')).to_be_visible()
    page.fill("#f-start_date", "2026-12-07")
    page.fill("#f-schedule", "50, 100, 500")
    page.click("#save-warm-up")
    expect(page).to_have_url(re.compile(r"/settings/channels/email/deliverability$"))
    expect(page.locator("#warm-up-state")).to_have_class(re.compile("bg-orange-lt"))
    expect(page.locator("#f-schedule")).to_have_value("50, 100, 500")
    snapshot(page, f"deliverability-warm-up-{language}")
