"""The template library: versions, validation on save, the action history, rendering a version."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from smartcomm.audit.actor import Actor
from smartcomm.channels.base import EmailContent, PushContent, SmsContent, ViberContent
from smartcomm.kit.errors import Conflict
from smartcomm.models import AuditEntry, MessageTemplate, MessageTemplateVersion, PromoCode, PromoCodeGroup
from smartcomm.models.templates import VersionIsImmutable
from smartcomm.personalization.context import context_builder
from smartcomm.personalization.errors import RenderError, TemplateInvalid
from smartcomm.personalization.renderer import renderer
from smartcomm.personalization.schemas import TemplateCreate, TemplateUpdate, VersionCreate
from smartcomm.personalization.service import template_service
from tests.personalization.shop import build_template_shop

DESIGNER = Actor("user", None, "Dana Designer <dana@example.com>")
MJML = """<mjml>
  <mj-body>
    <mj-section>
      <mj-column>
        <mj-text>Здравствуйте, {{ client.first_name }}!</mj-text>
        <mj-raw>{% for p in containers.cart.products %}</mj-raw>
        <mj-text>{{ p.name }} — {{ p.price|money }}</mj-text>
        <mj-raw>{% endfor %}</mj-raw>
        <mj-button href="https://shop.example/cart">В корзину</mj-button>
        <mj-text><a href="{{ unsubscribe_url }}">Отписаться</a></mj-text>
      </mj-column>
    </mj-section>
  </mj-body>
