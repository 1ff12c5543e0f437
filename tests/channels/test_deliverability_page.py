"""Settings → Channels → E-mail → Deliverability over HTTP: the domain check against a DNS server on
loopback, the rates per day counted from the ledger, and the warm-up form (errors name the field and
write nothing)."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from smartcomm.analytics.deliverability import level, rate_days
from smartcomm.audit.actor import Actor
from smartcomm.auth.permissions import Role
from smartcomm.channels.email.signing import load_private_key, public_key_record
from smartcomm.channels.email.warm_up import WarmUpSettings, default_schedule
from smartcomm.channels.service import channel_provider_service
from smartcomm.config import config
from smartcomm.kit.time import start_of_day, to_zone, utcnow
from smartcomm.models import AuditEntry, Message
from smartcomm.models.consent import UnsubscribeRecord
from smartcomm.settings.service import settings_service
from tests.channels.dns_server import dns_server
from tests.channels.tls import rsa_key_pem
from tests.conftest import UIClient
from tests.delivery.helpers import make_customer
from tests.factories import make_user

PAGE = "/settings/channels/email/deliverability"
ZONE = "Europe/Moscow"
KEY = rsa_key_pem()
_keys = itertools.count(1)


def smtp_provider(session: Session) -> None:
    form = {
        "name": "Relay",
        "host": "203.0.113.7",
        "port": "587",
        "security": "starttls",
        "verify_certificate": "true",
        "from_address": "news@shop.example",
        "dkim_domain": "shop.example",
        "dkim_selector": "mail",
        "dkim_private_key": KEY,
    }
    channel_provider_service.create(session, Actor.system("tests"), "email", "smtp", form)
    session.flush()


def test_the_check_shows_each_record_with_its_verdict_and_what_to_publish(
    admin_client: UIClient, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    smtp_provider(session)
    records = {
        "shop.example": ["v=spf1 ip4:203.0.113.7 ~all"],
        "mail._domainkey.shop.example": [public_key_record(load_private_key(rsa_key_pem()))],
    }
    page = admin_client.get(PAGE)
    assert page.status_code == 200 and 'value="shop.example"' in page.text and "sandbox-note" not in page.text
    with dns_server(records) as server:
        monkeypatch.setattr(config, "dns_nameserver", server.address)
        found = admin_client.submit(
            f"{PAGE}/check", {"domain": "shop.example"}, headers={"HX-Request": "true"}
        )
    assert found.status_code == 200
    assert 'data-check="spf" data-state="pass"' in found.text
    assert 'data-check="dkim" data-state="fail"' in found.text  # another key is published
    assert 'data-check="dmarc" data-state="missing"' in found.text
    record = public_key_record(load_private_key(KEY))
    assert f'value="{record}"' in found.text
    assert "v=DMARC1; p=none; rua=mailto:dmarc-reports@shop.example" in found.text


def test_the_sandbox_checks_a_typed_domain_and_refuses_a_bad_name(
    admin_client: UIClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    page = admin_client.get(PAGE)
    assert 'id="sandbox-note"' in page.text
    with dns_server({}) as server:
        monkeypatch.setattr(config, "dns_nameserver", server.address)
        found = admin_client.submit(f"{PAGE}/check", {"domain": "Shop.Example."})
        refused = admin_client.submit(f"{PAGE}/check", {"domain": "not a domain"})
    assert found.status_code == 200 and found.text.count('data-state="missing"') == 3
    assert "v=spf1 mx ~all" in found.text
    assert refused.status_code == 422 and 'data-error-for="domain"' in refused.text


def test_only_those_who_may_open_settings_see_the_page(client: UIClient, session: Session) -> None:
    user, password = make_user(session, role=Role.MARKETER)
    client.sign_in(user.email, password)
    assert client.get(PAGE).status_code == 403


def email_row(session: Session, sent_at: datetime, **values: Any) -> Message:
    row = Message(
        idempotency_key=f"rates-{next(_keys)}",
        source_kind="mailing",
        source_id=1,
        customer_id=make_customer(session).id,
        channel=values.pop("channel", "email"),
        status=values.pop("status", "delivered"),
        recipient="someone@example.com",
        created_at=sent_at,
        next_attempt_at=sent_at,
        sent_at=sent_at,
        **values,
    )
    session.add(row)
    session.flush()
    return row


def complain(session: Session, message: Message) -> None:
    assert message.customer_id is not None
    session.add(
        UnsubscribeRecord(
            customer_id=message.customer_id,
            message_id=message.id,
            channel="email",
            scope="channel",
            source="complaint",
            created_at=message.sent_at,
        )
    )
    session.flush()


def test_the_rates_per_day_are_counted_from_the_ledger(admin_client: UIClient, session: Session) -> None:
    today = to_zone(utcnow(), ZONE).date()
    yesterday = start_of_day(today - timedelta(days=1), ZONE)
    late_evening = yesterday + timedelta(hours=23, minutes=30)  # still yesterday in Moscow
    for index in range(40):
        status = "failed" if index < 3 else "delivered"
        row = email_row(session, late_evening, status=status, reason="bounced" if index < 3 else None)
        if index in (10, 11):
            complain(session, row)
    email_row(session, yesterday + timedelta(hours=1), status="failed", reason="undelivered")  # not hard
    email_row(session, yesterday + timedelta(hours=2), channel="sms")  # not e-mail
    email_row(session, yesterday - timedelta(days=40))  # outside the 30 days

    days = rate_days(session, ZONE, today)
    assert len(days) == 30 and days[-1].day == today
    day = days[-2]
    assert (day.sent, day.bounced, day.complaints) == (41, 3, 2)
    assert sum(d.sent for d in days) == 41
    assert level(day.bounce_rate, 0.02, 0.05) == "bad"  # 3 of 41 = 7.3 %
    assert level(day.complaint_rate, 0.001, 0.003) == "bad"  # 2 of 41
    page = admin_client.get(PAGE)
    assert f'data-day="{day.day.isoformat()}"' in page.text and 'id="bounce-chart"' in page.text


def test_warm_up_form_errors_name_the_field_and_write_nothing(
    admin_client: UIClient, session: Session
) -> None:
    audit = session.scalar(select(func.count()).select_from(AuditEntry))
    cases = [
        ({"enabled": "on", "start_date": "", "schedule": "50, 100"}, "start_date"),
        ({"enabled": "on", "start_date": "2026-13-01", "schedule": "50"}, "start_date"),
        ({"enabled": "on", "start_date": "2026-12-07", "schedule": "50, lots"}, "schedule"),
        ({"enabled": "on", "start_date": "2026-12-07", "schedule": " , "}, "schedule"),
        ({"enabled": "on", "start_date": "2026-12-07", "schedule": "50, 0"}, "schedule"),
    ]
    for form, field in cases:
        refused = admin_client.submit(f"{PAGE}/warm-up", form)
        assert refused.status_code == 422, form
        assert f'data-error-for="{field}"' in refused.text
    assert session.scalar(select(func.count()).select_from(AuditEntry)) == audit
    assert settings_service.read(session, WarmUpSettings) == WarmUpSettings()


def test_warm_up_is_saved_with_its_schedule(admin_client: UIClient, session: Session) -> None:
    page = admin_client.get(PAGE)
    shown = "50, 100, 500, 1 000, 5 000, 10 000, 20 000, 40 000, 70 000, 100 000, 150 000"
    assert shown in page.text  # the default ramp, shown and editable
    as_shown = {"enabled": "on", "start_date": "2026-12-07", "schedule": shown}
    assert admin_client.submit(f"{PAGE}/warm-up", as_shown).status_code == 303
    assert settings_service.read(session, WarmUpSettings).schedule == default_schedule()[:11]
    saved = admin_client.submit(
        f"{PAGE}/warm-up", {"enabled": "on", "start_date": "2026-12-07", "schedule": "100, 1 000, 10_000"}
    )
    assert saved.status_code == 303
    stored = settings_service.read(session, WarmUpSettings)
    assert (stored.enabled, stored.start_date.isoformat(), stored.schedule) == (
        True,
        "2026-12-07",
        [100, 1000, 10000],
    )
    assert default_schedule()[:10] == [50, 100, 500, 1000, 5000, 10000, 20000, 40000, 70000, 100000]
    assert default_schedule()[-1] < 1_000_000 <= default_schedule()[-1] * 3 // 2
