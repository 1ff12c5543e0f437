"""Checks shared by the settings of several provider kinds; each names the field it refuses."""

from __future__ import annotations

import json
import ssl
from typing import Any
from urllib.parse import urlsplit

from email_validator import EmailNotValidError, validate_email
from pydantic import BaseModel

from smartcomm.kit.errors import InvalidInput


class ProviderSettings(BaseModel):
    """The settings of one provider kind. `check` refuses what types alone cannot (naming the field)."""

    def check(self) -> None:
        return None


def check_email(field: str, value: str | None) -> None:
    if value is None:
        return
    try:
        validate_email(value, check_deliverability=False)
    except EmailNotValidError:
        raise InvalidInput.for_field(field, "Enter a valid e-mail address.") from None


def check_url(field: str, value: str | None) -> None:
    """An http(s) address with a host."""
    if value is None:
        return
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InvalidInput.for_field(field, "Enter an address starting with https:// or http://")


def check_certificate(field: str, value: str | None) -> None:
    if not value:
        return
    try:
        ssl.create_default_context(cadata=value.strip())
    except (ssl.SSLError, ValueError):
        raise InvalidInput.for_field(field, "Paste a certificate in PEM format") from None


def check_json_object(field: str, value: str | None) -> dict[str, Any]:
    """A JSON object typed into a text area (extra fields of an HTTP provider's request)."""
    if not value:
        return {}
    try:
        parsed = json.loads(value)
    except ValueError:
        parsed = None
    if not isinstance(parsed, dict):
        raise InvalidInput.for_field(field, 'Enter a JSON object, e.g. {"route": "marketing"}')
    return parsed


def tls_context(ca_certificate: str | None, verify: bool) -> ssl.SSLContext:
    """A client TLS context: the system's trusted roots, plus a private CA when one is given."""
    context = ssl.create_default_context()
    if ca_certificate:
        context.load_verify_locations(cadata=ca_certificate.strip())
    if not verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context
