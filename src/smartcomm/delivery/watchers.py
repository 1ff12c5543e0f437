"""Watchers (Settings → Watchers): groups of staff e-mail addresses, phones and push ids that receive a
copy of a communication — to see what customers get, as they get it.

`copies_for(session, group_ids, message)` plans, in the ledger, one copy of `message` per address of the
groups that fits its channel (e-mails for e-mail; phones for SMS and Viber; push ids for push), source
`watcher`. A copy renders the same template version (or the same inline content) with the same event
context for the test customer — a watcher is not the customer — and goes through the same gate, sender
and tracking as any message. A mailing asks once per mailing: the copy's ledger key is the mailing and the
address, so asking again never sends a second copy; a message without a source (a transactional one) has
copies of its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from smartcomm.audit.actor import Actor
from smartcomm.audit.service import audit_service, diff
from smartcomm.customers.contacts import normalize_email, normalize_phone
from smartcomm.delivery.consent_repository import WatcherRepository
from smartcomm.delivery.ledger import Source
from smartcomm.delivery.repository import LedgerRepository
from smartcomm.delivery.schemas import InlineSource, PlanRequest
from smartcomm.kit import i18n
from smartcomm.kit.errors import Conflict, FieldError, InvalidInput, NotFound
from smartcomm.kit.i18n import lazy
from smartcomm.models import Message, WatcherGroup
from smartcomm.settings.schemas import GeneralSettings
from smartcomm.settings.service import settings_service

OBJECT_TYPE = "watcher_group"
AUDITED = ("name", "emails", "phones", "push_ids")
MAX_LINES = 100
MAX_PUSH_ID = 512
CONTACTS = {"email": "emails", "sms": "phones", "viber": "phones", "push": "push_ids"}
# What a copy takes over from the message it copies.
COPIED_OPTIONS = ("context", "utm", "sender")
NOT_AN_EMAIL = lazy("Line %(line)s: %(value)s is not a valid e-mail address.")
NOT_A_PHONE = lazy("Line %(line)s: %(value)s is not a valid phone number.")
A_LANDLINE = lazy("Line %(line)s: %(value)s is a landline and gets no SMS.")
NOT_A_PUSH_ID = lazy("Line %(line)s: %(value)s is not a push id (one id per line, without spaces).")


class WatcherGroupIn(BaseModel):
    """The form: a name and three lists, one value per line."""

    name: str = Field(default="", max_length=1000)
    emails: str = Field(default="", max_length=100_000)
    phones: str = Field(default="", max_length=100_000)
    push_ids: str = Field(default="", max_length=100_000)


@dataclass(frozen=True)
class Contacts:
    emails: list[str]
    phones: list[str]
    push_ids: list[str]


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.replace(",", "\n").replace(";", "\n").splitlines() if line.strip()]


def _unique(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))


def _problem(field: str, message: str, number: int, line: str) -> FieldError:
    """A bad line, described in the interface language (`message` has %(line)s and %(value)s)."""
    text = str(message) % {"line": number, "value": line[:80]}
    return FieldError(field, text)


def clean_emails(text: str, errors: list[FieldError]) -> list[str]:
    cleaned = []
    for number, line in enumerate(_lines(text), start=1):
        contact = normalize_email(line)
        if not contact.valid:
            errors.append(_problem("emails", NOT_AN_EMAIL, number, line))
        cleaned.append(contact.value)
    return _unique(cleaned)


def clean_phones(text: str, country: str, errors: list[FieldError]) -> list[str]:
    cleaned = []
    for number, line in enumerate(_lines(text), start=1):
        contact = normalize_phone(line, country)
        if not contact.valid:
            errors.append(_problem("phones", NOT_A_PHONE, number, line))
        elif not contact.can_receive_sms:
            errors.append(_problem("phones", A_LANDLINE, number, line))
        cleaned.append(contact.value)
    return _unique(cleaned)


def clean_push_ids(text: str, errors: list[FieldError]) -> list[str]:
    cleaned = []
    for number, line in enumerate(text.splitlines(), start=1):
        value = line.strip()
        if not value:
            continue
        if len(value) > MAX_PUSH_ID or any(char.isspace() for char in value):
            errors.append(_problem("push_ids", NOT_A_PUSH_ID, number, value))
        cleaned.append(value)
    return _unique(cleaned)


def _first_per_field(errors: list[FieldError]) -> list[FieldError]:
    """One message per field (the form shows one): the first bad line, and how many more there are."""
    by_field: dict[str, list[FieldError]] = {}
    for error in errors:
        by_field.setdefault(error.field, []).append(error)
    merged = []
    for field, found in by_field.items():
        message = found[0].message
        if len(found) > 1:
            message += " " + i18n.gettext_("(and %(count)s more)") % {"count": len(found) - 1}
        merged.append(FieldError(field, message))
    return merged


def _snapshot(group: WatcherGroup) -> dict[str, Any]:
    return {name: getattr(group, name) for name in AUDITED}


class WatcherService:
    def groups(self, session: Session) -> list[WatcherGroup]:
        return WatcherRepository(session).all()

    def get(self, session: Session, group_id: int) -> WatcherGroup:
        group = WatcherRepository(session).get(group_id)
        if group is None:
            raise NotFound("Watcher group", group_id)
        return group

    def create(self, session: Session, actor: Actor, data: WatcherGroupIn) -> WatcherGroup:
        """A new group; every line is checked and the group needs at least one contact."""
        name, contacts = self._checked(session, data, None)
        group = WatcherRepository(session).add(
            WatcherGroup(
                name=name, emails=contacts.emails, phones=contacts.phones, push_ids=contacts.push_ids
            )
        )
        self._audit(session, actor, group, "create", diff({}, _snapshot(group)))
        return group

    def update(self, session: Session, actor: Actor, group_id: int, data: WatcherGroupIn) -> WatcherGroup:
        group = self.get(session, group_id)
        name, contacts = self._checked(session, data, group)
        before = _snapshot(group)
        group.name, group.emails, group.phones, group.push_ids = (
            name,
            contacts.emails,
            contacts.phones,
            contacts.push_ids,
        )
        session.flush()
        changes = diff(before, _snapshot(group))
        if changes:
            self._audit(session, actor, group, "update", changes)
        return group

    def delete(self, session: Session, actor: Actor, group_id: int) -> None:
        group = self.get(session, group_id)
        self._audit(session, actor, group, "delete", diff(_snapshot(group), {}))
        WatcherRepository(session).delete(group)

    def _checked(
        self, session: Session, data: WatcherGroupIn, group: WatcherGroup | None
    ) -> tuple[str, Contacts]:
        errors: list[FieldError] = []
        name = data.name.strip()
        if not name:
            errors.append(FieldError("name", "Enter a name"))
        elif len(name) > 200:
            errors.append(FieldError("name", "The name is too long (at most 200 characters)"))
        country = settings_service.read(session, GeneralSettings).sms_default_country
        contacts = Contacts(
            clean_emails(data.emails, errors),
            clean_phones(data.phones, country, errors),
            clean_push_ids(data.push_ids, errors),
        )
        for field, values in (
            ("emails", contacts.emails),
            ("phones", contacts.phones),
            ("push_ids", contacts.push_ids),
        ):
            if len(values) > MAX_LINES:
                errors.append(FieldError(field, "At most 100 lines"))
        if not errors and not (contacts.emails or contacts.phones or contacts.push_ids):
            errors.append(FieldError("emails", "Add at least one e-mail address, phone or push id"))
        if errors:
            raise InvalidInput("The watcher group is not valid", _first_per_field(errors))
        same = WatcherRepository(session).by_name(name)
        if same is not None and same is not group:
            message = "A watcher group with this name already exists"
            raise Conflict(message, [FieldError("name", message, "duplicate")])
        return name, contacts

    @staticmethod
    def _audit(
        session: Session, actor: Actor, group: WatcherGroup, action: str, changes: dict[str, Any]
    ) -> None:
        audit_service.record(
            session,
            actor,
            object_type=OBJECT_TYPE,
            object_id=group.id,
            action=action,
            changes=changes,
            object_label=group.name,
        )

    # --- copies ----------------------------------------------------------------------------------------

    def copies_for(self, session: Session, group_ids: Sequence[int], message: Message) -> list[Message]:
        """Plan a copy of `message` for every address of these groups that fits its channel; returns the
        copies (those planned before included)."""
        field = CONTACTS.get(message.channel)
        groups = WatcherRepository(session).by_ids(list(group_ids))
        recipients = _unique([value for group in groups for value in getattr(group, field or "emails", [])])
        if field is None or not recipients:
            return []
        inline = self._inline(session, message)
        requests = [self._copy(message, recipient, inline) for recipient in recipients]
        from smartcomm.delivery.service import delivery_service

        return delivery_service.plan(session, requests)

    @staticmethod
    def _inline(session: Session, message: Message) -> InlineSource | None:
        """The inline content of a message sent without a saved template version."""
        if message.template_version_id is not None:
            return None
        stored = LedgerRepository(session).contents([message.id]).get(message.id)
        return InlineSource.of(stored.source) if stored is not None and stored.source else None

    @staticmethod
    def _copy(message: Message, recipient: str, inline: InlineSource | None) -> PlanRequest:
        options = {key: value for key, value in (message.options or {}).items() if key in COPIED_OPTIONS}
        copied = f"{message.source_kind}:{message.source_id}" if message.source_id is not None else None
        return PlanRequest(
            source_kind=Source.WATCHER,
            channel=message.channel,
            recipient=recipient,
            source_id=message.source_id,
            part=message.source_kind,
            occurrence=copied or f"message:{message.id}",
            template_version_id=message.template_version_id,
            inline=inline,
            priority=message.priority,
            options=options | {"copy_of": message.id, "deliver_immediately": True},
        )


watcher_service = WatcherService()
