"""Unsubscribes and the preferences page: what a customer changes through the links of a message.

Every change goes through the customer service (`set_permissions`, `set_subscriptions`), so it is audited
with the customer as the actor (actor kind "customer") and publishes `consent.changed` — with the channels
switched off as a whole, which the loyalty webhook acts on (a single category does not fire it). Each
opt-out is also kept as an `UnsubscribeRecord` with its reason, source and address, and an unsubscribe
through a message adds an `unsubscribed` event to that message and publishes `message.unsubscribed`.

Sources: the unsubscribe page (`page`), the RFC 8058 one-click POST of a mailbox provider (`one_click`:
the message's category, or its whole channel when it has none), the preferences page (`preferences`), and
a provider's complaint report (`complaint`: the whole channel).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy.orm import Session

from smartcomm.audit.actor import Actor
from smartcomm.customers.schemas import ChannelPermissions, SubscriptionsIn
from smartcomm.customers.service import customer_service
from smartcomm.datasettings.dictionaries import DictionaryRepository
from smartcomm.datasettings.display import name_of
from smartcomm.delivery.consent_repository import ConsentRepository
from smartcomm.delivery.service import event_row
from smartcomm.delivery.tracking_repository import TrackingRepository
from smartcomm.kit.errors import InvalidInput
from smartcomm.kit.outbox import publish
from smartcomm.kit.time import utcnow
from smartcomm.models import Customer, DictionaryItem, MailingCategory, Message, UnsubscribeRecord
from smartcomm.models.customers import CHANNELS
from smartcomm.models.data_settings import UNSUBSCRIBE_REASONS_CODE

CATEGORY, CHANNEL = "category", "channel"
PAGE, ONE_CLICK, PREFERENCES, COMPLAINT = "page", "one_click", "preferences", "complaint"
SOURCE_LABELS = {
    PAGE: "unsubscribe page",
    ONE_CLICK: "one-click unsubscribe",
    PREFERENCES: "preferences page",
    COMPLAINT: "spam complaint",
}
MAX_REASON_TEXT = 1000


@dataclass(frozen=True)
class Subject:
    """Whose consent a message's link is about: its customer (None for copies to watchers and test
    sends), its channel and its mailing category."""

    message: Message
    customer: Customer | None
    category: MailingCategory | None

    @property
    def channel(self) -> str:
        return self.message.channel


@dataclass(frozen=True)
class Visitor:
    """Where a request came from, kept with the consent it changed."""

    ip: str | None = None
    user_agent: str | None = None


@dataclass(frozen=True)
class Reason:
    code: str
    label: str


@dataclass(frozen=True)
class Preferences:
    """The preferences page: channel permissions and every category × channel subscription."""

    allowed: dict[str, bool]
    categories: list[MailingCategory]
    subscribed: dict[tuple[int, str], bool]  # (category id, channel) → subscribed; absent: not in it


@dataclass(frozen=True)
class Outcome:
    """What an unsubscribe did: the scope it took and whether anything changed (a repeat changes nothing)."""

    scope: str
    changed: bool


def customer_actor_named(customer: Customer, visitor: Visitor, how: str) -> Actor:
    """The customer as the actor of a change they made on a public page (audit actor kind "customer")."""
    return Actor("customer", None, f"{customer.full_name} ({how})"[:254], visitor.ip)


def customer_actor(customer: Customer, visitor: Visitor, source: str) -> Actor:
    return customer_actor_named(customer, visitor, SOURCE_LABELS[source])


class ConsentService:
    # --- reading ---------------------------------------------------------------------------------------

    def subject(self, session: Session, message_id: int) -> Subject | None:
        """The subject of a message's consent links; None when the message no longer exists."""
        message = session.get(Message, message_id)
        if message is None:
            return None
        customer = session.get(Customer, message.customer_id) if message.customer_id is not None else None
        category = (
            session.get(MailingCategory, message.category_id) if message.category_id is not None else None
        )
        return Subject(message, customer, category)

    def reasons(self, session: Session) -> list[Reason]:
        """The reasons offered on the unsubscribe page (Settings → Dictionaries → "Unsubscribe reasons")."""
        return [Reason(item.code, name_of(item)) for item in self._reason_items(session)]

    def is_unsubscribed(self, subject: Subject, session: Session) -> bool:
        """Whether the link's customer already gets none of what the message was (its category, or its
        whole channel)."""
        customer = subject.customer
        if customer is None or not getattr(customer, f"allow_{subject.channel}"):
            return customer is not None
        if subject.category is None:
            return False
        subscribed = ConsentRepository(session).subscription(
            customer.id, subject.category.id, subject.channel
        )
        return subscribed is False

    def preferences(self, session: Session, customer: Customer) -> Preferences:
        repository = ConsentRepository(session)
        return Preferences(
            allowed={channel: bool(getattr(customer, f"allow_{channel}")) for channel in CHANNELS},
            categories=repository.categories(),
            subscribed=repository.subscriptions_of(customer.id),
        )

    # --- unsubscribing ---------------------------------------------------------------------------------

    def unsubscribe(
        self,
        session: Session,
        subject: Subject,
        visitor: Visitor,
        *,
        scope: str | None = None,
        reason_code: str | None = None,
        reason_text: str | None = None,
        source: str = PAGE,
    ) -> Outcome:
        """Unsubscribe the link's customer from the message's category or its whole channel. A repeat
        changes nothing and records nothing."""
        customer = self._customer(subject)
        scope = scope or (CATEGORY if subject.category is not None else CHANNEL)
        if scope == CATEGORY and subject.category is None:
            raise InvalidInput.for_field("scope", "This message has no mailing category")
        if scope not in (CATEGORY, CHANNEL):
            raise InvalidInput.for_field("scope", "Choose what to unsubscribe from")
        reason_code, reason_text = self._reason(session, reason_code, reason_text)
        actor = customer_actor(customer, visitor, source)
        changed = self._opt_out(session, actor, customer, subject, scope)
        if changed:
            category_id = subject.category.id if scope == CATEGORY and subject.category else None
            self._record(
                session, subject, customer, visitor, scope, category_id, source, reason_code, reason_text
            )
            self._message_unsubscribed(session, subject, scope, source)
        return Outcome(scope, changed)

    def one_click(self, session: Session, subject: Subject, visitor: Visitor) -> Outcome:
        """RFC 8058: the mailbox provider's POST unsubscribes at once from what the list is — the message's
        category, or its channel when it has none."""
        return self.unsubscribe(session, subject, visitor, source=ONE_CLICK)

    def complained(self, session: Session, message: Message, words: str | None = None) -> bool:
        """A recipient reported the message as spam (a provider's complaint callback): they get nothing
        more on that channel. Returns whether anything changed."""
        subject = self.subject(session, message.id)
        if subject is None or subject.customer is None:
            return False
        outcome = self.unsubscribe(
            session, subject, Visitor(), scope=CHANNEL, reason_text=words or None, source=COMPLAINT
        )
        return outcome.changed

    def _opt_out(
        self, session: Session, actor: Actor, customer: Customer, subject: Subject, scope: str
    ) -> bool:
        if scope == CHANNEL:
            if not getattr(customer, f"allow_{subject.channel}"):
                return False
            permissions = ChannelPermissions.model_validate({subject.channel: False})
            customer_service.set_permissions(session, actor, customer, permissions)
            return True
        assert subject.category is not None
        repository = ConsentRepository(session)
        if repository.subscription(customer.id, subject.category.id, subject.channel) is False:
            return False
        changes = SubscriptionsIn.model_validate(
            {"categories": {subject.category.code: {subject.channel: "N"}}}
        )
        customer_service.set_subscriptions(session, actor, customer, changes)
        return True

    def _record(
        self,
        session: Session,
        subject: Subject,
        customer: Customer,
        visitor: Visitor,
        scope: str,
        category_id: int | None,
        source: str,
        reason_code: str | None,
        reason_text: str | None,
    ) -> None:
        record = UnsubscribeRecord(
            customer_id=customer.id,
            message_id=subject.message.id,
            channel=subject.channel,
            category_id=category_id,
            scope=scope,
            source=source,
            reason_code=reason_code,
            reason_text=reason_text,
            ip_address=visitor.ip,
            user_agent=(visitor.user_agent or "")[:300] or None,
        )
        ConsentRepository(session).add_records([record])

    def _message_unsubscribed(self, session: Session, subject: Subject, scope: str, source: str) -> None:
        message = subject.message
        category = subject.category.code if scope == CATEGORY and subject.category else None
        data = {"scope": scope, "source": source, "category": category}
        TrackingRepository(session).add_events([event_row(message.id, "unsubscribed", utcnow(), **data)])
        publish(
            session,
            "message.unsubscribed",
            customer_id=message.customer_id,
            payload={"message_id": message.id, "channel": message.channel, **data},
        )

    # --- the preferences page ----------------------------------------------------------------------------

    def save_preferences(
        self,
        session: Session,
        subject: Subject,
        visitor: Visitor,
        allowed: Mapping[str, bool],
        subscribed: Mapping[tuple[int, str], bool],
    ) -> int:
        """Apply the page's switches: channel permissions and category subscriptions. Only what differs is
        changed (and audited); each opt-out is recorded. Returns the number of switches changed."""
        customer = self._customer(subject)
        current = self.preferences(session, customer)
        actor = customer_actor(customer, visitor, PREFERENCES)
        channels = {
            ch: value for ch, value in allowed.items() if ch in CHANNELS and current.allowed[ch] != value
        }
        codes = {category.id: category.code for category in current.categories}
        cells = {
            key: value
            for key, value in subscribed.items()
            if key[0] in codes and key[1] in CHANNELS and current.subscribed.get(key, False) != value
        }
        if channels:
            customer_service.set_permissions(
                session, actor, customer, ChannelPermissions.model_validate(channels)
            )
        if cells:
            changes: dict[str, dict[str, str]] = {}
            for (category_id, channel), value in cells.items():
                changes.setdefault(codes[category_id], {})[channel] = "Y" if value else "N"
            customer_service.set_subscriptions(
                session, actor, customer, SubscriptionsIn.model_validate({"categories": changes})
            )
        self._record_opt_outs(session, subject, customer, visitor, channels, cells)
        return len(channels) + len(cells)

    def _record_opt_outs(
        self,
        session: Session,
        subject: Subject,
        customer: Customer,
        visitor: Visitor,
        channels: Mapping[str, bool],
        cells: Mapping[tuple[int, str], bool],
    ) -> None:
        now = utcnow()
        records: list[tuple[str, int | None, str]] = [
            (channel, None, CHANNEL) for channel, value in channels.items() if not value
        ]
        records += [
            (channel, category_id, CATEGORY) for (category_id, channel), value in cells.items() if not value
        ]
        rows = [
            UnsubscribeRecord(
                customer_id=customer.id,
                message_id=subject.message.id,
                channel=channel,
                category_id=category_id,
                scope=scope,
                source=PREFERENCES,
                ip_address=visitor.ip,
                user_agent=(visitor.user_agent or "")[:300] or None,
                created_at=now,
            )
            for channel, category_id, scope in records
        ]
        ConsentRepository(session).add_records(rows)

    # --- helpers ---------------------------------------------------------------------------------------

    @staticmethod
    def _customer(subject: Subject) -> Customer:
        if subject.customer is None:
            raise InvalidInput.for_field("token", "This message was not sent to a customer")
        return subject.customer

    def _reason(self, session: Session, code: str | None, text: str | None) -> tuple[str | None, str | None]:
        code = (code or "").strip() or None
        text = (text or "").strip() or None
        if text is not None and len(text) > MAX_REASON_TEXT:
            raise InvalidInput.for_field("comment", "Please keep it under 1,000 characters")
        if code is not None and code not in {item.code for item in self._reason_items(session)}:
            raise InvalidInput.for_field("reason", "Choose one of the reasons offered")
        return code, text

    @staticmethod
    def _reason_items(session: Session) -> list[DictionaryItem]:
        repository = DictionaryRepository(session)
        dictionary = repository.by_code(UNSUBSCRIBE_REASONS_CODE)
        return repository.items(dictionary.id) if dictionary is not None else []


consent_service = ConsentService()
