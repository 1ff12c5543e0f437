"""Turning posted forms into validated schemas, and validation errors into translated field messages."""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from pydantic import BaseModel, ValidationError
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile

from smartcomm.kit.errors import DomainError
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


def _translate(message: str) -> str:
    return str(LazyString(message))


PostedForm = Annotated[dict[str, Any], Depends(read_form)]
