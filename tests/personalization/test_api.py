"""The templates API: an integration creates templates and versions and previews them for a customer."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from smartcomm.models import AuditEntry, MessageTemplate, MessageTemplateVersion
from tests.api.conftest import ApiClient, api_client
from tests.personalization.shop import TemplateShop, build_template_shop

HTML = """<html><head><style>.hello { color: #1a73e8; }</style></head><body>
<p class="hello">Здравствуйте, {{ client.first_name }}!</p>
<p>Ваш последний чек: {{ receipts[0].number }} на {{ receipts[0].total|money }}</p>
<a href="https://shop.example/new">Новинки</a>
</body></html>"""


@pytest.fixture
def api(client: TestClient, session: Session) -> ApiClient:
    return api_client(client, session)


@pytest.fixture
def shop(session: Session) -> TemplateShop:
    built = build_template_shop(session, customers=2)
    session.commit()
    return built


def email_body(**content: Any) -> dict[str, Any]:
    base = {
        "channel": "email",
        "editor": "html",
        "subject": "Новинки для {{ client.first_name }}",
        "html": HTML,
    }
    return {"name": "Новинки недели", "description": "Еженедельная рассылка", "content": base | content}


def count(session: Session, model: type) -> int:
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_an_integration_creates_a_template_saves_a_version_and_previews_it(
    api: ApiClient, shop: TemplateShop
) -> None:
    created = api.post("/api/v1/templates", json=email_body(utm={"utm_source": "smartcomm"}))
    assert created.status_code == 201, created.text
    template = created.json()
    assert (template["channel"], template["version_count"], template["latest"]["number"]) == ("email", 1, 1)
    assert 'style="color: #1a73e8;"' in template["latest"]["html"]  # CSS inlined
    assert template["latest"]["text_derived"] is True

    content = email_body(subject="Только для {{ client.first_name }}", utm={"utm_source": "smartcomm"})[
        "content"
    ]
    body = {"content": content}
    version = api.post(f"/api/v1/templates/{template['id']}/versions", json=body)
    assert version.status_code == 201, version.text
    assert version.json()["number"] == 2

    preview = api.post(
        f"/api/v1/templates/{template['id']}/preview",
        json={"external_id": "C-1", "utm": {"utm_campaign": "week-49"}},
    )
    assert preview.status_code == 200, preview.text
    rendered = preview.json()
    assert (rendered["version"], rendered["customer_id"]) == (2, shop.customers["C-1"])
    assert rendered["subject"] == "Только для Мария"
    assert "Здравствуйте, Мария!" in rendered["html"]
    assert "Ваш последний чек: C1-1 на 850,00\xa0₽" in rendered["html"]
    assert 'href="https://shop.example/new?utm_source=smartcomm&amp;utm_campaign=week-49"' in rendered["html"]

    first = api.post(f"/api/v1/templates/{template['id']}/preview", json={"version": 1})
    assert first.json()["subject"] == "Новинки для Анна"  # the test customer, in the project's language
    assert first.json()["customer_id"] is None

    listed = api.get("/api/v1/templates", params={"channel": "email"}).json()
    assert [item["name"] for item in listed["items"]] == ["Новинки недели"]
    versions = api.get(f"/api/v1/templates/{template['id']}/versions").json()
    assert [v["number"] for v in versions] == [2, 1]
    assert (
        api.get(f"/api/v1/templates/{template['id']}/versions/1").json()["subject"]
        == "Новинки для {{ client.first_name }}"
    )


def test_a_template_with_errors_is_refused_with_fields_and_lines_and_nothing_is_stored(
    api: ApiClient, shop: TemplateShop, session: Session
) -> None:
    broken = HTML.replace("{{ receipts[0].number }}", "{{ receipts[0].number|nope }}")
    response = api.post("/api/v1/templates", json=email_body(html=broken, subject="{% if %}"))
    assert response.status_code == 422
    errors = {(e["field"], e["title"]) for e in response.json()["errors"]}
    assert ("content.subject", "line 1: Expected an expression, got 'end of statement block'") in errors
    assert ("content.html", "line 3: No filter named 'nope'.") in errors
    assert count(session, MessageTemplate) == 0
    assert count(session, MessageTemplateVersion) == 0
    audit = session.scalars(select(AuditEntry).where(AuditEntry.object_type == "message_template")).all()
    assert audit == []


def test_bad_input_gets_a_4xx_naming_the_field(api: ApiClient, shop: TemplateShop) -> None:
    wrong_channel = api.post(
        "/api/v1/templates", json={"name": "X", "content": {"channel": "fax", "text": "hello"}}
    )
    assert wrong_channel.status_code == 422
    missing_html = api.post("/api/v1/templates", json=email_body(html=None))
    assert missing_html.status_code == 422
    assert "`html` is required" in missing_html.text
    nul = api.post("/api/v1/templates", json=email_body(subject="Hi\x00"))
    assert nul.status_code == 422
    assert api.get("/api/v1/templates/99999").status_code == 404
    assert api.get(f"/api/v1/templates/{2**70}").status_code == 422
    sms = api.post(
        "/api/v1/templates", json={"name": "S", "content": {"channel": "sms", "text": "Hi"}}
    ).json()
    mismatch = api.post(
        f"/api/v1/templates/{sms['id']}/versions",
        json={"content": {"channel": "push", "title": "t", "body": "b"}},
    )
    assert mismatch.status_code == 422
    assert mismatch.json()["errors"][0]["field"] == "content.channel"
    unknown_customer = api.post(f"/api/v1/templates/{sms['id']}/preview", json={"external_id": "NOBODY"})
    assert unknown_customer.status_code == 404
    duplicate = api.post("/api/v1/templates", json={"name": "s", "content": {"channel": "sms", "text": "Hi"}})
    assert duplicate.status_code == 409


def test_an_sms_preview_counts_its_parts(api: ApiClient, shop: TemplateShop) -> None:
    text = "{{ client.first_name }}, скидка 20% на всё до воскресенья! Покажите это сообщение на кассе."
    created = api.post(
        "/api/v1/templates", json={"name": "Скидка", "content": {"channel": "sms", "text": text}}
    ).json()
    preview = api.post(
        f"/api/v1/templates/{created['id']}/preview", json={"customer_id": shop.customers["C-2"]}
    ).json()
    assert preview["text"].startswith("Мария, скидка 20%")
    assert preview["sms"] == {
        "encoding": "UCS-2",
        "units": len(preview["text"]),
        "parts": 2,
        "per_part": 67,
        "remaining": 134 - len(preview["text"]),
    }


def test_a_template_naming_an_unknown_promo_code_group_is_refused_with_the_line(
    api: ApiClient, shop: TemplateShop
) -> None:
    text = "Привет!\nКод: {{ client.promocode('SPRING') }}"
    created = api.post(
        "/api/v1/templates", json={"name": "Промо", "content": {"channel": "sms", "text": text}}
    )
    assert created.status_code == 422
    assert created.json()["errors"][0] == {
        "status": 422,
        "code": "unknown_promocode_group",
        "title": "line 2: there is no promo code group SPRING",
        "field": "content.text",
    }
    assert api.get("/api/v1/templates").json()["total"] == 0


def test_the_templates_api_is_documented_with_its_errors(client: TestClient) -> None:
    schema = client.get("/api/openapi.json").json()
    create = schema["paths"]["/api/v1/templates"]["post"]
    assert {"201", "409", "422"} <= set(create["responses"])
    preview_op = schema["paths"]["/api/v1/templates/{template_id}/preview"]["post"]
    assert {"200", "404", "422"} <= set(preview_op["responses"])
