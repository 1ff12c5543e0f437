"""Contact normalisation: e-mails validated and normalised, phones to E.164 with their line type.

A contact that cannot be normalised is kept as given and marked invalid, so the profile can warn
about it and every send can skip it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from phonenumbers import PhoneNumberType, timezone

MOBILE_TYPES = {PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE, PhoneNumberType.PAGER}
LANDLINE_TYPES = {
    PhoneNumberType.FIXED_LINE,
    PhoneNumberType.VOIP,
    PhoneNumberType.TOLL_FREE,
    PhoneNumberType.SHARED_COST,
    PhoneNumberType.PREMIUM_RATE,
    PhoneNumberType.UAN,
}


@dataclass(frozen=True)
class EmailContact:
    value: str
    valid: bool


@dataclass(frozen=True)
class PhoneContact:
    value: str
    valid: bool
    type: str | None  # mobile | landline | other; None when invalid
    time_zone: str | None = None

    @property
    def can_receive_sms(self) -> bool:
        return self.valid and self.type == "mobile"


@lru_cache(maxsize=65536)
def normalize_email(raw: str) -> EmailContact:
    text = raw.strip()
    try:
        result = validate_email(text, check_deliverability=False)
    except EmailNotValidError:
        return EmailContact(text, False)
    return EmailContact(result.normalized.lower(), True)


@lru_cache(maxsize=65536)
def normalize_phone(raw: str, default_country: str = "RU") -> PhoneContact:
    text = raw.strip()
    try:
        number = phonenumbers.parse(text, default_country.upper())
    except phonenumbers.NumberParseException:
        return PhoneContact(text, False, None)
    if not phonenumbers.is_valid_number(number):
        return PhoneContact(text, False, None)
    kind = phonenumbers.number_type(number)
    line = "mobile" if kind in MOBILE_TYPES else "landline" if kind in LANDLINE_TYPES else "other"
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return PhoneContact(e164, True, line, _single_zone(number))


def _single_zone(number: phonenumbers.PhoneNumber) -> str | None:
    """The number's time zone when the numbering plan names exactly one."""
    zones = [z for z in timezone.time_zones_for_number(number) if z != "Etc/Unknown"]
    return zones[0] if len(zones) == 1 else None
