"""SMS through a generic HTTP-JSON provider: the body is built from a field mapping (which JSON fields
carry the phone, the text, the sender name and our message id), the provider's id is read from the
answer by a path, and delivery statuses arrive at our callback address."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from smartcomm.channels.base import OutgoingMessage, PermanentError, SmsContent
from smartcomm.channels.fields import FormField
from smartcomm.channels.http_json import HttpJsonSettings, JsonHttpSender, Path, read_callback, set_path
from smartcomm.channels.receipts import CallbackRequest, DeliveryUpdate
from smartcomm.kit.i18n import lazy


class SmsHttpSettings(HttpJsonSettings):
    sender_name: Annotated[
        str | None,
        Field(max_length=20),
        FormField(lazy("Sender name"), placeholder="SHOP", section=lazy("Fields of the request")),
    ] = None
    phone_field: Annotated[Path, FormField(lazy("Field of the phone"), placeholder="to")] = "to"
    text_field: Annotated[Path, FormField(lazy("Field of the text"), placeholder="text")] = "text"
    sender_field: Annotated[Path, FormField(lazy("Field of the sender name"), placeholder="from")] = "from"
    message_id_field: Annotated[
        str | None,
        Field(max_length=200),
        FormField(
            lazy("Field of our message id"),
            placeholder="client_id",
            hint=lazy("Leave empty if the provider has no such field."),
        ),
    ] = "client_id"


def sms_body(settings: SmsHttpSettings, message: OutgoingMessage) -> dict[str, Any]:
    content = message.content
    if not isinstance(content, SmsContent) or not content.text.strip():
        raise PermanentError("an SMS needs a text")
    body: dict[str, Any] = {}
    set_path(body, settings.phone_field, message.recipient)
    set_path(body, settings.text_field, content.text)
    sender = message.sender.name or settings.sender_name
    if sender:
        set_path(body, settings.sender_field, sender)
    if settings.message_id_field:
        set_path(body, settings.message_id_field, str(message.message_id))
    return body


def sms_http_sender(settings: SmsHttpSettings) -> JsonHttpSender:
    return JsonHttpSender(settings, lambda message: sms_body(settings, message))


def sms_http_callback(settings: SmsHttpSettings, request: CallbackRequest) -> list[DeliveryUpdate]:
    """Delivery statuses the provider posts to our callback address."""
    return read_callback(settings, request, settings.state_values())
