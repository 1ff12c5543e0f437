"""Validation of custom-field values against their definitions (shared by every intake path)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from smartcomm.kit.errors import FieldError
from smartcomm.kit.time import ensure_utc
from smartcomm.kit.types import MAX_INT64, NUL_MESSAGE

# The caps of custom values by type. Text is kept in the row's JSON, so a long text makes every read of
# the row longer; numbers are compared in SQL, where they must fit a 64-bit integer or a double exactly.
MAX_TEXT_LENGTH = 1000
MAX_DECIMAL = Decimal(10) ** 15
MAX_DECIMAL_DIGITS = 21


def _to_string(value: Any) -> str:
    if isinstance(value, (dict, list)):
        raise ValueError("expected text")
    text = str(value)
    if len(text) > MAX_TEXT_LENGTH:
        raise ValueError(f"at most {MAX_TEXT_LENGTH} characters")
    if "\x00" in text:
        raise ValueError(NUL_MESSAGE)
    return text


def _to_integer(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError("expected a whole number")
    text = str(value).strip()
    if not isinstance(value, int) and not (text.lstrip("-").isascii() and text.lstrip("-").isdigit()):
        raise ValueError("expected a whole number")
    number = value if isinstance(value, int) else int(text)
    if abs(number) > MAX_INT64:
        raise ValueError(f"expected a whole number between -{MAX_INT64} and {MAX_INT64}")
    return number


def _to_decimal(value: Any) -> str:
    if isinstance(value, bool):
        raise ValueError("expected a number")
    try:
        number = Decimal(str(value).strip().replace(",", "."))
    except InvalidOperation as error:
        raise ValueError("expected a number") from error
    if not number.is_finite():
        raise ValueError("expected a number")
    if abs(number) >= MAX_DECIMAL or len(number.as_tuple().digits) > MAX_DECIMAL_DIGITS:
        raise ValueError(f"expected a number below 10^15 with at most {MAX_DECIMAL_DIGITS} digits")
    return str(number)


def _to_boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("y", "yes", "true", "1"):
        return True
    if text in ("n", "no", "false", "0"):
        return False
    raise ValueError("expected Y or N")


def _to_date(value: Any) -> str:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value.isoformat()
    try:
        return date.fromisoformat(str(value).strip()).isoformat()
    except ValueError as error:
        raise ValueError("expected a date as YYYY-MM-DD") from error


def _to_datetime(value: Any) -> str:
    if isinstance(value, datetime):
        return ensure_utc(value).isoformat()
    try:
        return ensure_utc(datetime.fromisoformat(str(value).strip())).isoformat()
    except ValueError as error:
        raise ValueError("expected an ISO 8601 date and time") from error


CONVERTERS = {
    "string": _to_string,
    "integer": _to_integer,
    "decimal": _to_decimal,
    "boolean": _to_boolean,
    "date": _to_date,
    "datetime": _to_datetime,
}


def clean_custom_values(
    values: Mapping[str, Any], types: Mapping[str, str], path: str
) -> tuple[dict[str, Any], list[FieldError]]:
    """Check `values` against the custom fields' `types` (code -> type); values are stored JSON-ready.

    `None` clears a field. Unknown codes and values of the wrong type are errors naming `path.code`.
    """
    cleaned: dict[str, Any] = {}
    errors: list[FieldError] = []
    for code, value in values.items():
        field_path = f"{path}.{code}"
        field_type = types.get(code)
        if field_type is None:
            errors.append(
                FieldError(field_path, "unknown custom field (define it in Settings → Fields)", "unknown")
            )
            continue
        if value is None or value == "":
            cleaned[code] = None
            continue
        try:
            cleaned[code] = CONVERTERS[field_type](value)
        except ValueError as error:
            errors.append(FieldError(field_path, str(error), "type"))
    return cleaned, errors
