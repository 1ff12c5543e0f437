"""The Segment-spec intake: write-key authentication and each message applied in the request's transaction.

identify  → customer upsert by userId (traits mapped) and the anonymousId visitor merged into it
track     → a customer event (or a visitor's, until it identifies); the purchase event also becomes a
            receipt and an `order_complete` web event and empties the cart; e-commerce product, category
            and cart events also become web events (tracking/ecommerce.py)
page      → a web event: `visit` when it opens a session, else `section_view`
alias     → the previousId visitor merged into the userId customer
group     → accepted and ignored (accounts are not modelled)
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError
from sqlalchemy.orm import Session

from smartcomm.audit.actor import Actor
from smartcomm.audit.service import audit_service
from smartcomm.customers.repository import CustomerRepository
from smartcomm.customers.schemas import CustomerIn
from smartcomm.customers.service import customer_service
from smartcomm.events.repository import EventRepository, EventSourceRepository, VisitorRepository
from smartcomm.events.schemas import WebEventIn
from smartcomm.events.sessions import is_session_open
from smartcomm.events.web_events import web_event_service
from smartcomm.fields.repository import FieldRepository
from smartcomm.kit.errors import FieldError, InvalidInput, Unauthorized, location_to_path
from smartcomm.kit.time import ensure_utc, utcnow
from smartcomm.models import EventSource
from smartcomm.models.events import ANONYMOUS_HISTORY_DAYS
from smartcomm.settings.schemas import TrackingSettings
from smartcomm.settings.service import settings_service
from smartcomm.tracking.carts import adopt_changes, anonymous_changes, cart_by_sku, empty_cart
from smartcomm.tracking.ecommerce import maps_to_web_events, web_events_of
from smartcomm.tracking.purchases import online_store_code, record_purchase
from smartcomm.tracking.schemas import SegmentMessage
from smartcomm.tracking.traits import MappedTraits, map_traits

# A web event's message id is the message's; the second and later web events of one message get a suffix.
MAX_MESSAGE_ID = 128


def join(where: str, name: str) -> str:
    return f"{where}.{name}" if where else name


class TrackingService:
    def authenticate(self, session: Session, write_key: str | None) -> EventSource:
        """The active event source with this write key; anything else is refused with 401."""
        if not write_key:
            raise Unauthorized("Send the event source's write key as the Basic auth user name")
        source = EventSourceRepository(session).by_write_key(write_key)
        if source is None or not source.is_active:
            raise Unauthorized("Unknown or inactive write key")
        return source

    def process(
        self, session: Session, source: EventSource, messages: Sequence[SegmentMessage], paths: Sequence[str]
    ) -> Counter[str]:
        """Apply the messages in order (the request commits them together) and write one summary audit row."""
        intake = _Intake(session, source)
        for message, where in zip(messages, paths, strict=True):
            intake.handle(message, where)
        if messages:
            audit_service.record(
                session,
                intake.actor,
                object_type="event_batch",
                object_id=f"{len(messages)} tracker messages",
                action="create",
                changes={kind: [None, count] for kind, count in sorted(intake.counts.items())},
            )
        return intake.counts


class _Intake:
    """One request's messages, with the look-ups it repeats cached."""

    def __init__(self, session: Session, source: EventSource) -> None:
        self.session, self.source = session, source
        self.actor = Actor("api", None, f"Tracker: {source.name}")
        self.purchase_event = settings_service.read(session, TrackingSettings).purchase_event
        self.counts: Counter[str] = Counter()
        self._customers: dict[str, int] = {}
        self._visitors: dict[str, int | None] = {}
        self._custom_codes: set[str] | None = None

    def handle(self, message: SegmentMessage, where: str) -> None:
        handlers: dict[str, Callable[[SegmentMessage, str, datetime], None]] = {
            "identify": self.identify,
            "track": self.track,
            "page": self.page,
            "screen": self.page,
            "alias": self.alias,
            "group": lambda *_: None,
        }
        if message.type is None:
            raise InvalidInput.for_field(join(where, "type"), "required")
        handlers[message.type](
            message, where, ensure_utc(message.timestamp) if message.timestamp else utcnow()
        )
        self.counts[message.type] += 1

    def identify(self, message: SegmentMessage, where: str, at: datetime) -> None:
        if message.user_id is None:
            return  # traits of an anonymous visitor have no customer to go to
        customer_id = self._upsert_customer(message.user_id, message.traits, where)
        if message.anonymous_id:
            self._link(message.anonymous_id, customer_id, at)

    def alias(self, message: SegmentMessage, where: str, at: datetime) -> None:
        if not message.user_id:
            raise InvalidInput.for_field(join(where, "userId"), "required for an alias call")
        if not message.previous_id:
            raise InvalidInput.for_field(join(where, "previousId"), "required for an alias call")
        self._link(message.previous_id, self._customer_id(message.user_id, where), at)

    def track(self, message: SegmentMessage, where: str, at: datetime) -> None:
        if not message.event:
            raise InvalidInput.for_field(join(where, "event"), "required for a track call")
        customer_id, visitor_id = self._who(message, where, at)
        row = {
            "customer_id": customer_id,
            "visitor_id": visitor_id,
            "name": message.event,
            "occurred_at": at,
            "source_id": self.source.id,
            "context": message.properties,
            "message_id": message.message_id,
            "received_at": utcnow(),
        }
        if not EventRepository(self.session).insert([row]):
            self.counts["duplicates"] += 1
            return
        if message.event == self.purchase_event:
            self._purchase(message, where, at, customer_id, visitor_id)
        elif maps_to_web_events(message.event):
            self._ecommerce_event(message, where, at, customer_id, visitor_id)

    def page(self, message: SegmentMessage, where: str, at: datetime) -> None:
        customer_id, visitor_id = self._who(message, where, at)
        properties, page_context = message.properties, message.context.get("page") or {}
        key = message.context.get("sessionId")
        key = None if key is None else str(key)
        url = properties.get("url") or (page_context.get("url") if isinstance(page_context, dict) else None)
        section = message.name or properties.get("name") or properties.get("title") or properties.get("path")
        opened = is_session_open(self.session, key, visitor_id, customer_id, at)
        self._web_event(
            message,
            where,
            {
                "kind": "section_view" if opened else "visit",
                "customer_id": customer_id,
                "visitor_id": visitor_id,
                "occurred_at": at,
                "session": key,
                "section": str(section or url or message.type)[:200],
                "url": None if url is None else str(url)[:2000],
                "context": properties,
            },
        )

    def _purchase(
        self,
        message: SegmentMessage,
        where: str,
        at: datetime,
        customer_id: int | None,
        visitor_id: str | None,
    ) -> None:
        if customer_id is not None:  # a receipt needs a customer; an anonymous order stays a web event
            store = online_store_code(self.session, self.source)
            record_purchase(self.session, store, customer_id, message.properties, at, where)
            empty_cart(self.session, customer_id, at)
        self._web_event(
            message,
            where,
            {
                "kind": "order_complete",
                "customer_id": customer_id,
                "visitor_id": visitor_id,
                "occurred_at": at,
                "context": message.properties,
            },
        )

    def _ecommerce_event(
        self,
        message: SegmentMessage,
        where: str,
        at: datetime,
        customer_id: int | None,
        visitor_id: str | None,
    ) -> None:
        properties = message.properties
        found = web_events_of(str(message.event), properties, lambda: cart_by_sku(self.session, customer_id))
        common = {
            "customer_id": customer_id,
            "visitor_id": visitor_id,
            "occurred_at": at,
            "context": properties,
        }
        for index, values in enumerate(found):
            self._web_event(message, where, {**common, **values}, index)

    def _web_event(self, message: SegmentMessage, where: str, values: dict[str, Any], index: int = 0) -> None:
        data = {**values, "source": self.source.code, "message_id": _nth_message_id(message, index)}
        try:
            item = WebEventIn.model_validate({k: v for k, v in data.items() if v is not None})
        except ValidationError as error:
            problems = [
                FieldError(join(where, location_to_path(e["loc"])), str(e["msg"])) for e in error.errors()
            ]
            raise InvalidInput("The message is not valid", problems) from None
        if not web_event_service.write(self.session, [item], path=[where]):
            self.counts["duplicates"] += 1

    def _who(self, message: SegmentMessage, where: str, at: datetime) -> tuple[int | None, str | None]:
        """The customer (from userId, else from an identified visitor) and the visitor of a message."""
        visitor_id = message.anonymous_id or None
        if message.user_id:
            customer_id = self._customer_id(message.user_id, where)
            if visitor_id:
                self._link(visitor_id, customer_id, at)
            return customer_id, visitor_id
        return (self._visitor_customer(visitor_id) if visitor_id else None), visitor_id

    def _customer_id(self, external_id: str, where: str) -> int:
        """The customer with this userId, created with nothing but the id when the tracker sees it first."""
        if external_id not in self._customers:
            found = CustomerRepository(self.session).ids_by_external_ids([external_id]).get(external_id)
            self._customers[external_id] = found or self._upsert_customer(external_id, {}, where)
        return self._customers[external_id]

    def _upsert_customer(self, external_id: str, traits: dict[str, Any], where: str) -> int:
        if self._custom_codes is None:
            self._custom_codes = set(FieldRepository(self.session).custom_types("customer"))
        mapped = map_traits(traits, self._custom_codes)
        try:
            data = CustomerIn.model_validate({**mapped.fields, "external_id": external_id})
            customer, _ = customer_service.upsert(self.session, self.actor, data)
        except ValidationError as error:
            raise InvalidInput(
                "The traits are not valid",
                [
                    FieldError(self._trait_path(where, mapped, location_to_path(e["loc"])), str(e["msg"]))
                    for e in error.errors()
                ],
            ) from None
        except InvalidInput as error:
            raise InvalidInput(
                error.message,
                [
                    FieldError(self._trait_path(where, mapped, e.field), e.message, e.code)
                    for e in error.errors
                ],
            ) from None
        self._customers[external_id] = customer.id
        return customer.id

    @staticmethod
    def _trait_path(where: str, mapped: MappedTraits, field_path: str) -> str:
        if field_path == "external_id":
            return join(where, "userId")
        return join(where, f"traits.{mapped.trait_of(field_path)}")

    def _visitor_customer(self, visitor_id: str) -> int | None:
        if visitor_id not in self._visitors:
            self._visitors[visitor_id] = (
                VisitorRepository(self.session).customers_of([visitor_id]).get(visitor_id)
            )
        return self._visitors[visitor_id]

    def _link(self, visitor_id: str, customer_id: int, at: datetime) -> None:
        """Merge the visitor into the customer unless it is known to be that customer already; the lists
        it filled while anonymous (its cart) become the customer's."""
        if self._visitor_customer(visitor_id) != customer_id:
            since = at - timedelta(days=ANONYMOUS_HISTORY_DAYS)
            anonymous = anonymous_changes(self.session, visitor_id, since)
            web_event_service.identify(self.session, visitor_id, customer_id, at)
            adopt_changes(self.session, customer_id, anonymous)
            self._visitors[visitor_id] = customer_id


def _nth_message_id(message: SegmentMessage, index: int) -> str | None:
    """The message id of a message's index-th web event (a Cart Viewed makes several)."""
    if message.message_id is None or index == 0:
        return message.message_id
    nth = f"{message.message_id}/{index}"
    return nth if len(nth) <= MAX_MESSAGE_ID else None


tracking_service = TrackingService()
