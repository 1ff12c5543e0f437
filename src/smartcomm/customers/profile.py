"""The customer profile (360°): the read queries behind each of its sections, and their assembly.

Every section is one or two set-based queries (a page and its count, or one query for all rows of a
page), so the profile costs the same number of statements however much history a customer has.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import Session

from smartcomm.customers.profile_promo_polls import IssuedCode, PromoPollsRepository, TakenPoll, taken_polls
from smartcomm.customers.repository import CustomerRepository, chunks
from smartcomm.customers.schemas import SubscriptionOut
from smartcomm.customers.service import customer_service
from smartcomm.datasettings.display import display_name
from smartcomm.delivery.outbox_queries import Communications, communications
from smartcomm.fields.repository import FieldRepository
from smartcomm.kit.pagination import Page, PageParams
from smartcomm.kit.time import ensure_utc
from smartcomm.loyalty.profile import LoyaltyCard, loyalty_card
from smartcomm.models import (
    Audience,
    AudienceMember,
    Category,
    Container,
    ContainerItem,
    ContainerState,
    Customer,
    CustomerRfm,
    Event,
    EventSource,
    Product,
    PushToken,
    Receipt,
    ReceiptLine,
    RfmCalculation,
    Segment,
    SegmentMembership,
    Store,
    WebEvent,
)

RECEIPTS_PER_PAGE = 10
EVENTS_PER_PAGE = 15


@dataclass(frozen=True)
class ContactWarning:
    """Something wrong with a contact: `problem` is missing, invalid, or landline (no SMS)."""

    contact: str  # email | phone
    problem: str

    @property
    def key(self) -> str:
        return f"{self.contact}-{self.problem}"


def contact_warnings(customer: Customer) -> list[ContactWarning]:
    """The marks the list and the profile show beside a customer's contacts."""
    warnings: list[ContactWarning] = []
    if not customer.email:
        warnings.append(ContactWarning("email", "missing"))
    elif not customer.email_valid:
        warnings.append(ContactWarning("email", "invalid"))
    if not customer.phone:
        warnings.append(ContactWarning("phone", "missing"))
    elif not customer.phone_valid:
        warnings.append(ContactWarning("phone", "invalid"))
    elif customer.phone_type == "landline":
        warnings.append(ContactWarning("phone", "landline"))
    return warnings


# Custom values are stored JSON-ready (dates as ISO text, decimals as strings): typed again for display.
_PARSERS: dict[str, Callable[[Any], Any]] = {
    "date": date.fromisoformat,
    "datetime": lambda text: ensure_utc(datetime.fromisoformat(text)),
    "decimal": Decimal,
    "integer": int,
}


def typed_value(field_type: str, value: Any) -> Any:
    parser = _PARSERS.get(field_type)
    if value is None or parser is None:
        return value
    try:
        return parser(value)
    except (ValueError, TypeError, ArithmeticError):
        return value  # stored before the field's type changed: shown as it is


def age_on(birth_date: date | None, today: date) -> int | None:
    if birth_date is None or birth_date > today:
        return None
    before_birthday = (today.month, today.day) < (birth_date.month, birth_date.day)
    return today.year - birth_date.year - int(before_birthday)


@dataclass(frozen=True)
class ReceiptRow:
    receipt: Receipt
    store_name: str | None


@dataclass(frozen=True)
class LineRow:
    line: ReceiptLine
    product_name: str | None


@dataclass(frozen=True)
class EventRow:
    event: Event
    source_name: str | None


@dataclass(frozen=True)
class WebEventRow:
    event: WebEvent
    source_name: str | None
    product_name: str | None
    category_name: str | None

    @property
    def price(self) -> Decimal | None:
        """The product's price as it was at the event (from the snapshot), when it is a number."""
        value = (self.event.snapshot or {}).get("price")
        try:
            return None if value is None or isinstance(value, bool) else Decimal(str(value))
        except ArithmeticError:
            return None


@dataclass(frozen=True)
class ContainerItemRow:
    item: ContainerItem
    product_name: str | None
    sku: str | None


@dataclass
class ContainerView:
    container: Container
    changed_at: datetime | None
    items: list[ContainerItemRow] = field(default_factory=list)


@dataclass(frozen=True)
class CustomFieldValue:
    code: str
    name: str
    type: str
    value: Any


@dataclass(frozen=True)
class RfmCell:
    """The customer's RFM scores and values, and when the calculation they belong to finished."""

    scores: CustomerRfm
    calculated_at: datetime | None


@dataclass(frozen=True)
class Membership:
    """A segment or target audience the customer is in, and since when (entered, or added)."""

    id: int
    name: str
    since: datetime
    member_count: int


@dataclass
class Memberships:
    segments: list[Membership] = field(default_factory=list)
    audiences: list[Membership] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.segments) + len(self.audiences)


@dataclass
class ReceiptsSection:
    page: Page[ReceiptRow]
    lines: dict[int, list[LineRow]]


