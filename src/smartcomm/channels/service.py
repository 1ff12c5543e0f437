"""Settings → Channels: providers per channel, their settings (secrets sealed, shown back masked), which
one is active, test sends, and reading a provider's delivery callbacks. Every change is audited with
its secrets redacted."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from sqlalchemy.orm import Session

from smartcomm.audit.actor import Actor
from smartcomm.audit.service import REDACTED, audit_service, diff
from smartcomm.channels import samples
from smartcomm.channels.base import Channel, OutgoingMessage, PermanentError, SendError
from smartcomm.channels.checks import ProviderSettings
from smartcomm.channels.fields import form_fields, secret_names
from smartcomm.channels.receipts import CallbackRequest, DeliveryUpdate
from smartcomm.channels.registry import ProviderKind, build_sender, kind_of, kinds_for, plain_settings
from smartcomm.channels.repository import ChannelProviderRepository
from smartcomm.channels.secrets import SecretUnreadable, masked, seal
from smartcomm.kit.errors import Conflict, FieldError, InvalidInput, NotFound
from smartcomm.kit.i18n import lazy
from smartcomm.models import ChannelProvider

OBJECT_TYPE = "channel_provider"
CLEAR_PREFIX = "clear__"  # a posted `clear__<secret>=true` removes a stored secret
_VALIDATION_MESSAGES = {
    "missing": lazy("This field is required."),
    "string_too_short": lazy("This field is required."),
    "string_too_long": lazy("This value is too long."),
    "literal_error": lazy("Choose one of the offered values."),
    "int_parsing": lazy("Enter a whole number."),
    "greater_than_equal": lazy("The number is too small."),
    "less_than_equal": lazy("The number is too large."),
    "bool_parsing": lazy("Choose yes or no."),
}


@dataclass(frozen=True)
class ChannelSummary:
    channel: Channel
    active: ChannelProvider | None
    providers: list[ChannelProvider]
    kinds: list[ProviderKind]


@dataclass(frozen=True)
class TestOutcome:
    recipient: str
    accepted: bool
    provider_message_id: str | None = None
    delivered: bool = False
    error: str | None = None
    retryable: bool = False
    invalid_contact: bool = False


def _label(provider: ChannelProvider) -> str:
    return f"{provider.name} ({provider.channel}, {provider.kind})"


def _field_errors(error: ValidationError) -> list[FieldError]:
    problems: list[FieldError] = []
    for item in error.errors():
        name = str(item["loc"][0]) if item["loc"] else "__all__"
        message = _VALIDATION_MESSAGES.get(item["type"], lazy("Enter a valid value."))
        problems.append(FieldError(name, message))
    return problems


class ChannelProviderService:
    def overview(self, session: Session) -> list[ChannelSummary]:
        """Per channel: its providers, the active one (None = the sandbox) and the kinds it offers."""
        providers = ChannelProviderRepository(session).ordered()
        summaries = []
        for channel in Channel:
            own = [p for p in providers if p.channel == channel.value]
            active = next((p for p in own if p.is_active), None)
            summaries.append(ChannelSummary(channel, active, own, kinds_for(channel)))
        return summaries

    def get(self, session: Session, provider_id: int) -> ChannelProvider:
        provider = ChannelProviderRepository(session).get(provider_id)
        if provider is None:
            raise NotFound("Channel provider", provider_id)
        return provider

    def form_values(self, provider: ChannelProvider) -> tuple[dict[str, Any], dict[str, str | None]]:
        """(values of the ordinary fields, masks of the stored secrets) for the settings form."""
        secrets = secret_names(kind_of(provider.channel, provider.kind).settings)
        try:
            plain = plain_settings(provider)
        except SecretUnreadable:
            plain = {k: v for k, v in provider.settings.items() if k not in secrets}
        values = {k: v for k, v in plain.items() if k not in secrets}
        return values | {"name": provider.name}, {name: masked(plain.get(name)) for name in secrets}

    def create(
        self, session: Session, actor: Actor, channel: str, kind: str, posted: dict[str, Any]
    ) -> ChannelProvider:
        """Add an inactive provider of a kind with its settings."""
        provider_kind = kind_of(channel, kind)
        name = self._name(posted)
        settings = self._validated(provider_kind, self._merged(provider_kind, {}, posted))
        provider = ChannelProvider(channel=channel, kind=kind, name=name, is_active=False)
        provider.settings = self._sealed(provider_kind, settings)
        ChannelProviderRepository(session).add(provider)
        after = self._audited(provider_kind, provider, settings.model_dump())
        changes = diff({}, after)
        audit_service.record(
            session,
            actor,
            object_type=OBJECT_TYPE,
            object_id=provider.id,
            action="create",
            changes=changes,
            object_label=_label(provider),
        )
        return provider

    def update(
        self, session: Session, actor: Actor, provider_id: int, posted: dict[str, Any]
    ) -> ChannelProvider:
        """Change the name and settings; secret fields left empty keep their stored value."""
        provider = self.get(session, provider_id)
        provider_kind = kind_of(provider.channel, provider.kind)
        current = self._current(provider, provider_kind)
        name = self._name(posted)
        settings = self._validated(provider_kind, self._merged(provider_kind, current, posted))
        before = self._audited(provider_kind, provider, current)
        provider.name = name
        provider.settings = self._sealed(provider_kind, settings)
        session.flush()
        changes = diff(before, self._audited(provider_kind, provider, settings.model_dump()))
        changes |= self._changed_secrets(provider_kind, current, settings.model_dump())
        if changes:
            audit_service.record(
                session,
                actor,
                object_type=OBJECT_TYPE,
                object_id=provider.id,
                action="update",
                changes=changes,
                object_label=_label(provider),
            )
        return provider

    def set_active(self, session: Session, actor: Actor, provider_id: int, active: bool) -> ChannelProvider:
        """Make the provider the channel's one active provider (the others are switched off), or switch it
        off (the channel then sends to the sandbox)."""
        provider = self.get(session, provider_id)
        repository = ChannelProviderRepository(session)
        if active:
            self._check_readable(provider)
            for other_id in repository.deactivate_channel(provider.channel, provider.id):
                other = self.get(session, other_id)
                self._record_active(session, actor, other, True, False)
        if provider.is_active != active:
            provider.is_active = active
            session.flush()
            self._record_active(session, actor, provider, not active, active)
        return provider

    def delete(self, session: Session, actor: Actor, provider_id: int) -> None:
        """Delete an inactive provider."""
        provider = self.get(session, provider_id)
        if provider.is_active:
            raise Conflict(
                "The active provider cannot be deleted; switch to another one or deactivate it first"
            )
        audit_service.record(
            session,
            actor,
            object_type=OBJECT_TYPE,
            object_id=provider.id,
            action="delete",
            changes=diff({"name": provider.name, "kind": provider.kind}, {}),
            object_label=_label(provider),
        )
        ChannelProviderRepository(session).delete(provider)

    def test_send(
        self, session: Session, actor: Actor, provider_id: int, recipient: str | None
    ) -> TestOutcome:
        """Send a sample message through the provider to a given address, phone or token, and tell how
        it went (the provider's own words when it refused)."""
        provider = self.get(session, provider_id)
        self._check_readable(provider)
        message = samples.test_message(session, Channel(provider.channel), recipient or "")
        outcome = self._deliver(provider, message)
        audit_service.record(
            session,
            actor,
            object_type=OBJECT_TYPE,
            object_id=provider.id,
            action="test_send",
            changes={"recipient": [None, outcome.recipient], "outcome": [None, outcome.error or "accepted"]},
            object_label=_label(provider),
        )
        return outcome

    def callback_updates(
        self, session: Session, channel: str, provider_id: int, request: CallbackRequest
    ) -> list[DeliveryUpdate]:
        """A provider's delivery callback read into updates (raises `CallbackRefused` when not authentic)."""
        provider = ChannelProviderRepository(session).get(provider_id)
        if provider is None or provider.channel != channel:
            raise NotFound("Channel provider", provider_id)
        provider_kind = kind_of(provider.channel, provider.kind)
        if provider_kind.read_callback is None:
            raise NotFound("Callbacks of provider", provider_id)
        settings = provider_kind.settings.model_validate(plain_settings(provider))
        return provider_kind.read_callback(settings, request)

    @staticmethod
    def _deliver(provider: ChannelProvider, message: OutgoingMessage) -> TestOutcome:
        sender = build_sender(provider)
        try:
            sender.open()
            accepted = sender.send(message, lambda: None)
        except SendError as error:
            retryable = not isinstance(error, PermanentError)
            return TestOutcome(
                message.recipient,
                False,
                error=str(error),
                retryable=retryable,
                invalid_contact=error.invalid_contact,
            )
        finally:
            sender.close()
        return TestOutcome(message.recipient, True, accepted.provider_message_id, accepted.delivered)

    @staticmethod
    def _name(posted: dict[str, Any]) -> str:
        name = str(posted.get("name") or "").strip()
        if not name:
            raise InvalidInput.for_field("name", "Enter a name")
        if len(name) > 200:
            raise InvalidInput.for_field("name", "The name is too long (at most 200 characters)")
        return name

    @staticmethod
    def _merged(kind: ProviderKind, current: dict[str, Any], posted: dict[str, Any]) -> dict[str, Any]:
        """The settings a form posts, over the current ones: an empty secret keeps its value unless its
        "clear" box is ticked; an empty ordinary field takes its default."""
        merged: dict[str, Any] = {}
        for field in form_fields(kind.settings):
            value = posted.get(field.name)
            if field.form.widget == "checkbox":
                value = str(value).lower() in ("true", "on", "1")
            if field.form.secret and not value and posted.get(CLEAR_PREFIX + field.name) != "true":
                value = current.get(field.name)
            if value is not None and value != "":
                merged[field.name] = value
        return merged

    @staticmethod
    def _validated(kind: ProviderKind, values: dict[str, Any]) -> ProviderSettings:
        try:
            settings = kind.settings.model_validate(values)
        except ValidationError as error:
            raise InvalidInput("Some settings are not valid", _field_errors(error)) from error
        completed = getattr(settings, "completed", None)
        settings = completed() if callable(completed) else settings
        settings.check()
        return settings

    @staticmethod
    def _sealed(kind: ProviderKind, settings: ProviderSettings) -> dict[str, Any]:
        secrets = secret_names(kind.settings)
        plain = settings.model_dump(mode="json")
        return {k: seal(v) if k in secrets and isinstance(v, str) else v for k, v in plain.items()}

    @staticmethod
    def _current(provider: ChannelProvider, kind: ProviderKind) -> dict[str, Any]:
        try:
            return plain_settings(provider)
        except SecretUnreadable:
            secrets = secret_names(kind.settings)
            return {k: v for k, v in provider.settings.items() if k not in secrets}

    @staticmethod
    def _audited(kind: ProviderKind, provider: ChannelProvider, settings: dict[str, Any]) -> dict[str, Any]:
        """What the history shows: every setting, secrets as "••••" (or nothing when not set)."""
        secrets = secret_names(kind.settings)
        shown = {k: (REDACTED if v else None) if k in secrets else v for k, v in settings.items()}
        return {"name": provider.name, "channel": provider.channel, "kind": provider.kind} | shown

    @staticmethod
    def _changed_secrets(
        kind: ProviderKind, before: dict[str, Any], after: dict[str, Any]
    ) -> dict[str, list[Any]]:
        """A secret replaced by another reads "•••• → ••••" in the history (both sides redacted)."""
        return {
            name: [REDACTED, REDACTED]
            for name in secret_names(kind.settings)
            if before.get(name) and after.get(name) and before[name] != after[name]
        }

    @staticmethod
    def _check_readable(provider: ChannelProvider) -> None:
        try:
            plain_settings(provider)
        except SecretUnreadable:
            raise Conflict(
                "The provider's secrets were saved with another secret key; enter them again"
            ) from None

    @staticmethod
    def _record_active(
        session: Session, actor: Actor, provider: ChannelProvider, before: bool, after: bool
    ) -> None:
        audit_service.record(
            session,
            actor,
            object_type=OBJECT_TYPE,
            object_id=provider.id,
            action="update",
            changes={"is_active": [before, after]},
            object_label=_label(provider),
        )


channel_provider_service = ChannelProviderService()
