"""Settings → General: values stored as typed keys, validated, audited; the logo upload."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from smartcomm.models import AuditEntry, SettingValue
from smartcomm.settings.schemas import GeneralSettings, PromoCodeSettings
from smartcomm.settings.service import settings_service
from tests.conftest import UIClient

PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)
VALID = {
    "company_name": "Lenta Club",
    "time_zone": "Asia/Yekaterinburg",
    "currency": "eur",
    "default_language": "ru",
}


def test_defaults_before_anything_is_saved(session: Session) -> None:
    general = settings_service.read(session, GeneralSettings)
    assert (general.company_name, general.currency, general.default_language) == ("My company", "RUB", "en")


def test_saving_stores_each_key_and_audits_the_change(admin_client: UIClient, session: Session) -> None:
    response = admin_client.submit("/settings/general", VALID)
    assert response.status_code == 303

    stored = {row.key: row.value for row in session.scalars(select(SettingValue))}
    assert stored["general.company_name"] == "Lenta Club"
    assert stored["general.currency"] == "EUR"
    entry = session.scalars(select(AuditEntry).where(AuditEntry.object_type == "settings")).one()
    assert entry.changes["time_zone"] == ["Europe/Moscow", "Asia/Yekaterinburg"]
    page = admin_client.get("/settings/general").text
    assert "Lenta Club" in page


def test_invalid_values_are_refused_with_the_field_named(admin_client: UIClient, session: Session) -> None:
    response = admin_client.submit(
        "/settings/general", VALID | {"time_zone": "Mars/Olympus", "currency": "XXY"}
    )
    assert response.status_code == 422
    assert "unknown time zone" in response.text and "unknown currency" in response.text
    assert session.scalar(select(func.count()).select_from(SettingValue)) == 0


def test_logo_is_uploaded_served_and_shown(admin_client: UIClient) -> None:
    files = {"logo": ("logo.png", PNG, "image/png")}
    response = admin_client.post(
        "/settings/general", data=VALID | {"csrf_token": admin_client.csrf}, files=files
    )
    assert response.status_code == 303
    page = admin_client.get("/settings/general").text
    logo_url = page.split('id="logo-preview"')[0].rsplit('src="', 1)[1].split('"')[0]
    served = admin_client.get(logo_url)
    assert served.status_code == 200 and served.content == PNG
    assert served.headers["content-type"] == "image/png"


def test_a_non_image_logo_is_refused(admin_client: UIClient, session: Session) -> None:
    files = {"logo": ("logo.exe", b"MZ...", "application/octet-stream")}
    response = admin_client.post(
        "/settings/general", data=VALID | {"csrf_token": admin_client.csrf}, files=files
    )
    assert response.status_code == 422
    assert "PNG, JPEG" in response.text
    assert session.scalar(select(func.count()).select_from(SettingValue)) == 0


def test_the_promo_code_low_threshold_is_saved_and_refused_when_negative(
    admin_client: UIClient, session: Session
) -> None:
    assert admin_client.submit("/settings/general", VALID | {"low_threshold": "-5"}).status_code == 422
    assert session.scalar(select(func.count()).select_from(SettingValue)) == 0

    assert admin_client.submit("/settings/general", VALID | {"low_threshold": "25"}).status_code == 303

    assert settings_service.read(session, PromoCodeSettings).low_threshold == 25
    assert 'name="low_threshold"' in admin_client.get("/settings/general").text