@dataclass(frozen=True)
class ProfilePages:
    """Which page of each paged section to show."""

    receipts: int = 1
    events: int = 1
    web_events: int = 1
    communications: int = 1


@dataclass
class Profile:
    customer: Customer
    age: int | None
    warnings: list[ContactWarning]
    push_tokens: list[PushToken]
    subscriptions: list[SubscriptionOut]
    custom_fields: list[CustomFieldValue]
    receipts: ReceiptsSection
    events: Page[EventRow]
    web_events: Page[WebEventRow]
    containers: list[ContainerView]
    rfm: RfmCell | None = None
    memberships: Memberships = field(default_factory=Memberships)
    communications: Communications | None = None
    promo_codes: list[IssuedCode] = field(default_factory=list)
    polls: list[TakenPoll] = field(default_factory=list)
    loyalty: LoyaltyCard | None = None


class ProfileRepository:
    """SQL of the profile sections; nothing here writes."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def receipts(self, customer_id: int, params: PageParams) -> Page[ReceiptRow]:
        """A customer's receipts with their store, newest first."""
        owned = Receipt.customer_id == customer_id
        statement = (
            select(Receipt, Store.name)
            .outerjoin(Store, Store.id == Receipt.store_id)
            .where(owned)
            .order_by(Receipt.purchased_at.desc(), Receipt.id.desc())
        )
        rows = [ReceiptRow(receipt, store) for receipt, store in self._page(statement, params)]
        return Page(rows, self._count(Receipt, owned), params.page, params.size)

    def receipt_lines(self, receipt_ids: Sequence[int]) -> dict[int, list[LineRow]]:
        """The lines of these receipts with the product name when the SKU is in the catalogue."""
        grouped: dict[int, list[LineRow]] = {receipt_id: [] for receipt_id in receipt_ids}
        for part in chunks(list(receipt_ids)):
            statement = (
                select(ReceiptLine, Product.name)
                .outerjoin(Product, Product.id == ReceiptLine.product_id)
                .where(ReceiptLine.receipt_id.in_(part))
                .order_by(ReceiptLine.receipt_id, ReceiptLine.position)
            )
            for line, product_name in self.session.execute(statement):
                grouped[line.receipt_id].append(LineRow(line, product_name))
        return grouped

    def events(self, customer_id: int, params: PageParams) -> Page[EventRow]:
        owned = Event.customer_id == customer_id
        statement = (
            select(Event, EventSource.code, EventSource.name)
            .outerjoin(EventSource, EventSource.id == Event.source_id)
            .where(owned)
            .order_by(Event.occurred_at.desc(), Event.id.desc())
        )
        rows = [
            EventRow(event, _source_name(code, name)) for event, code, name in self._page(statement, params)
        ]
        return Page(rows, self._count(Event, owned), params.page, params.size)

    def web_events(self, customer_id: int, params: PageParams) -> Page[WebEventRow]:
        owned = WebEvent.customer_id == customer_id
        statement = (
            select(WebEvent, EventSource.code, EventSource.name, Product.name, Category.name)
            .outerjoin(EventSource, EventSource.id == WebEvent.source_id)
            .outerjoin(Product, Product.id == WebEvent.product_id)
            .outerjoin(Category, Category.id == WebEvent.category_id)
            .where(owned)
            .order_by(WebEvent.occurred_at.desc(), WebEvent.id.desc())
        )
        rows = [
            WebEventRow(event, _source_name(code, name), product, category)
            for event, code, name, product, category in self._page(statement, params)
        ]
        return Page(rows, self._count(WebEvent, owned), params.page, params.size)

    def containers(self, customer_id: int) -> list[ContainerView]:
        """The customer's non-empty lists (cart, wishlist, …), most recently changed first."""
        views: dict[int, ContainerView] = {}
        states = (
            select(Container, ContainerState.changed_at)
            .join(ContainerState, ContainerState.container_id == Container.id)
            .where(ContainerState.customer_id == customer_id)
        )
        for container, changed_at in self.session.execute(states):
            views[container.id] = ContainerView(container, changed_at)
        items = (
            select(ContainerItem, Container, Product.name, Product.sku)
            .join(Container, Container.id == ContainerItem.container_id)
            .outerjoin(Product, Product.id == ContainerItem.product_id)
            .where(ContainerItem.customer_id == customer_id)
            .order_by(ContainerItem.added_at.desc(), ContainerItem.product_id)
        )
        for item, container, name, sku in self.session.execute(items):
            view = views.setdefault(container.id, ContainerView(container, None))
            view.items.append(ContainerItemRow(item, name, sku))
        visible = [view for view in views.values() if view.items]
        return sorted(visible, key=lambda v: v.changed_at or _latest_addition(v), reverse=True)

    def rfm(self, customer_id: int) -> RfmCell | None:
        """The customer's RFM cell; None when the customer is not scored."""
        statement = (
            select(CustomerRfm, RfmCalculation.finished_at)
            .join(RfmCalculation, RfmCalculation.id == CustomerRfm.calculation_id)
            .where(CustomerRfm.customer_id == customer_id)
        )
        found = self.session.execute(statement).first()
        return None if found is None else RfmCell(found[0], found[1])

    def memberships(self, customer_id: int) -> Memberships:
        """The segments the customer is in as of their last builds, and the customer's target audiences."""
        segments = (
            select(Segment.id, Segment.name, SegmentMembership.entered_at, Segment.member_count)
            .join(SegmentMembership, SegmentMembership.segment_id == Segment.id)
            .where(SegmentMembership.customer_id == customer_id, SegmentMembership.exited_at.is_(None))
            .order_by(Segment.name, Segment.id)
        )
        audiences = (
            select(Audience.id, Audience.name, AudienceMember.added_at, Audience.member_count)
            .join(AudienceMember, AudienceMember.audience_id == Audience.id)
            .where(AudienceMember.customer_id == customer_id)
            .order_by(Audience.name, Audience.id)
        )
        return Memberships(
            [Membership(*row) for row in self.session.execute(segments)],
            [Membership(*row) for row in self.session.execute(audiences)],
        )

    def custom_fields(self, customer: Customer) -> list[CustomFieldValue]:
        """Custom fields shown in the profile, in the configured profile order, with the customer's values."""
        values = customer.custom or {}
        return [
            CustomFieldValue(d.code, d.name, d.type, typed_value(d.type, values.get(d.code)))
            for d in FieldRepository(self.session).for_object("customer")
            if not d.is_system and d.show_in_profile
        ]

    def _page(self, statement: Select[*tuple[Any, ...]], params: PageParams) -> list[Any]:
        return list(self.session.execute(statement.limit(params.size).offset(params.offset)))

    def _count(self, model: type[Receipt | Event | WebEvent], condition: ColumnElement[bool]) -> int:
        return int(self.session.scalar(select(func.count()).select_from(model).where(condition)) or 0)


