# ruff: noqa: E501 (the letters keep one MJML element per line, as the editors write them)
"""The demo retailer's example templates: one or two per channel, in Russian like its other records.

They are saved through the template library like a designer's templates (checked, compiled, version 1,
a row of the action history each), so the library of a new installation shows what the editors make: an
order confirmation built in the visual MJML editor, a birthday letter in MJML code, SMS, Viber and push
messages. The demo's sample messages are sent from them.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from smartcomm.audit.actor import Actor
from smartcomm.personalization.repository import TemplateRepository
from smartcomm.personalization.schemas import TemplateCreate
from smartcomm.personalization.service import template_service

ORDER_CONFIRMATION = "Подтверждение заказа"
BIRTHDAY = "Скидка ко дню рождения"
CONFIRMATION_CODE = "Код подтверждения"
ORDER_READY = "Заказ готов к выдаче"
CART_REMINDER = "Корзина ждёт"

# Loops and conditions around sections stand in Raw blocks (<mj-raw>), where the visual editor keeps
# them. The order is the customer's latest receipt (the sender gives its number as `event.order`);
# weighed goods have a fractional quantity and are shown in kilograms.
ORDER_CONFIRMATION_MJML = """<mjml>
  <mj-body background-color="#f3f4f6" width="600px">
    <mj-section background-color="#14532d" padding="20px 24px">
      <mj-column>
        <mj-text color="#ffffff" font-size="22px" font-weight="700">{{ company }}</mj-text>
      </mj-column>
    </mj-section>
    <mj-section background-color="#ffffff" padding="28px 24px 8px">
      <mj-column>
        <mj-text font-size="24px" font-weight="700" color="#111827">Спасибо за заказ!</mj-text>
        <mj-text font-size="16px" line-height="24px" color="#374151">Здравствуйте{% if client.first_name %}, {{ client.first_name }}{% endif %}! Мы приняли ваш заказ № <b>{{ event.order }}</b> и уже собираем его. Когда он будет готов к выдаче, мы сразу напишем.</mj-text>
      </mj-column>
    </mj-section>
    <mj-raw>{% set order = receipts|first %}{% if order %}</mj-raw>
    <mj-section background-color="#ffffff" padding="8px 24px 0">
      <mj-column>
        <mj-text font-size="18px" font-weight="700" color="#111827">Состав заказа</mj-text>
        <mj-divider border-color="#e5e7eb" border-width="1px"></mj-divider>
      </mj-column>
    </mj-section>
    <mj-raw>{% for line in order.lines %}</mj-raw>
    <mj-section background-color="#ffffff" padding="0 24px">
      <mj-column width="70%">
        <mj-text font-size="15px" line-height="22px" color="#111827">{% if line.link %}<a href="{{ line.link }}" style="color:#111827">{{ line.name }}</a>{% else %}{{ line.name }}{% endif %}<br><span style="color:#6b7280;font-size:13px">{% if line.quantity % 1 %}{{ line.quantity|number(3) }} кг{% else %}{{ line.quantity|number }} шт.{% endif %} × {{ line.price|money }}{% if line.discount %} · скидка {{ line.discount|money }}{% endif %}</span></mj-text>
      </mj-column>
      <mj-column width="30%">
        <mj-text align="right" font-size="15px" color="#111827">{{ line.amount|money }}</mj-text>
      </mj-column>
    </mj-section>
    <mj-raw>{% endfor %}</mj-raw>
    <mj-section background-color="#ffffff" padding="0 24px 8px">
      <mj-column>
        <mj-divider border-color="#e5e7eb" border-width="1px"></mj-divider>
        <mj-text align="right" font-size="18px" font-weight="700" color="#111827">Итого: {{ order.total|money }}</mj-text>
        <mj-text align="right" font-size="14px" color="#15803d">{% if order.bonus_earned %}Начислим {{ order.bonus_earned|number }} {{ order.bonus_earned|plural('бонус', 'бонуса', 'бонусов') }} на карту {{ client.card_number }}{% endif %}</mj-text>
      </mj-column>
    </mj-section>
    <mj-raw>{% endif %}</mj-raw>
    <mj-section background-color="#ffffff" padding="8px 24px 28px">
      <mj-column>
        <mj-button href="https://shop.example.ru/account/orders/{{ event.order }}" background-color="#15803d" color="#ffffff" font-size="16px" border-radius="6px" inner-padding="14px 28px">Следить за заказом</mj-button>
      </mj-column>
    </mj-section>
    <mj-section padding="16px 24px 32px">
      <mj-column>
        <mj-text align="center" font-size="12px" line-height="18px" color="#6b7280">Вы получили это письмо, потому что оформили заказ в интернет-магазине {{ company }}.<br><a href="{{ unsubscribe_url }}" style="color:#6b7280">Отписаться</a> · <a href="{{ preferences_url }}" style="color:#6b7280">Настроить рассылки</a> · <a href="{{ view_in_browser_url }}" style="color:#6b7280">Открыть в браузере</a></mj-text>
      </mj-column>
    </mj-section>
  </mj-body>
