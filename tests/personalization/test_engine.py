"""The engine's filters, macros and hooks, as a designer uses them in a template."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from markupsafe import Markup

from smartcomm.personalization import hooks
from smartcomm.personalization.errors import RenderError
from smartcomm.personalization.hooks import HookCall
from smartcomm.personalization.runtime import RenderSettings
from smartcomm.personalization.views import ClientView
from tests.personalization.helpers import render

RU = RenderSettings("ru", "Europe/Moscow", "RUB")
EN = RenderSettings("en", "America/New_York", "USD")
CLIENT = ClientView(
    {"id": 42, "first_name": "Анна", "last_name": "Смирнова", "full_name": "Смирнова Анна"},
    {"full_name_alias": "Аня", "size": "M"},
)


def test_money_follows_the_project_locale_and_currency() -> None:
    amount = Decimal("12345.5")
    assert render("{{ a|money }}", a=amount, settings=RU) == "12\xa0345,50\xa0₽"
    assert render("{{ a|money(0) }}", a=amount, settings=RU) == "12\xa0346\xa0₽"
    assert render("{{ a|money(symbol=false) }}", a=amount, settings=RU) == "12\xa0345,50"
    assert render("{{ a|money }}", a=amount, settings=EN) == "$12,345.50"
    assert render("{{ a|money }}", a=Decimal("-5"), settings=EN) == "-$5.00"
    assert render("{{ a|money }}", a=amount, settings=RenderSettings("en", "UTC", "RUB")) == "₽12,345.50"
    assert render("{{ a|number(1) }}", a=amount, settings=RU) == "12\xa0345,5"


def test_dates_follow_the_project_locale_and_time_zone() -> None:
    late_evening_utc = datetime(2026, 12, 5, 22, 30, tzinfo=UTC)  # already the 6th in Moscow
    assert render("{{ d|date('long') }}", d=late_evening_utc, settings=RU) == "6 декабря 2026\u202fг."
    assert render("{{ d|date }}", d=late_evening_utc, settings=EN) == "Dec 5, 2026"
    assert render("{{ d|date('d MMMM') }}", d=date(2026, 3, 8), settings=RU) == "8 марта"
    assert render("{{ d|datetime('short') }}", d=late_evening_utc, settings=RU) == "06.12.2026, 01:30"
    assert render("{{ d|time }}", d=late_evening_utc, settings=RU) == "01:30"
    assert render("{{ d|date }}", d=None, settings=RU) == ""


@pytest.mark.parametrize(
    ("n", "word"),
    [
        (1, "товар"),
        (2, "товара"),
        (4, "товара"),
        (5, "товаров"),
        (11, "товаров"),
        (12, "товаров"),
        (21, "товар"),
        (22, "товара"),
        (25, "товаров"),
        (101, "товар"),
        (111, "товаров"),
        (0, "товаров"),
        (Decimal("1.5"), "товара"),
    ],
)
def test_russian_plural_forms(n: int | Decimal, word: str) -> None:
    assert render("{{ n|plural('товар', 'товара', 'товаров') }}", n=n) == word


def test_english_plural_forms_and_a_clear_error_for_a_wrong_call() -> None:
    assert render("{{ 1|plural('item', 'items') }} {{ 3|plural('item', 'items') }}") == "item items"
    with pytest.raises(RenderError) as raised:
        render("{{ 3|plural('item') }}")
    assert "plural takes two forms" in raised.value.message


def test_string_macro_draws_from_the_given_ranges() -> None:
    codes = {render("{{ string('0-9', 4) }}") for _ in range(50)}
    assert all(re.fullmatch(r"[0-9]{4}", code) for code in codes)
    assert len(codes) > 40  # random, not a fixed value
    assert re.fullmatch(r"[A-Z0-9]{8}", render("{{ string('A-Z0-9', 8) }}"))
    assert re.fullmatch(r"SALE-[a-f0-9]{6}", render("SALE-{{ string('a-f0-9', 6) }}"))
    with pytest.raises(RenderError) as raised:
        render("{{ string('0-9', 1000) }}")
    assert "between 1 and 64" in raised.value.message


def test_client_fields_custom_fields_and_the_reference_style() -> None:
    output = render(
        "{{ client.first_name }} / {{ client.custom.size }} / {{ client.properties.full_name }} / "
        "{{ client.properties.size }} / [{{ client.middle_name }}]",
        client=CLIENT,
    )
    assert output == "Анна / M / Смирнова Анна / M / []"


@pytest.fixture
def promo_hook(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[HookCall]]:
    """A recording hook in place of the promo code area's own (put back after the test)."""
    calls: list[HookCall] = []

    def issue(call: HookCall) -> str:
        calls.append(call)
        return f"{call.argument}-0001"

    monkeypatch.setitem(hooks._registry, hooks.PROMOCODE, issue)
    yield calls


def test_macros_of_areas_not_installed_fail_clearly(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in hooks.UNAVAILABLE:  # as in an installation without the promo code and poll areas
        monkeypatch.delitem(hooks._registry, name, raising=False)
    for template, reason in (
        ("{{ client.promocode('SPRING') }}", "promo codes are not available yet"),
        ("{{ client.last_promocode('SPRING') }}", "promo codes are not available yet"),
        ("{{ client.poll('POLL-151') }}", "polls are not available yet"),
    ):
        with pytest.raises(RenderError) as raised:
            render(template, client=CLIENT)
        assert raised.value.reason == "hook_unavailable"
        assert raised.value.message == reason


def test_a_registered_hook_gets_the_customer_and_the_argument(promo_hook: list[HookCall]) -> None:
    assert render("Your code: {{ client.promocode('SPRING') }}", client=CLIENT) == "Your code: SPRING-0001"
    assert promo_hook == [HookCall("promocode", 42, "SPRING", None, False)]


def test_html_parts_escape_values_and_text_parts_do_not() -> None:
    hostile = ClientView({"first_name": "<script>alert(1)</script>"}, {})
    assert render("<p>{{ client.first_name }}</p>", html=True, client=hostile) == (
        "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>"
    )
    assert render("{{ client.first_name }}", client=hostile) == "<script>alert(1)</script>"


def test_a_syntax_error_names_its_line() -> None:
    with pytest.raises(RenderError) as raised:
        render("Hello\n{{ client.first_name }}\n{% endfor %}")
    assert raised.value.reason == "syntax"
    assert raised.value.line == 3
    assert "Encountered unknown tag 'endfor'" in raised.value.message


def test_printed_values_are_escaped_once_in_html_and_none_prints_nothing() -> None:
    values = {"a": Markup("<b>ok</b>"), "b": None, "c": 5, "d": "<i>"}
    assert render("{{ a }}|{{ b }}|{{ c }}|{{ d }}", html=True, **values) == "<b>ok</b>||5|&lt;i&gt;"
    assert render("{{ a }}|{{ b }}|{{ c }}|{{ d }}", **values) == "<b>ok</b>||5|<i>"
    switched = "{% autoescape false %}{{ d }}{% endautoescape %}{{ d }}"
    assert render(switched, html=True, **values) == "<i>&lt;i&gt;"