def _source_name(code: str | None, name: str | None) -> str | None:
    return None if name is None else display_name("event_source", code, name)


def _latest_addition(view: ContainerView) -> datetime:
    return max(row.item.added_at for row in view.items)


class ProfileService:
    def load(self, session: Session, customer_id: int, pages: ProfilePages, time_zone: str) -> Profile:
        """Every section of the profile; paged sections show the pages asked for."""
        customer = customer_service.get(session, customer_id)
        repository = ProfileRepository(session)
        today = datetime.now(ZoneInfo(time_zone)).date()
        return Profile(
            customer=customer,
            age=age_on(customer.birth_date, today),
            warnings=contact_warnings(customer),
            push_tokens=CustomerRepository(session).push_tokens(customer.id),
            subscriptions=customer_service.subscriptions(session, customer),
            custom_fields=repository.custom_fields(customer),
            receipts=self.receipts(session, customer.id, pages.receipts),
            events=self.events(session, customer.id, pages.events),
            web_events=self.web_events(session, customer.id, pages.web_events),
            containers=repository.containers(customer.id),
            rfm=repository.rfm(customer.id),
            memberships=repository.memberships(customer.id),
            communications=communications(session, customer.id, pages.communications),
            promo_codes=PromoPollsRepository(session).issued_codes(customer.id),
            polls=taken_polls(session, customer.id),
            loyalty=loyalty_card(session, customer.id),
        )

    def section(
        self, session: Session, customer_id: int, name: str, pages: ProfilePages
    ) -> ReceiptsSection | Page[EventRow] | Page[WebEventRow] | Communications:
        """One paged section on its own (receipts, events, web_events or communications), for paging inside
        the profile."""
        if name == "communications":
            return communications(session, customer_id, pages.communications)
        if name == "receipts":
            return self.receipts(session, customer_id, pages.receipts)
        if name == "events":
            return self.events(session, customer_id, pages.events)
        return self.web_events(session, customer_id, pages.web_events)

    def receipts(self, session: Session, customer_id: int, page: int) -> ReceiptsSection:
        """One page of receipts, newest first, with the lines of each."""
        repository = ProfileRepository(session)
        receipts = repository.receipts(customer_id, PageParams(page=max(page, 1), size=RECEIPTS_PER_PAGE))
        lines = repository.receipt_lines([row.receipt.id for row in receipts.items])
        return ReceiptsSection(receipts, lines)

    def events(self, session: Session, customer_id: int, page: int) -> Page[EventRow]:
        params = PageParams(page=max(page, 1), size=EVENTS_PER_PAGE)
        return ProfileRepository(session).events(customer_id, params)

    def web_events(self, session: Session, customer_id: int, page: int) -> Page[WebEventRow]:
        params = PageParams(page=max(page, 1), size=EVENTS_PER_PAGE)
        return ProfileRepository(session).web_events(customer_id, params)


profile_service = ProfileService()
