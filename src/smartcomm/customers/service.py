"""Rules for customers: upserts with normalised contacts, consent, category subscriptions, push tokens."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from smartcomm.audit.actor import Actor
from smartcomm.audit.service import audit_service, diff
from smartcomm.customers.contacts import normalize_email, normalize_phone
from smartcomm.customers.repository import CustomerRepository
from smartcomm.customers.schemas import (
    ChannelPermissions,
    ContactsIn,
    CustomerBatchOut,
    CustomerIn,
    SubscriptionOut,
    SubscriptionsIn,
    UpsertOutcome,
)
from smartcomm.fields.repository import FieldRepository
from smartcomm.fields.values import clean_custom_values
from smartcomm.kit.errors import FieldError, InvalidInput, NotFound
from smartcomm.kit.outbox import publish
from smartcomm.kit.pagination import Page, PageParams
from smartcomm.kit.time import utcnow
from smartcomm.loyalty.bonuses import apply_bonus_data, bonus_update, merged_bonus
from smartcomm.loyalty.schemas import BonusUpdate
from smartcomm.models import Customer, MailingCategory, PushToken
from smartcomm.models.customers import CHANNELS
from smartcomm.settings.schemas import GeneralSettings
from smartcomm.settings.service import settings_service

OBJECT_TYPE = "customer"
PROFILE_FIELDS = (
    "first_name",
    "last_name",
    "middle_name",
    "gender",
    "birth_date",
    "country",
    "region",
    "city",
    "time_zone",
    "registered_at",
    "card_number",
    "card_status",
)
AUDITED = (
    *PROFILE_FIELDS,
    "email",
    "phone",
    "allow_email",
    "allow_sms",
    "allow_viber",
    "allow_push",
    "custom",
)
SUBSCRIPTION_VALUES = {"Y": True, "N": False, "ND": None}


def snapshot(customer: Customer) -> dict[str, Any]:
    return {name: getattr(customer, name) for name in AUDITED}


def permissions(customer: Customer) -> dict[str, bool]:
    return {f"allow_{channel}": getattr(customer, f"allow_{channel}") for channel in CHANNELS}


def consent_change(
    customer: Customer, changes: dict[str, list[Any]], categories: dict[str, list[Any]] | None = None
) -> dict[str, Any] | None:
    """One customer's entry of a `consent.changed` event: the channels switched off and on as a whole (from
    audited `changes` of allow_*) and the category subscriptions changed ({"<code>.<channel>": [before,
    after]}); None when consent did not change."""
    moves = {channel: changes.get(f"allow_{channel}") for channel in CHANNELS}
    off = [channel for channel, move in moves.items() if move == [True, False]]
    on = [channel for channel, move in moves.items() if move == [False, True]]
    if not (off or on or categories):
        return None
    return {
        "customer_id": customer.id,
        "external_id": customer.external_id,
        "channels_off": off,
        "channels_on": on,
        "categories": categories or {},
    }


def publish_consent(session: Session, actor: Actor, entries: Sequence[dict[str, Any] | None]) -> None:
    """One `consent.changed` event for these customers' entries (`consent_change`), if any changed."""
    changed = [entry for entry in entries if entry is not None]
    if not changed:
        return
    payload = {"customers": changed, "source": actor.kind, "actor": actor.label}
    if len(changed) == 1:
        publish(session, "consent.changed", customer_id=changed[0]["customer_id"], payload=payload)
    else:
        publish(session, "consent.changed", customer_ids=[e["customer_id"] for e in changed], payload=payload)


def publish_change(
    session: Session, actor: Actor, customer: Customer, changes: dict[str, list[Any]], *, created: bool
) -> None:
    """customer.created or customer.changed (with the names of the fields changed), and consent.changed
    when a channel permission moved."""
    if not changes:
        return
    kind = "customer.created" if created else "customer.changed"
    payload = {"external_id": customer.external_id, "fields": sorted(changes)}
    publish(session, kind, customer_id=customer.id, payload=payload)
    publish_consent(session, actor, [consent_change(customer, changes)])


def _bonus_of(data: CustomerIn) -> BonusUpdate:
    return bonus_update(data.model_fields_set, data.bonus_balance, data.expiring_bonuses)


