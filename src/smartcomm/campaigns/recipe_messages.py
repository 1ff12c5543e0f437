"""The messages of the instant campaigns (`campaigns.recipes`), in English and Russian: each becomes a
template in the language of the marketer who uses the recipe. `{group}` stands for the code of a matching
promo-code group, `{poll}` for the code of the newest open poll."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

Text = dict[str, str]  # language → text


@dataclass(frozen=True)
class Message:
    """A message a send node needs: its template's name and content in both languages. `{group}` in the
    content stands for the promo-code group's code, `{poll}` for the poll's."""

    channel: str  # email | sms
    name: Text
    body: Text  # HTML of an e-mail, text of an SMS
    subject: Text = field(default_factory=dict)
    group: tuple[str, ...] = ()  # codes or names a matching promo-code group may have
    poll: bool = False


def _email(name: Text, subject: Text, body: Text, **needs: Any) -> Message:
    return Message("email", name, body, subject, **needs)


def _sms(name: Text, body: Text, **needs: Any) -> Message:
    return Message("sms", name, body, **needs)


def _html(*paragraphs: str) -> str:
    return "".join(f"<p>{text}</p>" for text in paragraphs)


UNSUBSCRIBE = {
    "en": "<p style='color:#888;font-size:12px'><a href='{{ unsubscribe_url }}'>Unsubscribe</a></p>",
    "ru": "<p style='color:#888;font-size:12px'><a href='{{ unsubscribe_url }}'>Отписаться</a></p>",
}
CART_LINES = "{% for p in containers.cart.products %}{{ p.name }} — {{ p.price|money }}<br>{% endfor %}"


def _link(text: str) -> str:
    return f"<a href='https://shop.example'>{text}</a>"


def _letter(en: tuple[str, ...], ru: tuple[str, ...]) -> Text:
    """An e-mail's HTML in both languages: a paragraph per line, and the unsubscribe link."""
    return {"en": _html(*en) + UNSUBSCRIBE["en"], "ru": _html(*ru) + UNSUBSCRIBE["ru"]}


# --- the messages --------------------------------------------------------------------------------------

BIRTHDAY_GROUP = ("BIRTHDAY", "Birthday", "День рождения")
WINBACK_GROUP = ("WINBACK", "COMEBACK", "Win-back")

