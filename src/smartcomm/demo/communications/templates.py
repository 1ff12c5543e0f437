# ruff: noqa: E501 (the letters keep one MJML element per line, as the editors write them)
"""The templates of the demo's mailings: promotional letters made in the MJML editor, SMS, a Viber message
with its SMS fallback, and push notifications — in Russian, as the demo retailer writes to its customers.

They are saved through the template library like the example templates (checked, compiled, version 1, a
row of the action history each); a template already called so is reused as it is.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from smartcomm.audit.actor import Actor
from smartcomm.personalization.repository import TemplateRepository
from smartcomm.personalization.schemas import TemplateCreate
from smartcomm.personalization.service import template_service

SITE = "https://shop.example.ru"
FOOTER = """    <mj-section padding="16px 24px 32px">
      <mj-column>
        <mj-text align="center" font-size="12px" line-height="18px" color="#6b7280">Вы получили это письмо, потому что подписаны на рассылку {{ company }}.<br><a href="{{ unsubscribe_url }}" style="color:#6b7280">Отписаться</a> · <a href="{{ preferences_url }}" style="color:#6b7280">Настроить рассылки</a> · <a href="{{ view_in_browser_url }}" style="color:#6b7280">Открыть в браузере</a></mj-text>
      </mj-column>
    </mj-section>"""


def letter(colour: str, headline: str, offer: str, lead: str, button: str, path: str, more: str) -> str:
    """A promotional letter: the brand bar, the offer, a button to the shop and a second link."""
    return f"""<mjml>
  <mj-body background-color="#f3f4f6" width="600px">
    <mj-section background-color="{colour}" padding="20px 24px">
      <mj-column>
        <mj-text color="#ffffff" font-size="22px" font-weight="700">{{{{ company }}}}</mj-text>
      </mj-column>
    </mj-section>
    <mj-section background-color="#ffffff" padding="28px 24px 8px">
      <mj-column>
        <mj-text font-size="26px" font-weight="700" color="#111827">{headline}</mj-text>
        <mj-text font-size="44px" font-weight="700" color="{colour}">{offer}</mj-text>
        <mj-text font-size="16px" line-height="24px" color="#374151">{{% if client.first_name %}}{{{{ client.first_name }}}}, {{% endif %}}{lead}</mj-text>
      </mj-column>
    </mj-section>
    <mj-section background-color="#ffffff" padding="8px 24px 28px">
      <mj-column>
        <mj-button href="{SITE}{path}" background-color="{colour}" color="#ffffff" font-size="16px" border-radius="6px" inner-padding="14px 28px">{button}</mj-button>
        <mj-text align="center" font-size="14px"><a href="{SITE}/stores" style="color:{colour}">{more}</a></mj-text>
      </mj-column>
    </mj-section>
{FOOTER}
  </mj-body>
