"""Viber business messages through an HTTP aggregator (the SMS aggregators of the region sell Viber too).

A message carries a text, at most one button (its caption and link) and an image. The request is built
from a field mapping like the HTTP SMS provider's; the aggregator calls back with delivery and read
statuses, which become "delivered" and "read" (the ledger's "opened") by the aggregator's message id.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import Field

from smartcomm.channels.base import OutgoingMessage, PermanentError, ViberContent
from smartcomm.channels.fields import FormField
from smartcomm.channels.http_json import HttpJsonSettings, JsonHttpSender, Path, read_callback, set_path
from smartcomm.channels.receipts import CallbackRequest, DeliveryState, DeliveryUpdate
from smartcomm.kit.i18n import lazy
from smartcomm.kit.time import utcnow

MAX_TEXT = 1000
MAX_BUTTON_TEXT = 30


class ViberSettings(HttpJsonSettings):
    sender_name: Annotated[
        str,
        Field(min_length=1, max_length=50),
        FormField(lazy("Sender name"), placeholder="Shop", section=lazy("Fields of the request")),
    ]
    phone_field: Annotated[Path, FormField(lazy("Field of the phone"), placeholder="to")] = "to"
    text_field: Annotated[Path, FormField(lazy("Field of the text"), placeholder="text")] = "text"
    sender_field: Annotated[Path, FormField(lazy("Field of the sender name"), placeholder="from")] = "from"
    button_text_field: Annotated[
        Path, FormField(lazy("Field of the button caption"), placeholder="button.caption")
    ] = "button.caption"
    button_url_field: Annotated[
        Path, FormField(lazy("Field of the button link"), placeholder="button.url")
    ] = "button.url"
    image_field: Annotated[Path, FormField(lazy("Field of the image address"), placeholder="image_url")] = (
        "image_url"
    )
    ttl_field: Annotated[
        str | None,
        Field(max_length=200),
        FormField(
            lazy("Field of the lifetime in seconds"),
            placeholder="ttl",
            hint=lazy("Filled from the message's lifetime; leave empty if the provider has no such field."),
        ),
    ] = "ttl"
    message_id_field: Annotated[
        str | None, Field(max_length=200), FormField(lazy("Field of our message id"), placeholder="client_id")
    ] = "client_id"
    read_values: Annotated[
        str,
        Field(max_length=500),
        FormField(
            lazy("Statuses meaning read"), placeholder="read, seen", section=lazy("Delivery-status callback")
        ),
    ] = "read, seen"

    def callback_states(self) -> dict[str, DeliveryState]:
        read = {v.strip().lower(): DeliveryState.READ for v in self.read_values.split(",") if v.strip()}
        return self.state_values() | read


def checked_content(message: OutgoingMessage) -> ViberContent:
    """Viber's rules: a text, and a button only with both its caption and an http(s) link."""
    content = message.content
    if not isinstance(content, ViberContent) or not content.text.strip():
        raise PermanentError("a Viber message needs a text")
    if len(content.text) > MAX_TEXT:
        raise PermanentError(f"a Viber text has at most {MAX_TEXT} characters")
    if bool(content.button_text) != bool(content.button_url):
        raise PermanentError("a Viber button needs both its caption and its link")
    if content.button_text and len(content.button_text) > MAX_BUTTON_TEXT:
        raise PermanentError(f"a Viber button caption has at most {MAX_BUTTON_TEXT} characters")
    for link in (content.button_url, content.image_url):
        if link and not link.startswith(("https://", "http://")):
            raise PermanentError(f"not a web address: {link}")
    return content


def viber_body(settings: ViberSettings, message: OutgoingMessage) -> dict[str, Any]:
    content = checked_content(message)
    body: dict[str, Any] = {}
    set_path(body, settings.phone_field, message.recipient)
    set_path(body, settings.text_field, content.text)
    set_path(body, settings.sender_field, message.sender.name or settings.sender_name)
    if content.button_text and content.button_url:
        set_path(body, settings.button_text_field, content.button_text)
        set_path(body, settings.button_url_field, content.button_url)
    if content.image_url:
        set_path(body, settings.image_field, content.image_url)
    if settings.ttl_field and message.expires_at is not None:
        set_path(body, settings.ttl_field, _seconds_left(message.expires_at))
    if settings.message_id_field:
        set_path(body, settings.message_id_field, str(message.message_id))
    return body


def _seconds_left(expires_at: datetime) -> int:
    seconds = int((expires_at - utcnow()).total_seconds())
    if seconds <= 0:
        raise PermanentError("the message's lifetime has passed")
    return seconds


def viber_sender(settings: ViberSettings) -> JsonHttpSender:
    return JsonHttpSender(settings, lambda message: viber_body(settings, message))


def viber_callback(settings: ViberSettings, request: CallbackRequest) -> list[DeliveryUpdate]:
    """Delivery and read statuses the aggregator posts to our callback address."""
    return read_callback(settings, request, settings.callback_states())