HELLO = _email(
    {"en": "Welcome series: welcome", "ru": "Приветственная серия: приветствие"},
    {"en": "Welcome, {{ client.first_name }}!", "ru": "Добро пожаловать, {{ client.first_name }}!"},
    _letter(
        (
            "Hello, {{ client.first_name }}!",
            f"Thank you for joining our loyalty programme. {_link('Visit the shop')} to see what is new.",
        ),
        (
            "Здравствуйте, {{ client.first_name }}!",
            f"Спасибо, что присоединились к программе лояльности. {_link('Загляните в магазин')}"
            " — там много нового.",
        ),
    ),
)
FIRST_PURCHASE = _email(
    {"en": "Welcome series: promo code", "ru": "Приветственная серия: промокод"},
    {"en": "A gift for your first purchase", "ru": "Подарок к первой покупке"},
    _letter(
        (
            "{{ client.first_name }}, here is your promo code for the first purchase:"
            " <b>{{ client.promocode('{group}') }}</b>.",
            _link("Choose something"),
        ),
        (
            "{{ client.first_name }}, ваш промокод на первую покупку:"
            " <b>{{ client.promocode('{group}') }}</b>.",
            _link("Выбрать подарок"),
        ),
    ),
    group=("WELCOME", "Welcome"),
)
BIRTHDAY_EMAIL = _email(
    {"en": "Birthday: greeting with a promo code", "ru": "День рождения: поздравление с промокодом"},
    {
        "en": "Happy birthday, {{ client.first_name }}! 🎁",
        "ru": "С днём рождения, {{ client.first_name }}! 🎁",
    },
    _letter(
        (
            "Happy birthday, {{ client.first_name }}!",
            "Our gift to you: promo code <b>{{ client.promocode('{group}') }}</b>.",
            _link("Use it in the shop"),
        ),
        (
            "С днём рождения, {{ client.first_name }}!",
            "Наш подарок — промокод <b>{{ client.promocode('{group}') }}</b>.",
            _link("Воспользоваться в магазине"),
        ),
    ),
    group=BIRTHDAY_GROUP,
)
BIRTHDAY_SMS = _sms(
    {"en": "Birthday: SMS with the promo code", "ru": "День рождения: SMS с промокодом"},
    {
        "en": "Happy birthday, {{ client.first_name }}! Your gift promo code:"
        " {{ client.last_promocode('{group}') }}",
        "ru": "С днём рождения, {{ client.first_name }}! Ваш подарочный промокод:"
        " {{ client.last_promocode('{group}') }}",
    },
    group=BIRTHDAY_GROUP,
)
CART_EMAIL = _email(
    {"en": "Abandoned cart: reminder", "ru": "Брошенная корзина: напоминание"},
    {"en": "You left something in your cart", "ru": "Вы кое-что оставили в корзине"},
    _letter(
        ("{{ client.first_name }}, your cart is waiting for you:", CART_LINES, _link("Complete the order")),
        ("{{ client.first_name }}, ваша корзина ждёт вас:", CART_LINES, _link("Оформить заказ")),
    ),
)
CART_SMS = _sms(
    {"en": "Abandoned cart: SMS", "ru": "Брошенная корзина: SMS"},
    {
        "en": "{{ client.first_name }}, the products in your cart are still waiting for you:"
        " https://shop.example/cart",
        "ru": "{{ client.first_name }}, товары в вашей корзине всё ещё ждут вас: https://shop.example/cart",
    },
)
COME_BACK = _email(
    {"en": "Lost view: invitation back", "ru": "Потерянный просмотр: приглашение вернуться"},
    {"en": "Still thinking it over?", "ru": "Всё ещё выбираете?"},
    _letter(
        (
            "{{ client.first_name }}, we noticed you liked something in our shop.",
            f"It is still available — {_link('take another look')}.",
        ),
        (
            "{{ client.first_name }}, вам что-то приглянулось в нашем магазине.",
            f"Товар ещё в наличии — {_link('посмотрите ещё раз')}.",
        ),
    ),
)
WINBACK_OFFER = _email(
    {"en": "Win-back: offer", "ru": "Возврат клиентов: предложение"},
    {"en": "We miss you, {{ client.first_name }}", "ru": "Мы скучаем, {{ client.first_name }}"},
    _letter(
        (
            "{{ client.first_name }}, it has been a while!",
            "Come back with promo code <b>{{ client.promocode('{group}') }}</b>.",
            _link("To the shop"),
        ),
        (
            "{{ client.first_name }}, давно не виделись!",
            "Возвращайтесь с промокодом <b>{{ client.promocode('{group}') }}</b>.",
            _link("В магазин"),
        ),
    ),
    group=WINBACK_GROUP,
)
WINBACK_REMINDER = _email(
    {"en": "Win-back: reminder", "ru": "Возврат клиентов: напоминание"},
    {"en": "Your promo code is still waiting", "ru": "Ваш промокод всё ещё ждёт"},
    _letter(
        (
            "{{ client.first_name }}, your promo code <b>{{ client.last_promocode('{group}') }}</b>"
            " is still valid.",
            _link("Use it now"),
        ),
        (
            "{{ client.first_name }}, ваш промокод <b>{{ client.last_promocode('{group}') }}</b>"
            " всё ещё действует.",
            _link("Воспользоваться"),
        ),
    ),
    group=WINBACK_GROUP,
)
POLL_SMS = _sms(
    {"en": "Post-purchase poll: SMS", "ru": "Опрос после покупки: SMS"},
    {
        "en": "{{ client.first_name }}, how was your purchase? Tell us in two minutes:"
        " {{ client.poll('{poll}') }}",
        "ru": "{{ client.first_name }}, как вам покупка? Расскажите за две минуты:"
        " {{ client.poll('{poll}') }}",
    },
    poll=True,
)
CODE_REMINDER = _email(
    {"en": "Promo-code reminder", "ru": "Напоминание о промокоде"},
    {"en": "Don't forget your promo code", "ru": "Не забудьте про промокод"},
    _letter(
        (
            "{{ client.first_name }}, your promo code <b>{{ client.last_promocode('{group}') }}</b>"
            " has not been used yet.",
            _link("Use it in the shop"),
        ),
        (
            "{{ client.first_name }}, ваш промокод <b>{{ client.last_promocode('{group}') }}</b>"
            " ещё не использован.",
            _link("Воспользоваться в магазине"),
        ),
    ),
    group=("*",),  # the newest group
)