</mjml>"""


def _email(subject: str, preheader: str, mjml: str, campaign: str) -> dict[str, Any]:
    utm = {"utm_source": "smartcomm", "utm_medium": "email", "utm_campaign": campaign}
    return {
        "channel": "email",
        "editor": "mjml",
        "subject": subject,
        "preheader": preheader,
        "mjml": mjml,
        "utm": utm,
    }


Template = tuple[str, str, dict[str, Any]]  # (name, description, content)

# key -> the template
TEMPLATES: dict[str, Template] = {
    "autumn_sale": (
        "Autumn sale",
        "Сезонная распродажа: скидки до 50 % на осеннюю коллекцию.",
        _email(
            "Осенняя распродажа: скидки до 50 %",
            "Тёплые вещи и товары для дома со скидкой",
            letter(
                "#b45309",
                "Осенняя распродажа",
                "до −50 %",
                "тёплые вещи, товары для дома и продукты к осеннему столу — со скидкой до конца недели.",
                "Смотреть предложения",
                "/sale/autumn",
                "Адреса магазинов",
            ),
            "autumn_sale",
        ),
    ),
    "winter_a": (
        "New winter collection — A",
        "Вариант A теста «Новая зимняя коллекция»: витрина коллекции.",
        _email(
            "Новая зимняя коллекция уже в магазинах",
            "Пуховики, шапки и всё для холодов",
            letter(
                "#1d4ed8",
                "Зимняя коллекция",
                "NEW",
                "пуховики, шапки, варежки и всё, что нужно для холодов, уже в магазинах и на сайте.",
                "Смотреть коллекцию",
                "/collections/winter",
                "Найти магазин рядом",
            ),
            "winter_collection",
        ),
    ),
    "winter_b": (
        "New winter collection — B",
        "Вариант B теста «Новая зимняя коллекция»: личное обращение и подборка по прошлым покупкам.",
        _email(
            "{{ client.first_name }}, ваша зимняя коллекция готова",
            "Мы собрали подборку по вашим покупкам",
            letter(
                "#0f766e",
                "Подобрали для вас",
                "−15 %",
                "мы собрали зимнюю подборку по вашим прошлым покупкам — и дарим скидку 15 % на первую вещь из неё.",
                "Открыть подборку",
                "/collections/winter/for-you",
                "Найти магазин рядом",
            ),
            "winter_collection",
        ),
    ),
    "weekend_sale": (
        "Weekend -20 %",
        "Скидка 20 % на всё в выходные.",
        _email(
            "Только в эти выходные: −20 % на всё",
            "Суббота и воскресенье, во всех магазинах и на сайте",
            letter(
                "#be123c",
                "Выходные со скидкой",
                "−20 %",
                "в субботу и воскресенье скидка 20 % на всё — в магазинах и на сайте.",
                "За покупками",
                "/sale/weekend",
                "Адреса магазинов",
            ),
            "weekend_20",
        ),
    ),
    "welcome_offer": (
        "Welcome offer: 10 % off",
        "Персональный промокод на скидку 10 %: у каждого получателя свой код группы WELCOME.",
        _email(
            "Ваш личный промокод на скидку 10 %",
            "Покажите его на кассе или введите на сайте",
            letter(
                "#0369a1",
                "Скидка 10 % по вашему промокоду",
                "{{ client.promocode('WELCOME') }}",
                "покажите этот промокод на кассе или введите его при заказе на сайте — и получите скидку 10 % на всю покупку. Код действует один раз.",
                "За покупками",
                "/welcome",
                "Адреса магазинов",
            ),
            "welcome_offer",
        ),
    ),
    "points_reminder": (
        "Loyalty points reminder",
        "Напоминание о бонусах на карте: сколько их и как потратить.",
        _email(
            "{{ client.first_name }}, бонусы на вашей карте ждут",
            "Оплатите бонусами до 30 % покупки",
            letter(
                "#7c3aed",
                "Ваши бонусы",
                "до 30 %",
                "покупки можно оплатить бонусами с карты {{ client.card_number }}. Не дайте им сгореть!",
                "Потратить бонусы",
                "/account/bonus",
                "Как работает программа",
            ),
            "points_reminder",
        ),
    ),
    "black_friday": (
        "Black Friday",
        "Чёрная пятница: главная распродажа года.",
        _email(
            "Чёрная пятница: скидки до 70 % уже начались",
            "Три дня самых больших скидок года",
            letter(
                "#111827",
                "Чёрная пятница",
                "до −70 %",
                "три дня самых больших скидок года. Успейте, пока всё в наличии!",
                "К распродаже",
                "/black-friday",
                "Адреса магазинов",
            ),
            "black_friday",
        ),
    ),
    "december_news": (
        "December newsletter",
        "Новости месяца: новые магазины, новогодние подарки и график работы в праздники.",
        _email(
            "Декабрь в {{ company }}: подарки, новые магазины и график работы",
            "Всё, что нужно знать перед праздниками",
            letter(
                "#15803d",
                "Новости декабря",
                "🎄",
                "открыли три новых магазина, собрали идеи подарков и рассказываем, как мы работаем в праздники.",
                "Идеи подарков",
                "/gifts",
                "График работы в праздники",
            ),
            "december_news",
        ),
    ),
    "christmas": (
        "Christmas gifts",
        "Подарки к Рождеству и Новому году.",
        _email(
            "Подарки для всей семьи — со скидкой до 40 %",
            "Соберите подарки заранее",
            letter(
                "#b91c1c",
                "Подарки к празднику",
                "до −40 %",
                "соберите подарки для всей семьи заранее — упакуем бесплатно.",
                "Выбрать подарки",
                "/gifts/christmas",
                "Адреса магазинов",
            ),
            "christmas",
        ),
    ),
    "comeback_viber": (
        "Come back for 300 bonus points",
        "Возвращаем покупателей, не покупавших полгода: 300 бонусов на карту. Уходит каскадом с SMS.",
        {
            "channel": "viber",
            "text": "{{ client.first_name }}, мы скучаем! Дарим 300 бонусов на карту — они действуют 14 дней. Ждём вас в магазинах и на сайте.",
            "button_text": "Забрать бонусы",
            "button_url": f"{SITE}/comeback",
            "utm": {"utm_source": "smartcomm", "utm_medium": "viber", "utm_campaign": "comeback"},
        },
    ),
    "comeback_sms": (
        "Come back for 300 bonus points",
        "SMS каскада Viber → SMS «Come back for 300 bonus points».",
        {
            "channel": "sms",
            "text": "{{ client.first_name }}, дарим 300 бонусов на карту на 14 дней. Ждём вас в {{ company }}!",
        },
    ),
    "black_friday_sms": (
        "Black Friday: last day",
        "Последний день Чёрной пятницы.",
        {
            "channel": "sms",
            "text": "Последний день Чёрной пятницы: скидки до 70 %. https://shop.example.ru/bf",
        },
    ),
    "new_year_sms": (
        "New Year greetings",
        "Поздравление с Новым годом.",
        {"channel": "sms", "text": "{{ client.first_name }}, с наступающим Новым годом! Ваш {{ company }}"},
    ),
    "new_arrivals_push": (
        "New arrivals in the app",
        "Новинки недели в приложении.",
        {
            "channel": "push",
            "title": "Новинки недели",
            "body": "{{ client.first_name }}, в приложении уже 120 новых товаров. Посмотрите первыми!",
            "link": "myapp://catalog/new",
        },
    ),
    "flash_sale_push": (
        "Weekend flash sale",
        "Распродажа выходного дня в приложении.",
        {
            "channel": "push",
            "title": "Распродажа: только 24 часа",
            "body": "Скидки до 50 % в приложении до полуночи.",
            "link": "myapp://sale/flash",
        },
    ),
}


def add_templates(session: Session, actor: Actor, extra: dict[str, Template] | None = None) -> dict[str, int]:
    """Save the templates the library does not have yet — those above and the `extra` ones made at run
    time (a poll's link names the poll's code, known once it exists); the latest version id by key."""
    repository = TemplateRepository(session)
    versions: dict[str, int] = {}
    for key, (name, description, content) in (TEMPLATES | (extra or {})).items():
        data = TemplateCreate.model_validate({"name": name, "description": description, "content": content})
        channel = data.content.channel
        existing = {found.casefold(): id_ for id_, found in repository.names(channel)}
        template_id = existing.get(name.casefold())
        if template_id is None:
            versions[key] = template_service.create(session, actor, data)[1].id
        else:
            versions[key] = template_service.latest(session, template_service.get(session, template_id)).id
    return versions