</mjml>"""


def email(**values: object) -> TemplateCreate:
    content = {
        "channel": "email",
        "editor": "mjml",
        "subject": "{{ client.first_name }}, корзина ждёт",
        "mjml": MJML,
    }
    return TemplateCreate.model_validate({"name": "Брошенная корзина", "content": content | values})


def count(session: Session, model: type) -> int:
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_creating_a_template_stores_version_one_and_an_audit_row(session: Session) -> None:
    build_template_shop(session, customers=1)
    template, version = template_service.create(session, DESIGNER, email(utm={"utm_source": "smartcomm"}))
    assert (template.channel, template.editor, template.version_count) == ("email", "mjml", 1)
    assert version.number == 1
    assert "Здравствуйте, {{ client.first_name }}!" in (version.html or "")
    assert "@media only screen and (min-width:480px)" in (version.html or "")
    assert version.text_derived
    assert (version.text or "").startswith("Здравствуйте, {{ client.first_name }}!")
    entry = session.scalars(select(AuditEntry).where(AuditEntry.object_type == "message_template")).one()
    assert (entry.action, entry.object_label) == ("create", "Брошенная корзина")
    assert entry.changes == {
        "channel": [None, "email"],
        "name": [None, "Брошенная корзина"],
        "version": [None, 1],
    }


def test_saving_adds_a_version_and_keeps_the_old_one_unchanged(session: Session) -> None:
    build_template_shop(session, customers=1)
    template, first = template_service.create(session, DESIGNER, email())
    content = email(subject="Новая тема для {{ client.first_name }}").content
    second = template_service.save_version(session, DESIGNER, template.id, content)
    assert (second.number, template.version_count) == (2, 2)
    assert first.subject == "{{ client.first_name }}, корзина ждёт"
    assert [v.number for v in template_service.versions(session, template.id)] == [2, 1]
    entry = session.scalars(
        select(AuditEntry).where(AuditEntry.object_type == "message_template", AuditEntry.action == "update")
    ).one()
    assert entry.changes["version"] == [1, 2]
    assert entry.changes["subject"] == [
        "{{ client.first_name }}, корзина ждёт",
        "Новая тема для {{ client.first_name }}",
    ]


def test_a_saved_version_cannot_be_changed(session: Session) -> None:
    build_template_shop(session, customers=1)
    _template, version = template_service.create(session, DESIGNER, email())
    version.subject = "changed behind the library's back"
    with pytest.raises(VersionIsImmutable):
        session.flush()
    session.rollback()


def test_errors_on_save_name_the_part_and_the_line_and_nothing_is_written(session: Session) -> None:
    build_template_shop(session, customers=1)
    broken = MJML.replace("{{ p.name }}", "{{ p.name|shout }}").replace(
        "Здравствуйте, {{ client.first_name }}", "Здравствуйте, {{ client.frist_name }}"
    )
    with pytest.raises(TemplateInvalid) as raised:
        template_service.create(session, DESIGNER, email(mjml=broken, subject="{{ cleint.first_name }}"))
    problems = {(p.part, p.line, p.message) for p in raised.value.problems}
    assert ("subject", 1, "unknown variable 'cleint'") in problems
    assert ("mjml", 7, "No filter named 'shout'.") in problems
    assert raised.value.errors[0].field.startswith("content.")
    assert count(session, MessageTemplate) == 0
    assert count(session, MessageTemplateVersion) == 0
    assert (
        count(session, AuditEntry) == 0
        or not session.scalars(select(AuditEntry).where(AuditEntry.object_type == "message_template")).all()
    )


def test_unknown_client_fields_and_custom_fields_are_reported(session: Session) -> None:
    build_template_shop(session, customers=1)
    text = (
        "{{ client.frist_name }}\n{{ client.custom.shoe_size }} {{ client.custom.hat_size }}\n"
        "{{ client.properties.full_name }}"
    )
    with pytest.raises(TemplateInvalid) as raised:
        template_service.create(
            session,
            DESIGNER,
            TemplateCreate.model_validate({"name": "SMS", "content": {"channel": "sms", "text": text}}),
        )
    assert [(p.part, p.line, p.message) for p in raised.value.problems] == [
        ("text", 1, "client has no field 'frist_name'"),
        ("text", 2, "there is no custom field 'hat_size' (see Settings → Fields)"),
    ]


def test_a_runaway_template_is_refused_on_save_with_its_reason(session: Session) -> None:
    build_template_shop(session, customers=1)
    text = "Привет!\n{% for i in range(10000) %}{% for j in range(10000) %}{% endfor %}{% endfor %}"
    with pytest.raises(TemplateInvalid) as raised:
        template_service.create(
            session,
            DESIGNER,
            TemplateCreate.model_validate({"name": "Loop", "content": {"channel": "sms", "text": text}}),
        )
    assert [(p.part, p.line, p.code) for p in raised.value.problems] == [("text", 2, "loop_limit")]


def test_a_template_issuing_a_promo_code_is_saved_without_using_one_up(session: Session) -> None:
    build_template_shop(session, customers=1)
    group = PromoCodeGroup(code="SPRING", name="Spring")
    session.add(group)
    session.flush()
    session.add(PromoCode(group_id=group.id, code="SPRING-1"))
    session.flush()
    data = TemplateCreate.model_validate(
        {"name": "Promo", "content": {"channel": "sms", "text": "Код: {{ client.promocode('spring') }}"}}
    )
    template, _version = template_service.create(session, DESIGNER, data)
    assert template.id
    assert session.scalar(select(PromoCode.status)) == "active"


def test_names_are_unique_per_channel(session: Session) -> None:
    build_template_shop(session, customers=1)
    template_service.create(session, DESIGNER, email())
    with pytest.raises(Conflict):
        template_service.create(
            session,
            DESIGNER,
            email(),
        )
    sms = TemplateCreate.model_validate(
        {"name": "брошенная КОРЗИНА", "content": {"channel": "sms", "text": "x"}}
    )
    other, _ = template_service.create(session, DESIGNER, sms)  # another channel: allowed
    renamed = template_service.update(
        session, DESIGNER, other.id, TemplateUpdate(name="SMS корзина", description="Напоминание")
    )
    assert (renamed.name, renamed.description) == ("SMS корзина", "Напоминание")


def test_rendering_a_version_for_customers_with_utm_from_template_and_send(session: Session) -> None:
    shop = build_template_shop(session, customers=2)
    _template, version = template_service.create(
        session, DESIGNER, email(utm={"utm_source": "smartcomm", "utm_campaign": "cart"})
    )
    contexts = context_builder.for_customers(session, list(shop.customers.values()))
    context = contexts[shop.customers["C-1"]].with_values(unsubscribe_url="https://sc.example/u/token-1")
    content = renderer.render(version.id, context, utm={"utm_campaign": "december"}, session=session)
    assert isinstance(content, EmailContent)
    assert content.subject == "Мария, корзина ждёт"
    assert "Здравствуйте, Мария!" in content.html
    assert "Кружка «Утро» — 490,00\xa0₽" in content.html
    assert 'href="https://shop.example/cart?utm_source=smartcomm&amp;utm_campaign=december"' in content.html
    assert 'href="https://sc.example/u/token-1"' in content.html  # our own links get no UTM
    assert "Здравствуйте, Мария!" in content.text
    assert "{{" not in content.html + content.text
    assert renderer.compiled(version.id) is renderer.compiled(version.id)  # compiled once per version


def test_every_channel_renders_to_its_content(session: Session) -> None:
    shop = build_template_shop(session, customers=1)
    context = context_builder.for_customers(session, [shop.customers["C-1"]])[shop.customers["C-1"]]
    cases = [
        (
            {"channel": "sms", "text": "{{ client.first_name }}, ваш заказ готов"},
            SmsContent("Мария, ваш заказ готов"),
        ),
        (
            {
                "channel": "viber",
                "text": "{{ client.first_name }}, скидка!",
                "button_text": "Купить",
                "button_url": "https://shop.example/sale",
                "image_url": "https://shop.example/b.png",
                "utm": {"utm_source": "viber"},
            },
            ViberContent(
                "Мария, скидка!",
                "Купить",
                "https://shop.example/sale?utm_source=viber",
                "https://shop.example/b.png",
            ),
        ),
        (
            {
                "channel": "push",
                "title": "Для {{ client.first_name }}",
                "body": "В корзине {{ containers.cart.count }} товара",
                "link": "myshop://cart",
            },
            PushContent("Для Мария", "В корзине 2 товара", None, "myshop://cart"),
        ),
    ]
    for number, (content, expected) in enumerate(cases):
        _t, version = template_service.create(
            session, DESIGNER, TemplateCreate.model_validate({"name": f"T{number}", "content": content})
        )
        assert renderer.render(version.id, context, session=session) == expected


def test_rendering_a_missing_version_is_a_render_error(session: Session) -> None:
    shop = build_template_shop(session, customers=1)
    context = context_builder.for_customers(session, [shop.customers["C-1"]])[shop.customers["C-1"]]
    with pytest.raises(RenderError) as raised:
        renderer.render(987654, context, session=session)
    assert raised.value.reason == "no_template"


def test_a_version_is_rendered_as_it_was_saved(session: Session) -> None:
    shop = build_template_shop(session, customers=1)
    context = context_builder.for_customers(session, [shop.customers["C-1"]])[shop.customers["C-1"]]
    data = TemplateCreate.model_validate({"name": "SMS", "content": {"channel": "sms", "text": "Версия 1"}})
    template, first = template_service.create(session, DESIGNER, data)
    second = template_service.save_version(
        session,
        DESIGNER,
        template.id,
        VersionCreate.model_validate({"content": {"channel": "sms", "text": "Версия 2"}}).content,
    )
    assert renderer.render(first.id, context, session=session) == SmsContent("Версия 1")
    assert renderer.render(second.id, context, session=session) == SmsContent("Версия 2")


def test_the_visual_editors_escaped_comparisons_inside_template_tags_still_work(session: Session) -> None:
    shop = build_template_shop(session, customers=1)
    escaped = MJML.replace(
        "<mj-text>Здравствуйте, {{ client.first_name }}!</mj-text>",
        "<mj-text>{% if client.receipt_count &gt; 3 %}Спасибо, {{ client.first_name }} &amp; Co!"
        "{% endif %}</mj-text>",
    )
    _template, version = template_service.create(session, DESIGNER, email(editor="visual", mjml=escaped))
    assert "{% if client.receipt_count > 3 %}" in (version.mjml or "")
    context = context_builder.for_customers(session, [shop.customers["C-1"]])[shop.customers["C-1"]]
    content = renderer.render(version.id, context, session=session)
    assert isinstance(content, EmailContent)
    assert "Спасибо, Мария &amp; Co!" in content.html