</mjml>"""

BIRTHDAY_MJML = """<mjml>
  <mj-body background-color="#fdf2f8" width="600px">
    <mj-section background-color="#be185d" padding="32px 24px">
      <mj-column>
        <mj-text align="center" color="#ffffff" font-size="28px" font-weight="700">С днём рождения{% if client.first_name %}, {{ client.first_name }}{% endif %}!</mj-text>
        <mj-text align="center" color="#fce7f3" font-size="16px">{{ company }} поздравляет вас и дарит подарок</mj-text>
      </mj-column>
    </mj-section>
    <mj-section background-color="#ffffff" padding="28px 24px">
      <mj-column>
        <mj-text align="center" font-size="56px" font-weight="700" color="#be185d">−15 %</mj-text>
        <mj-text align="center" font-size="16px" line-height="24px" color="#374151">на любую покупку в наших магазинах и на сайте за 7 дней до и 7 дней после дня рождения{% if client.birth_date %} — {{ client.birth_date|date('d MMMM') }}{% endif %}.</mj-text>
        <mj-text align="center" font-size="14px" line-height="22px" color="#6b7280">{% if client.receipt_count %}Спасибо, что вы с нами: у вас уже {{ client.receipt_count }} {{ client.receipt_count|plural('покупка', 'покупки', 'покупок') }} по нашей карте.{% else %}Покажите на кассе карту лояльности или войдите на сайте.{% endif %}</mj-text>
        <mj-button href="https://shop.example.ru/birthday" background-color="#be185d" color="#ffffff" font-size="16px" border-radius="6px" inner-padding="14px 28px">Выбрать подарок</mj-button>
      </mj-column>
    </mj-section>
    <mj-section padding="16px 24px 32px">
      <mj-column>
        <mj-text align="center" font-size="12px" line-height="18px" color="#6b7280">Вы получили это письмо, потому что подписаны на рассылку «Персональные предложения».<br><a href="{{ unsubscribe_url }}" style="color:#6b7280">Отписаться</a> · <a href="{{ preferences_url }}" style="color:#6b7280">Настроить рассылки</a> · <a href="{{ view_in_browser_url }}" style="color:#6b7280">Открыть в браузере</a></mj-text>
      </mj-column>
    </mj-section>
  </mj-body>