def _bonuses_of(items: Sequence[CustomerIn], customers: dict[str, Customer]) -> dict[int, BonusUpdate]:
    """The bonus data of a batch by customer id; a customer sent twice keeps what the later item sent."""
    found: dict[int, BonusUpdate] = {}
    for item in items:
        update, customer_id = _bonus_of(item), customers[item.external_id].id
        if not update.is_empty:
            found[customer_id] = merged_bonus(found.get(customer_id), update)
    return found


@dataclass
class IntakeContext:
    """What every customer write of one request needs, read once."""

    default_country: str
    custom_types: dict[str, str]

    @classmethod
    def load(cls, session: Session) -> IntakeContext:
        general = settings_service.read(session, GeneralSettings)
        return cls(general.sms_default_country, FieldRepository(session).custom_types("customer"))


class CustomerService:
    def get(self, session: Session, customer_id: int) -> Customer:
        customer = CustomerRepository(session).get(customer_id)
        if customer is None:
            raise NotFound("Customer", customer_id)
        return customer

    def get_by_external_id(self, session: Session, external_id: str) -> Customer:
        customer = CustomerRepository(session).by_external_id(external_id)
        if customer is None:
            raise NotFound("Customer", external_id)
        return customer

    def search(
        self,
        session: Session,
        params: PageParams,
        *,
        query: str = "",
        sort: str = "name",
        default_country: str = "RU",
        contact: str | None = None,
    ) -> Page[Customer]:
        """Customers found by name, phone (in any format of `default_country`), e-mail, external or platform
        id, card or receipt number; `contact` keeps those of a contact data quality bucket."""
        repository = CustomerRepository(session)
        return repository.search(
            params, query=query, sort=sort, default_country=default_country, contact=contact
        )

    def count(self, session: Session) -> int:
        """The number of customers in the base."""
        return CustomerRepository(session).count_all()

    def upsert(self, session: Session, actor: Actor, data: CustomerIn) -> tuple[Customer, bool]:
        """Create the customer or update the fields sent; the change is audited field by field."""
        repository = CustomerRepository(session)
        context = IntakeContext.load(session)
        customer = repository.by_external_id(data.external_id)
        created = customer is None
        before = {} if customer is None else snapshot(customer)
        customer = customer or Customer(external_id=data.external_id, custom={})
        errors = self._apply(customer, data, context, "")
        if errors:
            raise InvalidInput("The customer is not valid", errors)
        if created:
            repository.add(customer)
        session.flush()
        changes = diff(before, snapshot(customer))
        bonus = apply_bonus_data(session, {customer.id: _bonus_of(data)}, utcnow()).get(customer.id, {})
        if changes or bonus:
            audit_service.record(
                session,
                actor,
                object_type=OBJECT_TYPE,
                object_id=customer.id,
                action="create" if created else "update",
                changes=changes | bonus,
                object_label=customer.full_name,
            )
        publish_change(session, actor, customer, changes, created=created)
        return customer, created

    def upsert_batch(self, session: Session, actor: Actor, items: Sequence[CustomerIn]) -> CustomerBatchOut:
        """Create or update up to 1,000 customers at once; any invalid item rejects the whole batch."""
        repository = CustomerRepository(session)
        context = IntakeContext.load(session)
        existing = repository.by_external_ids([item.external_id for item in items])
        permissions_before = {key: permissions(customer) for key, customer in existing.items()}
        errors: list[FieldError] = []
        touched: dict[str, Customer] = {}
        new: set[str] = set()
        for index, item in enumerate(items):
            customer = touched.get(item.external_id) or existing.get(item.external_id)
            if customer is None:
                customer = Customer(external_id=item.external_id, custom={})
                new.add(item.external_id)
            errors.extend(self._apply(customer, item, context, f"customers[{index}]"))
            touched[item.external_id] = customer
        if errors:
            raise InvalidInput(f"{len(errors)} problem(s) in the batch; nothing was written", errors)
        session.add_all([touched[external_id] for external_id in new])
        session.flush()
        outcomes = [UpsertOutcome(id=c.id, external_id=key, created=key in new) for key, c in touched.items()]
        created_count = sum(1 for o in outcomes if o.created)
        bonus = apply_bonus_data(session, _bonuses_of(items, touched), utcnow())
        counted = {"created": [None, created_count], "updated": [None, len(outcomes) - created_count]}
        audit_service.record(
            session,
            actor,
            object_type="customer_batch",
            object_id=f"{len(outcomes)} customers",
            action="upsert",
            changes=counted | ({"bonus_changed": [None, len(bonus)]} if bonus else {}),
        )
        created_ids = [outcome.id for outcome in outcomes if outcome.created]
        customer_ids = [outcome.id for outcome in outcomes]
        publish(session, "customers.changed", customer_ids=customer_ids, payload={"created_ids": created_ids})
        publish_consent(
            session,
            actor,
            [
                consent_change(customer, diff(before, permissions(customer)))
                for key, customer in touched.items()
                if (before := permissions_before.get(key)) is not None
            ],
        )
        return CustomerBatchOut(created=created_count, updated=len(outcomes) - created_count, items=outcomes)

    def set_permissions(
        self, session: Session, actor: Actor, customer: Customer, data: ChannelPermissions
    ) -> Customer:
        """Allow or forbid whole channels; channels not sent stay unchanged."""
        before = snapshot(customer)
        for channel, allowed in data.model_dump(exclude_none=True).items():
            setattr(customer, f"allow_{channel}", allowed)
        self._flush_and_audit(session, actor, customer, before)
        return customer

    def update_contacts(
        self, session: Session, actor: Actor, customer: Customer, data: ContactsIn
    ) -> Customer:
        """Replace the e-mail or phone (normalised) and add or refresh push tokens."""
        before = snapshot(customer)
        context = IntakeContext.load(session)
        if "email" in data.model_fields_set:
            self._set_email(customer, data.email)
        if "phone" in data.model_fields_set:
            self._set_phone(customer, data.phone, context.default_country)
        repository = CustomerRepository(session)
        for token in data.push_tokens:
            self._save_push_token(
                repository, customer.id, token.token, token.platform, token.app, token.device_id
            )
        self._flush_and_audit(session, actor, customer, before, extra={"push_tokens": len(data.push_tokens)})
        return customer

    def edit_contacts(
        self, session: Session, actor: Actor, customer: Customer, *, email: str | None, phone: str | None
    ) -> Customer:
        """Change the e-mail and phone by hand: unlike data intake, an invalid value is refused."""
        default_country = settings_service.read(session, GeneralSettings).sms_default_country
        errors: list[FieldError] = []
        if email and email != customer.email and not normalize_email(email).valid:
            errors.append(FieldError("email", "Enter a valid e-mail address."))
        if phone and phone != customer.phone and not normalize_phone(phone, default_country).valid:
            errors.append(FieldError("phone", "Enter a valid phone number, e.g. +7 912 345-67-89."))
        if errors:
            raise InvalidInput("The contacts are not valid", errors)
        # Only changed values are applied, so a stored invalid value can stay while the other is fixed.
        changed = {
            name: value
            for name, value in (("email", email), ("phone", phone))
            if value != getattr(customer, name)
        }
        return self.update_contacts(session, actor, customer, ContactsIn.model_validate(changed))

    def invalidate_push_token(self, session: Session, token: str) -> bool:
        """Mark a token the push provider rejected (e.g. FCM UNREGISTERED); returns whether one was found."""
        stored = CustomerRepository(session).push_token(token)
        if stored is None:
            return False
        stored.is_valid = False
        session.flush()
        return True

    def push_tokens(self, session: Session, customer_id: int) -> list[PushToken]:
        return CustomerRepository(session).push_tokens(customer_id)

    def subscriptions(self, session: Session, customer: Customer) -> list[SubscriptionOut]:
        """The customer's state per mailing category and channel (None = not in the category)."""
        categories = session.scalars(select(MailingCategory).order_by(MailingCategory.name)).all()
        state: dict[int, dict[str, bool]] = {}
        for subscription, _category in CustomerRepository(session).subscriptions(customer.id):
            state.setdefault(subscription.category_id, {})[subscription.channel] = subscription.subscribed
        return [
            SubscriptionOut(
                category=c.code, name=c.name, **{ch: state.get(c.id, {}).get(ch) for ch in CHANNELS}
            )
            for c in categories
        ]

    def set_subscriptions(
        self, session: Session, actor: Actor, customer: Customer, data: SubscriptionsIn
    ) -> None:
        """Apply Y / N / ND per category and channel; categories not mentioned stay unchanged."""
        codes = list(data.categories)
        known = {
            c.code: c for c in session.scalars(select(MailingCategory).where(MailingCategory.code.in_(codes)))
        }
        unknown = [
            FieldError(f"categories.{code}", "unknown mailing category", "unknown")
            for code in codes
            if code not in known
        ]
        if unknown:
            raise InvalidInput("Unknown mailing categories", unknown)
        repository = CustomerRepository(session)
        before = {
            f"{s.category_id}:{s.channel}": s.subscribed for s, _ in repository.subscriptions(customer.id)
        }
        changes: dict[str, list[Any]] = {}
        for code, channels in data.categories.items():
            category = known[code]
            for channel, value in channels.items():
                subscribed = SUBSCRIPTION_VALUES[value]
                previous = before.get(f"{category.id}:{channel}")
                if previous != subscribed:
                    repository.set_subscription(customer.id, category.id, channel, subscribed)
                    changes[f"{code}.{channel}"] = [previous, subscribed]
        if changes:
            session.flush()
            audit_service.record(
                session,
                actor,
                object_type=OBJECT_TYPE,
                object_id=customer.id,
                action="subscriptions",
                changes=changes,
                object_label=customer.full_name,
            )
            publish_consent(session, actor, [consent_change(customer, {}, changes)])

    def _apply(
        self, customer: Customer, data: CustomerIn, context: IntakeContext, path: str
    ) -> list[FieldError]:
        sent = data.model_fields_set
        for name in PROFILE_FIELDS:
            if name in sent:
                setattr(customer, name, getattr(data, name))
        if "email" in sent:
            self._set_email(customer, data.email)
        if "phone" in sent:
            self._set_phone(customer, data.phone, context.default_country)
        if data.permissions is not None:
            for channel, allowed in data.permissions.model_dump(exclude_none=True).items():
                setattr(customer, f"allow_{channel}", allowed)
        if not data.custom:
            return []
        cleaned, errors = clean_custom_values(
            data.custom, context.custom_types, f"{path}.custom" if path else "custom"
        )
        if not errors:
            merged = {**(customer.custom or {}), **cleaned}
            customer.custom = {k: v for k, v in merged.items() if v is not None}
        return errors

    def _set_email(self, customer: Customer, raw: str | None) -> None:
        contact = normalize_email(raw) if raw else None
        customer.email = contact.value if contact else None
        customer.email_valid = bool(contact and contact.valid)

    def _set_phone(self, customer: Customer, raw: str | None, default_country: str) -> None:
        contact = normalize_phone(raw, default_country) if raw else None
        customer.phone = contact.value if contact else None
        customer.phone_valid = bool(contact and contact.valid)
        customer.phone_type = contact.type if contact else None
        if contact and contact.time_zone and not customer.time_zone:
            customer.time_zone = contact.time_zone

    def _save_push_token(
        self,
        repository: CustomerRepository,
        customer_id: int,
        token: str,
        platform: str,
        app: str | None,
        device_id: str | None,
    ) -> None:
        stored = repository.push_token(token)
        if stored is None:
            repository.add_push_token(
                PushToken(
                    customer_id=customer_id, token=token, platform=platform, app=app, device_id=device_id
                )
            )
            return
        # A token moves with its device: the last customer who registered it owns it.
        stored.customer_id, stored.platform, stored.app, stored.device_id = (
            customer_id,
            platform,
            app,
            device_id,
        )
        stored.is_valid = True

    def _flush_and_audit(
        self,
        session: Session,
        actor: Actor,
        customer: Customer,
        before: dict[str, Any],
        extra: dict[str, int] | None = None,
    ) -> None:
        session.flush()
        changes = diff(before, snapshot(customer))
        if extra and any(extra.values()):
            changes |= {key: [None, value] for key, value in extra.items() if value}
        publish_change(session, actor, customer, changes, created=False)
        if changes:
            audit_service.record(
                session,
                actor,
                object_type=OBJECT_TYPE,
                object_id=customer.id,
                action="update",
                changes=changes,
                object_label=customer.full_name,
            )


customer_service = CustomerService()
