"""What a provider reports after it took a message: delivery receipts and read notices.

Providers tell in their own words (an SMPP receipt text, a JSON callback); each provider package turns
them into `DeliveryUpdate`s, which the ledger applies to its rows by provider message id.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class DeliveryState(StrEnum):
    DELIVERED = "delivered"
    UNDELIVERED = "undelivered"  # the provider gave up: expired, rejected, unknown subscriber
    READ = "read"  # the recipient opened it (Viber's "seen"); the ledger's "opened"
    COMPLAINT = "complaint"  # the recipient reported it as spam: they get nothing more on the channel


@dataclass(frozen=True, slots=True)
class DeliveryUpdate:
    provider_message_id: str
    state: DeliveryState
    occurred_at: datetime | None = None
    detail: str | None = None  # the provider's words, kept on the ledger event
    invalid_contact: bool = False  # the number or token does not exist


OnReceipt = Callable[[DeliveryUpdate], None]


@dataclass(frozen=True, slots=True)
class CallbackRequest:
    """An inbound provider callback as the route received it: everything a provider may sign or carry."""

    body: bytes
    headers: Mapping[str, str] = field(default_factory=dict)  # lower-case names
    query: Mapping[str, str] = field(default_factory=dict)


class CallbackRefused(Exception):
    """The callback is not authentic (wrong or missing secret) or cannot be read; nothing is applied."""