</mjml>"""

# The cart's newest product by name and how many more wait with it.
CART_BODY = "{% set cart = containers.cart %}{% if cart.is_empty %}Загляните в приложение: мы собрали для вас новинки недели.{% else %}{{ cart.products[0].name }}{% if cart.count > 1 %} и ещё {{ cart.count - 1 }} {{ (cart.count - 1)|plural('товар', 'товара', 'товаров') }}{% endif %} в вашей корзине. Оформите заказ, пока всё в наличии.{% endif %}"


def _utm(channel: str, campaign: str) -> dict[str, str]:
    return {"utm_source": "smartcomm", "utm_medium": channel, "utm_campaign": campaign}


# (name, description, content) of each example, as the Templates pages and the API take them.
EXAMPLES: tuple[tuple[str, str, dict[str, Any]], ...] = (
    (
        ORDER_CONFIRMATION,
        "Письмо после оформления заказа на сайте: состав заказа из последнего чека, сумма и бонусы. Номер заказа приходит в контексте события: event.order.",
        {
            "channel": "email",
            "editor": "visual",
            "subject": "Заказ № {{ event.order }} принят",
            "preheader": "Спасибо за покупку! Мы уже собираем ваш заказ.",
            "mjml": ORDER_CONFIRMATION_MJML,
            "utm": _utm("email", "order_confirmation"),
        },
    ),
    (
        BIRTHDAY,
        "Поздравление для рассылки в категории «Персональные предложения» участникам сегмента «День рождения в ближайшую неделю».",
        {
            "channel": "email",
            "editor": "mjml",
            "subject": "{{ client.first_name }}, с днём рождения! Дарим скидку 15 %",
            "preheader": "Подарок действует 7 дней до и после праздника",
            "mjml": BIRTHDAY_MJML,
            "utm": _utm("email", "birthday"),
        },
    ),
    (
        CONFIRMATION_CODE,
        "Одноразовый код для входа в личный кабинет или подтверждения телефона: четыре случайные цифры.",
        {"channel": "sms", "text": "Код подтверждения: {{ string('0-9', 4) }}. Никому не сообщайте его."},
    ),
    (
        ORDER_READY,
        "SMS каскада Viber → SMS: уходит, когда сообщение в Viber не доставлено.",
        {
            "channel": "sms",
            "text": "Заказ {{ event.order }} готов к выдаче. Ждём вас до {{ event.pickup_until|date('d MMMM') }}.",
        },
    ),
    (
        ORDER_READY,
        "Заказ собран и ждёт в пункте выдачи. Контекст события: номер заказа (event.order) и срок хранения (event.pickup_until). Уходит каскадом с SMS «Заказ готов к выдаче».",
        {
            "channel": "viber",
            "text": "{{ client.first_name }}, ваш заказ № {{ event.order }} готов к выдаче! Заберите его до {{ event.pickup_until|date('d MMMM') }}: назовите на кассе номер заказа.",
            "button_text": "Открыть заказ",
            "button_url": "https://shop.example.ru/account/orders/{{ event.order }}",
            "utm": _utm("viber", "order_ready"),
        },
    ),
    (
        CART_REMINDER,
        "Напоминание о товарах, оставленных в корзине; ссылка открывает корзину в приложении.",
        {
            "channel": "push",
            "title": "{{ client.first_name }}, корзина ждёт",
            "body": CART_BODY,
            "link": "myapp://cart",
        },
    ),
)


def example_templates() -> list[TemplateCreate]:
    """The example templates as a designer would send them to the library."""
    return [
        TemplateCreate.model_validate({"name": name, "description": description, "content": content})
        for name, description, content in EXAMPLES
    ]


def add_example_templates(session: Session, actor: Actor) -> dict[tuple[str, str], int]:
    """Save the examples the library does not have yet; every example's template id by (channel, name).

    Template names are unique per channel, so a template already called like an example — the example
    saved by an earlier run, or the designers' own — is kept as it is.
    """
    repository = TemplateRepository(session)
    ids: dict[tuple[str, str], int] = {}
    for data in example_templates():
        channel = data.content.channel
        existing = {name.casefold(): id_ for id_, name in repository.names(channel)}
        template_id = existing.get(data.name.casefold())
        if template_id is None:
            template_id = template_service.create(session, actor, data)[0].id
        ids[(channel, data.name)] = template_id
    return ids
