"""The template pages over HTTP: what each role may do, saving versions from the forms, previews."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from smartcomm.audit.actor import Actor
from smartcomm.delivery.ledger import Source
from smartcomm.delivery.schemas import PlanRequest
from smartcomm.delivery.service import delivery_service
from smartcomm.kit.time import utcnow
from smartcomm.models import AuditEntry, MessageTemplate, MessageTemplateVersion
from smartcomm.personalization.schemas import TemplateCreate
from smartcomm.personalization.service import template_service
from tests.conftest import UIClient, extract_csrf
from tests.delivery.helpers import make_customer
from tests.factories import make_user
from tests.personalization.shop import TemplateShop, build_template_shop

DESIGNER = Actor("user", None, "Dana Designer <dana@example.com>")
HTML = (
    "<html><head><style>p { color: #334155; }</style></head><body>"
    "<p>Здравствуйте, {{ client.first_name }}!</p><a href='https://shop.example/new'>Новинки</a></body></html>"
)


def signed_in(client: UIClient, session: Session, role: str) -> UIClient:
    user, password = make_user(session, role=role, full_name=f"{role.title()} Person")
    client.sign_in(user.email, password)
    return client


@pytest.fixture
def shop(session: Session) -> TemplateShop:
    built = build_template_shop(session, customers=1)
    session.commit()
    return built


def count(session: Session, model: type) -> int:
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def make_sms(session: Session, text: str = "{{ client.first_name }}, скидка 10%") -> MessageTemplate:
    data = TemplateCreate.model_validate({"name": "Скидка", "content": {"channel": "sms", "text": text}})
    template, _version = template_service.create(session, DESIGNER, data)
    session.commit()
    return template


def test_a_designer_creates_an_sms_template_and_saves_a_second_version(
    client: UIClient, session: Session, shop: TemplateShop
) -> None:
    signed_in(client, session, "designer")
    page = client.get("/templates/sms")
    assert page.status_code == 200
    assert "No templates yet" in page.text
    form = client.get("/templates/sms/new")
    assert form.status_code == 200
    assert 'id="sms-counter"' in form.text
    created = client.submit(
        "/templates/sms/new", {"name": "Напоминание", "text": "{{ client.first_name }}, ждём вас!"}
    )
    assert created.status_code == 303
    template_id = int(re.search(r"/templates/(\d+)/edit", created.headers["location"]).group(1))
    saved = client.submit(
        f"/templates/{template_id}/edit", {"name": "Напоминание", "text": "{{ client.first_name }}, скидка!"}
    )
    assert saved.status_code == 303
    versions = client.get(f"/templates/{template_id}/versions")
    assert versions.text.count('data-version="') == 2
    assert count(session, MessageTemplateVersion) == 2
    actions = session.scalars(
        select(AuditEntry.action).where(AuditEntry.object_type == "message_template").order_by(AuditEntry.id)
    ).all()
    assert actions == ["create", "update"]


def test_a_template_with_errors_is_shown_again_with_its_problems_and_nothing_is_saved(
    client: UIClient, session: Session, shop: TemplateShop
) -> None:
    signed_in(client, session, "designer")
    response = client.submit(
        "/templates/email/new",
        {
            "name": "Письмо",
            "editor": "html",
            "subject": "Привет {{ cleint.first_name }}",
            "html": HTML.replace("first_name }}!", "first_name|shout }}!"),
        },
    )
    assert response.status_code == 422
    assert "The template was not saved" in response.text
    assert "Subject, line 1: unknown variable &#39;cleint&#39;" in response.text
    assert "HTML code, line 1: No filter named &#39;shout&#39;." in response.text
    assert "Привет {{ cleint.first_name }}" in response.text  # what was typed is kept
    assert count(session, MessageTemplate) == 0
    assert (
        count(session, AuditEntry) == 0
        or not session.scalars(select(AuditEntry).where(AuditEntry.object_type == "message_template")).all()
    )


def test_the_rendered_email_is_served_apart_with_a_strict_policy(
    client: UIClient, session: Session, shop: TemplateShop
) -> None:
    signed_in(client, session, "designer")
    created = client.submit(
        "/templates/email/new", {"name": "Письмо", "editor": "html", "subject": "Привет", "html": HTML}
    )
    assert created.status_code == 303
    template_id = int(re.search(r"/templates/(\d+)/edit", created.headers["location"]).group(1))
    frame = client.get(f"/templates/{template_id}/preview/frame?customer={shop.customers['C-1']}")
    assert frame.status_code == 200
    assert "Здравствуйте, Мария!" in frame.text
    assert 'style="color: #334155;"' in frame.text
    policy = frame.headers["content-security-policy"]
    assert "sandbox" in policy and "default-src 'none'" in policy and "script-src" not in policy
    assert frame.headers["x-frame-options"] == "SAMEORIGIN"
    preview = client.get(f"/templates/{template_id}/preview?customer={shop.customers['C-1']}&device=mobile")
    assert preview.status_code == 200
    assert 'sandbox=""' in preview.text
    assert (
        f"/templates/{template_id}/preview/frame?version=1&amp;customer={shop.customers['C-1']}"
        in preview.text
    )
    assert "Иванова-1 Мария" in preview.text
    draft = client.post(
        "/templates/draft-preview",
        data={
            "csrf_token": client.csrf,
            "editor": "mjml",
            "subject": "Тест",
            "mjml": "<mjml><mj-body><mj-section><mj-column><mj-text>Для {{ client.first_name }}</mj-text>"
            "</mj-column></mj-section></mj-body></mjml>",
        },
    )
    assert draft.status_code == 200
    assert "Для Анна" in draft.text  # the test customer
    assert "sandbox" in draft.headers["content-security-policy"]


def test_an_sms_preview_shows_the_rendered_text_and_its_parts(
    client: UIClient, session: Session, shop: TemplateShop
) -> None:
    template = make_sms(session)
    signed_in(client, session, "marketer")
    page = client.get(f"/templates/{template.id}/preview?customer={shop.customers['C-1']}")
    assert page.status_code == 200
    assert "Мария, скидка 10%" in page.text
    assert 'id="sms-encoding">UCS-2<' in page.text
    assert 'id="sms-parts">1<' in page.text


def test_a_marketer_sees_and_previews_templates_but_cannot_change_them(
    client: UIClient, session: Session, shop: TemplateShop
) -> None:
    template = make_sms(session)
    signed_in(client, session, "marketer")
    listed = client.get("/templates/sms")
    assert listed.status_code == 200
    assert "Скидка" in listed.text
    assert 'id="new-template"' not in listed.text
    assert client.get(f"/templates/{template.id}/edit").status_code == 403
    refused = client.submit(f"/templates/{template.id}/edit", {"name": "X", "text": "changed"})
    assert refused.status_code == 403
    assert client.submit(f"/templates/{template.id}/delete").status_code == 403
    assert count(session, MessageTemplateVersion) == 1


def test_an_operator_has_no_templates(client: UIClient, session: Session, shop: TemplateShop) -> None:
    signed_in(client, session, "operator")
    assert client.get("/templates/email").status_code == 403


def test_deleting_a_template_deletes_its_versions(
    client: UIClient, session: Session, shop: TemplateShop
) -> None:
    template = make_sms(session)
    signed_in(client, session, "designer")
    dialog = client.get(f"/templates/{template.id}/delete")
    assert "Delete “Скидка”?" in dialog.text
    deleted = client.submit(f"/templates/{template.id}/delete")
    assert deleted.status_code == 303
    assert count(session, MessageTemplate) == 0
    assert count(session, MessageTemplateVersion) == 0


def test_a_template_whose_messages_wait_to_be_sent_is_not_deleted(
    client: UIClient, session: Session, shop: TemplateShop
) -> None:
    template = make_sms(session)
    version = session.scalars(select(MessageTemplateVersion)).one()
    customer = make_customer(session, phone="+79161234567")
    tomorrow = utcnow() + timedelta(days=1)
    waiting = PlanRequest(
        source_kind=Source.TEST,
        channel="sms",
        customer_id=customer.id,
        template_version_id=version.id,
        occurrence="later",
        not_before=tomorrow,
        expires_at=tomorrow + timedelta(days=1),
    )
    delivery_service.plan(session, [waiting])
    session.commit()
    signed_in(client, session, "designer")
    refused = client.submit(f"/templates/{template.id}/delete")
    assert refused.status_code == 303
    assert "waiting to be sent" in client.get(refused.headers["location"]).text
    assert count(session, MessageTemplate) == 1
    assert count(session, MessageTemplateVersion) == 1


def test_unknown_channels_and_templates_are_not_found(
    client: UIClient, session: Session, shop: TemplateShop
) -> None:
    signed_in(client, session, "designer")
    assert client.get("/templates/fax").status_code == 404
    assert client.get("/templates/424242/edit").status_code == 404
    assert extract_csrf(client.get("/templates/email/new?editor=visual").text)
