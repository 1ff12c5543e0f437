"""Settings → General → Delivery: send-time windows, caps, rate limits, lifetime, double opt-in and the
opt-out webhook, stored as typed keys, audited, refused with the field named; the gate applies them."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import time_machine
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from smartcomm.channels.secrets import unseal
from smartcomm.delivery.ledger import Reason
from smartcomm.delivery.service import delivery_service
from smartcomm.models import AuditEntry, SettingValue
from smartcomm.settings.schemas import DeliverySettings
from smartcomm.settings.service import settings_service
from tests.conftest import UIClient
from tests.delivery.helpers import email_template, make_customer, request_for

GENERAL = {
    "company_name": "Lenta Club",
    "time_zone": "Europe/Moscow",
    "currency": "RUB",
    "default_language": "en",
}


def test_the_page_shows_the_defaults(admin_client: UIClient) -> None:
    page = admin_client.get("/settings/general").text
    assert 'id="delivery-settings"' in page
    assert 'name="sms_window_start" id="f-sms_window_start" value="09:00"' in page
    assert 'name="email_window" value="true" id="f-email_window" >' in page  # e-mail has no window


def test_saved_settings_are_audited_and_applied_by_the_gate(admin_client: UIClient, session: Session) -> None:
    posted = GENERAL | {
        "email_window": "true",
        "email_window_start": "10:00",
        "email_window_end": "20:00",
        "email_cap": "1",
        "email_cap_hours": "24",
        "message_lifetime_hours": "48",
        "webhook_url": "https://loyalty.example/hooks",
    }
    assert admin_client.submit("/settings/general", posted).status_code == 303
    saved = settings_service.read(session, DeliverySettings)
    assert (saved.email_window, saved.email_window_start, saved.email_cap, saved.message_lifetime_hours) == (
        True,
        "10:00",
        1,
        48,
    )
    entry = session.scalars(select(AuditEntry).where(AuditEntry.object_id == "delivery")).one()
    assert entry.changes["email_window"] == [False, True]
    customer, version = make_customer(session), email_template(session)
    with time_machine.travel(datetime(2026, 6, 1, 20, 0, tzinfo=UTC), tick=False):  # 23:00 in Moscow
        message = delivery_service.plan(session, [request_for(customer, version)])[0]
    assert message.reason == Reason.SEND_WINDOW
    assert message.next_attempt_at == datetime(2026, 6, 2, 7, 0, tzinfo=UTC)  # 10:00 in Moscow


def test_a_window_shorter_than_an_hour_is_refused_and_nothing_is_saved(
    admin_client: UIClient, session: Session
) -> None:
    posted = GENERAL | {"company_name": "Other", "sms_window_start": "09:00", "sms_window_end": "09:30"}
    response = admin_client.submit("/settings/general", posted)
    assert response.status_code == 422
    assert "at least an hour" in response.text and 'id="f-sms_window_end" value="09:30"' in response.text
    assert session.scalar(select(func.count()).select_from(SettingValue)) == 0


def test_the_webhook_secret_is_stored_sealed_never_shown_back_and_kept_by_a_blank_field(
    admin_client: UIClient, session: Session
) -> None:
    posted = GENERAL | {
        "webhook_url": "https://loyalty.example/hooks",
        "webhook_secret": "whsec-0123456789abcd",
    }
    assert admin_client.submit("/settings/general", posted).status_code == 303
    stored = session.scalar(select(SettingValue.value).where(SettingValue.key == "delivery.webhook_secret"))
    assert isinstance(stored, str) and stored.startswith("fernet:") and "0123456789" not in stored
    assert unseal(stored) == "whsec-0123456789abcd"
    entry = session.scalars(select(AuditEntry).where(AuditEntry.object_id == "delivery")).one()
    assert entry.changes["webhook_secret"] == [None, "••••"]
    page = admin_client.get("/settings/general").text
    assert "••••abcd" in page and "0123456789" not in page and stored not in page

    assert admin_client.submit("/settings/general", GENERAL | {"webhook_secret": ""}).status_code == 303
    session.expire_all()
    assert (
        unseal(settings_service.read(session, DeliverySettings).webhook_secret or "")
        == "whsec-0123456789abcd"
    )

    removed = GENERAL | {"webhook_secret": "", "remove_webhook_secret": "true"}
    assert admin_client.submit("/settings/general", removed).status_code == 303
    session.expire_all()
    assert settings_service.read(session, DeliverySettings).webhook_secret is None


def test_a_webhook_secret_too_long_is_refused_with_its_field_and_nothing_is_saved(
    admin_client: UIClient, session: Session
) -> None:
    response = admin_client.submit("/settings/general", GENERAL | {"webhook_secret": "x" * 201})
    assert response.status_code == 422
    assert 'id="f-webhook_secret"' in response.text and "at most 200 characters" in response.text
    assert session.scalar(select(func.count()).select_from(SettingValue)) == 0


def test_the_attribution_window_is_set_on_the_general_page(admin_client: UIClient, session: Session) -> None:
    page = admin_client.get("/settings/general").text
    assert re.search(r'id="f-attribution_days"[^>]*value="3"', page)
    assert admin_client.submit("/settings/general", GENERAL | {"attribution_days": "7"}).status_code == 303
    assert settings_service.read(session, DeliverySettings).attribution_days == 7
    refused = admin_client.submit("/settings/general", GENERAL | {"attribution_days": "-1"})
    assert refused.status_code == 422 and 'id="f-attribution_days"' in refused.text
    session.expire_all()
    assert settings_service.read(session, DeliverySettings).attribution_days == 7
