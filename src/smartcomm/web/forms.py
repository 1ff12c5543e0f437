"""Turning posted forms into validated schemas, and validation errors into translated field messages."""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from pydantic import BaseModel, ValidationError
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile

from smartcomm.kit.errors import DomainError, location_to_path
from smartcomm.kit.i18n import LazyString, lazy

SchemaT = TypeVar("SchemaT", bound=BaseModel)

FormErrors = dict[str, str]

_MESSAGES: dict[str, LazyString] = {
    "missing": lazy("This field is required."),
    "string_too_short": lazy("This field is required."),
    "string_too_long": lazy("This value is too long."),
    "value_error": lazy("Enter a valid value."),
    "enum": lazy("Choose one of the offered values."),
    "literal_error": lazy("Choose one of the offered values."),
    "date_from_datetime_parsing": lazy("Enter a date."),
    "date_parsing": lazy("Enter a date."),
    "int_parsing": lazy("Enter a whole number."),
    "bool_parsing": lazy("Choose yes or no."),
}
# Pydantic's words for limits, said the product's way (and translated).
_LIMIT_MESSAGES: dict[str, LazyString] = {
    "greater_than_equal": lazy("Enter a number not less than %(limit)s."),
    "less_than_equal": lazy("Enter a number not greater than %(limit)s."),
    "greater_than": lazy("Enter a number greater than %(limit)s."),
    "float_parsing": lazy("Enter a number."),
    "decimal_parsing": lazy("Enter a number."),
    "too_long": lazy("Too many values."),
    "datetime_parsing": lazy("Enter a date and time."),
}
_EMAIL_MESSAGE = lazy("Enter a valid e-mail address.")
_PASSWORD_SHORT = lazy("Use at least 8 characters.")


async def read_form(request: Request) -> dict[str, Any]:
    """The posted fields: empty strings become None, files are kept, `name[]` fields become lists.

    For other repeated names the last value wins: a checkbox posts after its hidden "false".
    """
    form = await request.form()
    data: dict[str, Any] = {}
    for key in form:
        if key == "csrf_token":
            continue
        cleaned = [v if isinstance(v, UploadFile) else (v.strip() or None) for v in form.getlist(key)]
        if key.endswith("[]"):
            data[key[:-2]] = [v for v in cleaned if v is not None]
        else:
            data[key] = cleaned[-1]
    return data


def validate_form(schema: type[SchemaT], data: dict[str, Any]) -> tuple[SchemaT | None, FormErrors]:
    try:
        return schema.model_validate(data), {}
    except ValidationError as error:
        return None, errors_from_validation(error)


def errors_from_validation(error: ValidationError) -> FormErrors:
    errors: FormErrors = {}
    for item in error.errors():
        name = str(item["loc"][0]) if item["loc"] else "__all__"
        errors.setdefault(name, _message_for(name, item))
    return errors


def field_errors(error: ValidationError) -> FormErrors:
    """Pydantic's errors keyed by the full path of their field (`variants[1].share`)."""
    errors: FormErrors = {}
    for item in error.errors():
        key = location_to_path(item["loc"]) if item["loc"] else "__all__"
        limit = _LIMIT_MESSAGES.get(item["type"])
        context = item.get("ctx") or {}
        if limit is not None:
            text = str(limit) % {"limit": _plain(next(iter(context.values()), ""))}
        else:
            text = _message_for(key, item)
        errors.setdefault(key, text)
    return errors


def rejected(session: Session, error: DomainError) -> FormErrors:
    """Undo whatever the failed action flushed, and describe the error per form field."""
    session.rollback()
    errors: FormErrors = {e.field: _translate(e.message) for e in error.errors}
    if not errors:
        errors["__all__"] = _translate(error.message)
    return errors


def _message_for(name: str, item: Any) -> str:
    if "email" in name and item["type"] == "value_error":
        return str(_EMAIL_MESSAGE)
    if "password" in name and item["type"] == "string_too_short":
        return str(_PASSWORD_SHORT)
    message = _MESSAGES.get(item["type"])
    return str(message) if message else str(item["msg"])


def _plain(value: Any) -> str:
    """A limit as people write it: 100.0 shows as 100."""
    text = str(value)
    return text[:-2] if text.endswith(".0") else text


def _translate(message: str) -> str:
    return str(LazyString(message))


PostedForm = Annotated[dict[str, Any], Depends(read_form)]
