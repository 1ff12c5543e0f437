"""The sandbox provider of every channel: the default until a real provider is switched on.

It accepts every message as delivered at once and sends nothing anywhere; the ledger keeps the content
of sandbox messages for the Outbox (`is_sandbox`). Two knobs make demo statistics varied: recipients
containing a text (by default `bounce.example`) hard-bounce, and a share of messages is refused. Viber
messages reach only numbers ending in an even digit, so that the Viber → SMS cascade shows.
"""

from __future__ import annotations

import hashlib
import uuid
from typing import Annotated

from pydantic import Field

from smartcomm.channels.base import Accepted, Channel, HandingOver, OutgoingMessage, PermanentError
from smartcomm.channels.checks import ProviderSettings
from smartcomm.channels.fields import FormField
from smartcomm.kit.i18n import lazy


class SandboxSettings(ProviderSettings):
    bounce_when_contains: Annotated[
        str | None,
        Field(max_length=200),
        FormField(
            lazy("Bounce recipients containing"),
            placeholder="bounce.example",
            hint=lazy("An address, number or token containing this text is refused as if it did not exist."),
        ),
    ] = "bounce.example"
    failure_percent: Annotated[
        int,
        Field(ge=0, le=100),
        FormField(
            lazy("Refuse this share of messages, %"),
            widget="number",
            hint=lazy("Chosen by message, so the same message is always refused or always taken."),
        ),
    ] = 0


def _percentile(message_id: int) -> int:
    digest = hashlib.sha256(str(message_id).encode("ascii")).digest()
    return int.from_bytes(digest[:4], "big") % 100


class SandboxSender:
    """Takes every message as delivered; nothing leaves the installation."""

    is_sandbox = True

    def __init__(self, settings: SandboxSettings | None = None) -> None:
        self.settings = settings or SandboxSettings()

    def open(self) -> None:
        return None

    def close(self) -> None:
        return None

    def send(self, message: OutgoingMessage, handing_over: HandingOver) -> Accepted:
        pattern = self.settings.bounce_when_contains
        if pattern and pattern.lower() in message.recipient.lower():
            raise PermanentError(
                f"550 5.1.1 {message.recipient}: no such recipient (sandbox)", invalid_contact=True
            )
        if _percentile(message.message_id) < self.settings.failure_percent:
            raise PermanentError("554 5.7.1 refused by the sandbox's failure rate")
        handing_over()
        return Accepted(f"sandbox-{uuid.uuid4().hex}", delivered=reaches(message))


def reaches(message: OutgoingMessage) -> bool:
    """Whether the sandbox delivers the message at once. Viber reaches only numbers ending in an even
    digit (as if the others had no Viber), so the Viber → SMS cascade can be seen at work."""
    if message.channel != Channel.VIBER:
        return True
    digits = [c for c in message.recipient if c.isdigit()]
    return bool(digits) and int(digits[-1]) % 2 == 0
