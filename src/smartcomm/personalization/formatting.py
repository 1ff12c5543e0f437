"""Filters for dates, money, numbers and plural forms in the project's locale, time zone and currency.

Formats come from CLDR (babel). Money is formatted by a pattern worked out once per locale and
currency (babel's general formatter costs more than the rest of a typical render); dates are cached,
since a mass mailing formats the same few hundred dates again and again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_datetime, format_time
from babel.numbers import (
    get_currency_precision,
    get_currency_symbol,
    get_decimal_symbol,
    get_group_symbol,
)

from smartcomm.kit.i18n import lazy
from smartcomm.personalization.errors import RenderError
from smartcomm.personalization.runtime import RenderSettings, current_state

DATE_STYLES = ("short", "medium", "long", "full")
# Currencies whose symbol CLDR gives only in their own locale (English shows "RUB"): use the local one.
LOCAL_SYMBOL_LOCALES = {"RUB": "ru", "BYN": "be", "KZT": "kk", "UZS": "uz", "KGS": "ky", "AMD": "hy"}
MAX_PATTERN = 100


def _settings() -> RenderSettings:
    return current_state().settings


# --- dates -----------------------------------------------------------------------------------------


def _local(value: datetime, zone: str) -> datetime:
    if value.tzinfo is None:  # stored values are UTC; a naive one came from a caller in UTC too
        value = value.replace(tzinfo=ZoneInfo("UTC"))
    return value.astimezone(ZoneInfo(zone))


def _pattern(style: str) -> str:
    if len(style) > MAX_PATTERN:
        raise RenderError(
            lazy("a date format is at most %(limit)s characters"), "bad_argument", limit=MAX_PATTERN
        )
    return style


@lru_cache(maxsize=8192)
def _format_date(value: date, style: str, locale: str) -> str:
    return str(format_date(value, format=_pattern(style), locale=locale))


@lru_cache(maxsize=8192)
def _format_day_of(value: datetime, style: str, locale: str, zone: str) -> str:
    return _format_date(_local(value, zone).date(), style, locale)


@lru_cache(maxsize=8192)
def _format_datetime(value: datetime, style: str, locale: str, zone: str) -> str:
    return str(format_datetime(_local(value, zone), format=_pattern(style), locale=locale))


@lru_cache(maxsize=2048)
def _format_time(value: datetime | time, style: str, locale: str, zone: str) -> str:
    if isinstance(value, datetime):
        value = _local(value, zone).timetz()
    return str(format_time(value, format=_pattern(style), locale=locale))


def _as_date_or_time(value: Any) -> date | None:
    if isinstance(value, date):
        return value
    if isinstance(value, str) and value:
        try:
            return (
                datetime.fromisoformat(value) if "T" in value or " " in value else date.fromisoformat(value)
            )
        except ValueError:
            return None
    return None


def date_filter(value: Any, style: str = "medium") -> str:
    """A date (or the day of a moment, in the project's time zone): `{{ d|date }}`, `{{ d|date('long') }}`,
    or a CLDR pattern: `{{ d|date('d MMMM') }}`."""
    found = _as_date_or_time(value)
    if found is None:
        return "" if value is None or value == "" else str(value)
    settings = _settings()
    if isinstance(found, datetime):  # the day of a moment in the project's time zone
        return _format_day_of(found, style, settings.locale, settings.time_zone)
    return _format_date(found, style, settings.locale)


def datetime_filter(value: Any, style: str = "medium") -> str:
    """A moment in the project's time zone: `{{ receipt.purchased_at|datetime('short') }}`."""
    found = _as_date_or_time(value)
    if found is None:
        return "" if value is None or value == "" else str(value)
    if not isinstance(found, datetime):
        return date_filter(found, style)
    settings = _settings()
    return _format_datetime(found, style, settings.locale, settings.time_zone)


def time_filter(value: Any, style: str = "short") -> str:
    """The time of a moment in the project's time zone: `{{ event.at|time }}`."""
    if not isinstance(value, (datetime, time)):
        found = _as_date_or_time(value)
        if not isinstance(found, datetime):
            return "" if value is None else str(value)
        value = found
    settings = _settings()
    return _format_time(value, style, settings.locale, settings.time_zone)


# --- numbers and money -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MoneyFormat:
    prefix: str
    suffix: str
    negative_prefix: str
    negative_suffix: str
    decimal: str
    group: str
    digits: int


def _currency_symbol(currency: str, locale: str) -> str:
    symbol = str(get_currency_symbol(currency, locale=locale))
    if symbol == currency and currency in LOCAL_SYMBOL_LOCALES:
        symbol = str(get_currency_symbol(currency, locale=LOCAL_SYMBOL_LOCALES[currency]))
    return symbol


@lru_cache(maxsize=64)
def money_format(locale: str, currency: str) -> MoneyFormat:
    """The locale's currency pattern with the currency's symbol and precision, worked out once."""
    pattern = Locale.parse(locale).currency_formats["standard"]
    symbol = _currency_symbol(currency, locale)
    prefix, negative_prefix = (part.replace("¤", symbol) for part in pattern.prefix)
    suffix, negative_suffix = (part.replace("¤", symbol) for part in pattern.suffix)
    return MoneyFormat(
        prefix,
        suffix,
        negative_prefix,
        negative_suffix,
        str(get_decimal_symbol(locale)),
        str(get_group_symbol(locale)),
        int(get_currency_precision(currency)),
    )


def _decimal(value: Any) -> Decimal | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value).strip().replace(",", "."))
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def _digits(number: Decimal, digits: int, decimal: str, group: str) -> str:
    text = f"{abs(number):,.{digits}f}"
    return text.replace(",", "\x00").replace(".", decimal).replace("\x00", group)


