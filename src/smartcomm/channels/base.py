"""The one interface every channel provider implements, and the content each channel carries.

A provider's quirks stay inside its package; the ledger sees only `Accepted`, `PermanentError` and
`RetryableError`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Protocol


class Channel(StrEnum):
    EMAIL = "email"
    SMS = "sms"
    VIBER = "viber"
    PUSH = "push"


@dataclass(frozen=True, slots=True)
class EmailContent:
    subject: str
    html: str
    text: str


@dataclass(frozen=True, slots=True)
class SmsContent:
    text: str


@dataclass(frozen=True, slots=True)
class ViberContent:
    text: str
    button_text: str | None = None
    button_url: str | None = None
    image_url: str | None = None


@dataclass(frozen=True, slots=True)
class PushContent:
    title: str
    body: str
    image_url: str | None = None
    link: str | None = None  # a web address or an app's deep link


Content = EmailContent | SmsContent | ViberContent | PushContent


@dataclass(frozen=True, slots=True)
class SenderIdentity:
    """Who a message is from: e-mail name, address and reply-to, or the SMS/Viber sender name."""

    name: str | None = None
    address: str | None = None
    reply_to: str | None = None


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    message_id: int  # the ledger row
    channel: Channel
    recipient: str  # e-mail address, E.164 phone or push token
    content: Content
    sender: SenderIdentity = field(default_factory=SenderIdentity)
    headers: Mapping[str, str] = field(default_factory=dict)  # e-mail only: Message-ID, List-Unsubscribe, …
    expires_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Accepted:
    """The provider took the message."""

    provider_message_id: str | None
    delivered: bool = False  # acceptance already means delivery (the sandbox, some HTTP APIs)


class SendError(Exception):
    def __init__(self, message: str, *, invalid_contact: bool = False) -> None:
        super().__init__(message)
        self.invalid_contact = invalid_contact  # a hard bounce, an unknown number, an unregistered token


class PermanentError(SendError):
    """Never retried: the provider refused the message for good (SMTP 5xx, invalid number, dead token)."""


class RetryableError(SendError):
    """Retried with back-off: the provider could not take it now (SMTP 4xx, timeouts, HTTP 429/5xx)."""

    def __init__(
        self, message: str, *, retry_after: float | None = None, invalid_contact: bool = False
    ) -> None:
        super().__init__(message, invalid_contact=invalid_contact)
        self.retry_after = retry_after


class OutcomeUnknown(PermanentError):
    """The message was handed over but the provider's answer never came (the connection dropped after
    the last step): the provider may have it, so it is never sent again. A subclass of `PermanentError`
    so that a caller unaware of it still never retries; the ledger records it as sent, unconfirmed."""


HandingOver = Callable[[], None]


class Sender(Protocol):
    """A connection to one provider, opened once for a batch of messages (connections are reused)."""

    def open(self) -> None: ...

    def send(self, message: OutgoingMessage, handing_over: HandingOver) -> Accepted:
        """Send one message. `handing_over()` is called right before the step after which the provider may
        have the message (SMTP: the final dot of DATA; SMPP: submit_sm; HTTP: writing the request), so the
        ledger knows which unconfirmed messages the provider cannot have."""
        ...

    def close(self) -> None: ...
