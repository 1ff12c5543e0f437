"""Provider kinds per channel (their settings schema, how to build a sender, how to read their
callbacks) and `sender_for`: the sender of a channel's active provider, else the sandbox.

A new provider kind is one entry in `KINDS`; nothing else changes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from smartcomm.channels.base import Accepted, Channel, HandingOver, OutgoingMessage, Sender
from smartcomm.channels.checks import ProviderSettings
from smartcomm.channels.email.settings import SmtpSettings
from smartcomm.channels.email.smtp import SmtpSender
from smartcomm.channels.fields import secret_names
from smartcomm.channels.push.fcm import FcmSender, FcmSettings
from smartcomm.channels.push.webpush import WebPushSender, WebPushSettings
from smartcomm.channels.receipts import CallbackRequest, DeliveryUpdate, OnReceipt
from smartcomm.channels.repository import ChannelProviderRepository
from smartcomm.channels.sandbox import SandboxSender, SandboxSettings
from smartcomm.channels.secrets import unseal
from smartcomm.channels.sms.http import SmsHttpSettings, sms_http_callback, sms_http_sender
from smartcomm.channels.sms.smpp import SmppSender, SmppSettings
from smartcomm.channels.viber.aggregator import ViberSettings, viber_callback, viber_sender
from smartcomm.kit.errors import NotFound
from smartcomm.kit.i18n import LazyString, lazy
from smartcomm.models import ChannelProvider

SANDBOX = "sandbox"
Build = Callable[[Any, OnReceipt | None], Sender]
ReadCallback = Callable[[Any, CallbackRequest], list[DeliveryUpdate]]


@dataclass(frozen=True)
class ProviderKind:
    channel: Channel
    kind: str
    label: LazyString
    description: LazyString
    settings: type[ProviderSettings]
    build: Build
    read_callback: ReadCallback | None = None

    @property
    def key(self) -> str:
        return f"{self.channel.value}.{self.kind}"

    @property
    def is_sandbox(self) -> bool:
        return self.kind == SANDBOX


def _sandbox(channel: Channel) -> ProviderKind:
    return ProviderKind(
        channel,
        SANDBOX,
        lazy("Sandbox"),
        lazy("Sends nothing: every message is taken as delivered and shown in the Outbox."),
        SandboxSettings,
        lambda settings, _: SandboxSender(settings),
    )


_KIND_LIST = (
    ProviderKind(
        Channel.EMAIL,
        "smtp",
        lazy("SMTP server"),
        lazy("Any SMTP server or e-mail service: TLS or STARTTLS, sign-in, DKIM signatures."),
        SmtpSettings,
        lambda settings, _: SmtpSender(settings),
    ),
    ProviderKind(
        Channel.SMS,
        "smpp",
        lazy("SMPP"),
        lazy("An SMS centre over SMPP 3.4, with delivery receipts."),
        SmppSettings,
        lambda settings, on_receipt: SmppSender(settings, on_receipt),
    ),
    ProviderKind(
        Channel.SMS,
        "http",
        lazy("HTTP-JSON gateway"),
        lazy("An SMS gateway with a JSON API: address, authentication, field mapping, status callbacks."),
        SmsHttpSettings,
        lambda settings, _: sms_http_sender(settings),
        sms_http_callback,
    ),
    ProviderKind(
        Channel.VIBER,
        "aggregator",
        lazy("Viber aggregator"),
        lazy("Viber business messages through an aggregator's JSON API, with delivery and read callbacks."),
        ViberSettings,
        lambda settings, _: viber_sender(settings),
        viber_callback,
    ),
    ProviderKind(
        Channel.PUSH,
        "fcm",
        lazy("Firebase Cloud Messaging"),
        lazy("Android, iOS and web apps using Firebase (HTTP v1 API with a service account)."),
        FcmSettings,
        lambda settings, _: FcmSender(settings),
    ),
    ProviderKind(
        Channel.PUSH,
        "webpush",
        lazy("Web Push (VAPID)"),
        lazy("Browsers subscribed by the site itself, without Firebase."),
        WebPushSettings,
        lambda settings, _: WebPushSender(settings),
    ),
    *(_sandbox(channel) for channel in Channel),
)
KINDS: dict[str, ProviderKind] = {kind.key: kind for kind in _KIND_LIST}


def kinds_for(channel: Channel) -> list[ProviderKind]:
    """The kinds a channel offers, the sandbox last."""
    return sorted((k for k in _KIND_LIST if k.channel == channel), key=lambda k: k.is_sandbox)


def kind_of(channel: str, kind: str) -> ProviderKind:
    found = KINDS.get(f"{channel}.{kind}")
    if found is None:
        raise NotFound("Provider kind", f"{channel}.{kind}")
    return found


def plain_settings(provider: ChannelProvider) -> dict[str, Any]:
    """The stored settings with their secrets decrypted (raises `SecretUnreadable` after a key change)."""
    secrets = secret_names(kind_of(provider.channel, provider.kind).settings)
    return {
        name: unseal(value) if name in secrets and isinstance(value, str) else value
        for name, value in provider.settings.items()
    }


def settings_of(provider: ChannelProvider) -> ProviderSettings:
    return kind_of(provider.channel, provider.kind).settings.model_validate(plain_settings(provider))


class ProviderSender:
    """A channel's sender with what the ledger records beside each message: which provider sent it,
    and whether it is the sandbox (whose messages the Outbox shows)."""

    def __init__(self, sender: Sender, kind: ProviderKind, provider_id: int | None) -> None:
        self.sender = sender
        self.kind = kind
        self.provider_id = provider_id

    @property
    def channel(self) -> Channel:
        return self.kind.channel

    @property
    def is_sandbox(self) -> bool:
        return self.kind.is_sandbox

    def open(self) -> None:
        self.sender.open()

    def send(self, message: OutgoingMessage, handing_over: HandingOver) -> Accepted:
        return self.sender.send(message, handing_over)

    def close(self) -> None:
        self.sender.close()


def build_sender(provider: ChannelProvider, on_receipt: OnReceipt | None = None) -> ProviderSender:
    kind = kind_of(provider.channel, provider.kind)
    return ProviderSender(kind.build(settings_of(provider), on_receipt), kind, provider.id)


def sender_for(session: Session, channel: Channel, on_receipt: OnReceipt | None = None) -> ProviderSender:
    """The sender of the channel's active provider; the sandbox when none is active."""
    provider = ChannelProviderRepository(session).active(channel.value)
    if provider is None:
        kind = kind_of(channel.value, SANDBOX)
        return ProviderSender(SandboxSender(), kind, None)
    return build_sender(provider, on_receipt)
