"""Transactional messages sent through the API: one request → one message (or the two legs of a Viber →
SMS cascade), recorded in the ledger like every other message and sent by the dispatcher.

The request's `Idempotency-Key` is the message's occurrence: the same key from the same API user names
the same message, so a retried request never makes a second one — even after the API's stored answer
(kept a day) is gone. Without a key every request is a new message.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from smartcomm.audit.actor import Actor
from smartcomm.audit.service import audit_service
from smartcomm.customers.contacts import normalize_email, normalize_phone
from smartcomm.delivery.cascade import plan_cascade
from smartcomm.delivery.ledger import Source
from smartcomm.delivery.schemas import (
    PRIORITIES,
    CustomerRef,
    InlineSource,
    MessageCreate,
    PlanRequest,
    SmsLeg,
)
from smartcomm.delivery.service import delivery_service
from smartcomm.kit.errors import Conflict, InvalidInput, NotFound
from smartcomm.kit.time import utcnow
from smartcomm.models import Customer, MailingCategory, Message, MessageTemplateVersion
from smartcomm.personalization.renderer import CHANNEL_PARTS
from smartcomm.personalization.schemas import ContentIn
from smartcomm.personalization.service import template_service
from smartcomm.settings.schemas import GeneralSettings
from smartcomm.settings.service import settings_service

CASCADE = "sms_viber"


class TransactionalService:
    def send(
        self, session: Session, actor: Actor, body: MessageCreate, idempotency_key: str | None = None
    ) -> list[Message]:
        """Record the message(s) of a request, judged by the gate at once (a suppressed message comes back
        with its reason); the dispatcher sends them after the commit. One history row per request."""
        customer = self.customer(session, body.customer)
        first = self._request(session, actor, body, customer, idempotency_key)
        if body.channel == CASCADE:
            sms = self._sms_leg(session, body.sms, first)
            messages, new_ids = plan_cascade(session, first, sms)
        else:
            messages, new_ids = delivery_service.plan_new(session, [first])
        if new_ids:
            self._audit(session, actor, body, customer, messages)
        return messages

    # --- the customer ----------------------------------------------------------------------------------

    def customer(self, session: Session, ref: CustomerRef) -> Customer:
        """The customer a reference names; 404 when none, 409 when a contact is shared by several."""
        if ref.id is not None:
            return _found(session.get(Customer, ref.id), "id", ref.id)
        if ref.external_id is not None:
            found = session.scalar(select(Customer).where(Customer.external_id == ref.external_id))
            return _found(found, "external_id", ref.external_id)
        if ref.email is not None:
            email = normalize_email(ref.email)
            if not email.valid:
                raise InvalidInput.for_field("customer.email", "Enter a valid e-mail address")
            return self._by_contact(session, Customer.email == email.value, "email", ref.email)
        assert ref.phone is not None
        country = settings_service.read(session, GeneralSettings).sms_default_country
        phone = normalize_phone(ref.phone, country)
        if not phone.valid:
            raise InvalidInput.for_field("customer.phone", "Enter a valid phone number")
        return self._by_contact(session, Customer.phone == phone.value, "phone", ref.phone)

    @staticmethod
    def _by_contact(session: Session, condition: Any, field: str, value: str) -> Customer:
        found = list(session.scalars(select(Customer).where(condition).order_by(Customer.id).limit(2)))
        if len(found) > 1:
            raise Conflict(f"Several customers have this {field}: name the customer by id or external_id")
        return _found(found[0] if found else None, field, value)

    # --- the content -----------------------------------------------------------------------------------

    def _request(
        self, session: Session, actor: Actor, body: MessageCreate, customer: Customer, key: str | None
    ) -> PlanRequest:
        channel = "viber" if body.channel == CASCADE else body.channel
        version_id, inline = self._content(
            session, channel, body.template_id, body.template_version_id, body.content, ""
        )
        now = utcnow()
        options: dict[str, Any] = {"deliver_immediately": body.deliver_immediately}
        if body.context:
            options["context"] = body.context
        if body.cascade_timeout_minutes:
            options["cascade_timeout_minutes"] = body.cascade_timeout_minutes
        return PlanRequest(
            source_kind=Source.TRANSACTIONAL,
            source_id=actor.user_id,
            channel=channel,
            customer_id=customer.id,
            occurrence=key or uuid.uuid4().hex,
            category_id=self._category(session, body.category),
            template_version_id=version_id,
            inline=inline,
            priority=PRIORITIES[body.priority],
            expires_at=now + timedelta(minutes=body.lifetime_minutes) if body.lifetime_minutes else None,
            options=options,
        )

    def _sms_leg(self, session: Session, leg: SmsLeg | None, viber: PlanRequest) -> PlanRequest:
        if leg is None:
            raise InvalidInput.for_field("sms", "A Viber → SMS cascade needs the SMS: a template or its text")
        version_id, inline = self._content(
            session, "sms", leg.template_id, leg.template_version_id, leg.content, "sms."
        )
        return replace(viber, channel="sms", template_version_id=version_id, inline=inline)

    def _content(
        self,
        session: Session,
        channel: str,
        template_id: int | None,
        version_id: int | None,
        content: ContentIn | None,
        prefix: str,
    ) -> tuple[int | None, InlineSource | None]:
        """A saved version (checked to be of the channel), or inline content checked like a template."""
        if template_id is not None:
            template = template_service.get(session, template_id)
            version = template_service.latest(session, template)
            return _of_channel(version, channel, f"{prefix}template_id").id, None
        if version_id is not None:
            version = template_service.version_by_id(session, version_id)
            return _of_channel(version, channel, f"{prefix}template_version_id").id, None
        assert content is not None
        if content.channel != channel:
            raise InvalidInput.for_field(f"{prefix}content.channel", f"The content must be for {channel}")
        fields = template_service.checked_fields(session, content)
        parts = {name: fields.get(name) for name in CHANNEL_PARTS[channel]}
        utm = dict(fields.get("utm") or {})
        return None, InlineSource(channel, parts, utm, bool(fields.get("text_derived")))

    @staticmethod
    def _category(session: Session, code: str | None) -> int | None:
        if code is None:
            return None
        found = session.scalar(select(MailingCategory.id).where(MailingCategory.code == code))
        if found is None:
            raise InvalidInput.for_field("category", f"There is no mailing category with the code {code!r}")
        return found

    @staticmethod
    def _audit(
        session: Session, actor: Actor, body: MessageCreate, customer: Customer, messages: list[Message]
    ) -> None:
        ids = [message.id for message in messages]
        audit_service.record(
            session,
            actor,
            object_type="message",
            object_id=ids[0],
            action="send",
            changes={
                "channel": [None, body.channel],
                "customer_id": [None, customer.id],
                "messages": [None, ids],
                "statuses": [None, [message.status for message in messages]],
            },
            object_label=f"{body.channel} → {customer.full_name}",
        )


def _found(customer: Customer | None, field: str, value: object) -> Customer:
    if customer is None:
        raise NotFound("Customer", f"{field} {value}")
    return customer


def _of_channel(version: MessageTemplateVersion, channel: str, field: str) -> MessageTemplateVersion:
    if version.channel != channel:
        raise InvalidInput.for_field(field, f"The template is for {version.channel}, not {channel}")
    return version


transactional_service = TransactionalService()