def money_filter(value: Any, digits: int | None = None, symbol: bool = True) -> str:
    """An amount in the project's currency: `{{ client.total_amount|money }}` → "12 345,50 ₽"
    (`money(0)` without kopecks, `money(symbol=false)` without the currency)."""
    settings = _settings()
    try:
        return _money(value, digits, symbol, settings.locale, settings.currency)
    except TypeError:  # an unhashable value: not an amount
        return str(value)


@lru_cache(maxsize=16384)
def _money(value: Any, digits: int | None, symbol: bool, locale: str, currency: str) -> str:
    # Cached: a mailing shows the same prices and totals to many recipients.
    number = _decimal(value)
    if number is None:
        return "" if value is None else str(value)
    fmt = money_format(locale, currency)
    places = fmt.digits if digits is None else max(0, min(int(digits), 6))
    body = _digits(number, places, fmt.decimal, fmt.group)
    if not symbol:
        return f"-{body}" if number < 0 else body
    if number < 0:
        return f"{fmt.negative_prefix}{body}{fmt.negative_suffix}"
    return f"{fmt.prefix}{body}{fmt.suffix}"


def number_filter(value: Any, digits: int = 0) -> str:
    """A number with the locale's separators: `{{ 12345.5|number(1) }}` → "12 345,5"."""
    settings = _settings()
    try:
        return _number(value, digits, settings.locale, settings.currency)
    except TypeError:  # an unhashable value: not a number
        return str(value)


@lru_cache(maxsize=8192)
def _number(value: Any, digits: int, locale: str, currency: str) -> str:
    number = _decimal(value)
    if number is None:
        return "" if value is None else str(value)
    fmt = money_format(locale, currency)
    body = _digits(number, max(0, min(int(digits), 6)), fmt.decimal, fmt.group)
    return f"-{body}" if number < 0 else body


# --- plural forms ----------------------------------------------------------------------------------


def _russian_form(number: Decimal) -> int:
    if number != number.to_integral_value():
        return 1  # 1,5 товара: fractions take the genitive singular
    n = abs(int(number))
    if n % 10 == 1 and n % 100 != 11:
        return 0
    if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
        return 1
    return 2


def plural_filter(value: Any, *forms: str) -> str:
    """The word form for a number. Three forms follow Russian rules —
    `{{ n|plural('товар', 'товара', 'товаров') }}` — and two forms English ones —
    `{{ n|plural('item', 'items') }}`. Only the word is returned: `{{ n }} {{ n|plural(…) }}`."""
    if len(forms) not in (2, 3):
        raise RenderError(
            lazy("plural takes two forms (one, many) or three (one, few, many: товар, товара, товаров)"),
            "bad_argument",
        )
    number = _decimal(value)
    if number is None:
        number = Decimal(0)
    if len(forms) == 2:
        return str(forms[0] if number == 1 else forms[1])
    return str(forms[_russian_form(number)])


FILTERS = {
    "date": date_filter,
    "datetime": datetime_filter,
    "time": time_filter,
    "money": money_filter,
    "number": number_filter,
    "plural": plural_filter,
}
