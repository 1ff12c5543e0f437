"""The sample message a test send carries, per channel, in the interface language of the person sending."""

from __future__ import annotations

from sqlalchemy.orm import Session

from smartcomm.channels.base import (
    Channel,
    Content,
    EmailContent,
    OutgoingMessage,
    PushContent,
    SmsContent,
    ViberContent,
)
from smartcomm.config import config
from smartcomm.customers.contacts import normalize_email, normalize_phone
from smartcomm.kit.errors import InvalidInput
from smartcomm.kit.i18n import gettext_
from smartcomm.settings.schemas import GeneralSettings
from smartcomm.settings.service import settings_service

TEST_MESSAGE_ID = 0  # not a ledger row: a test send is not recorded as a message


def checked_recipient(session: Session, channel: Channel, raw: str) -> str:
    """The recipient in the form the channel sends to, or an error naming the field."""
    text = raw.strip()
    if channel == Channel.EMAIL:
        email = normalize_email(text)
        if not email.valid:
            raise InvalidInput.for_field("recipient", "Enter a valid e-mail address.")
        return email.value
    if channel in (Channel.SMS, Channel.VIBER):
        country = settings_service.read(session, GeneralSettings).sms_default_country
        phone = normalize_phone(text, country)
        if not phone.valid:
            raise InvalidInput.for_field("recipient", "Enter a phone number")
        return phone.value
    if not text or len(text) > 4096:
        raise InvalidInput.for_field("recipient", "Enter a push token or a Web Push subscription")
    return text


def sample_content(channel: Channel, company: str) -> Content:
    title = gettext_("Test message")
    text = gettext_("This is a test message from smartcomm: the channel works.")
    if channel == Channel.EMAIL:
        html = f"<html><body><h1>{title}</h1><p>{text}</p><p>{company}</p></body></html>"
        return EmailContent(f"{title} · {company}", html, f"{title}\n\n{text}\n\n{company}\n")
    if channel == Channel.SMS:
        return SmsContent(f"{company}: {text}")
    if channel == Channel.VIBER:
        return ViberContent(f"{company}: {text}", gettext_("Open"), config.public_base_url)
    return PushContent(title, text, None, config.public_base_url)


def test_message(session: Session, channel: Channel, recipient: str) -> OutgoingMessage:
    company = settings_service.read(session, GeneralSettings).company_name
    to = checked_recipient(session, channel, recipient)
    return OutgoingMessage(TEST_MESSAGE_ID, channel, to, sample_content(channel, company))
