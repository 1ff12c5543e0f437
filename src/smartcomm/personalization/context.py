"""Render contexts: the variables a template sees for one recipient, built for a whole batch at once.

`context_builder.for_customers(session, ids, extra)` loads the customers, their RFM cells, their last
receipts with lines, and their containers with products for the whole batch in a fixed number of
queries (see context_repository), and returns one `RenderContext` per customer. The caller adds
what only it knows — the triggering event, the message's own links — through `extra` (for every
customer) or `context.with_values(...)` (for one).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from smartcomm.kit.time import utcnow
from smartcomm.models import Container, Customer, CustomerRfm
from smartcomm.personalization.context_repository import ContextRepository, chunked
from smartcomm.personalization.runtime import RenderSettings
from smartcomm.personalization.views import (
    ClientView,
    ContainerView,
    LineView,
    ProductView,
    ReceiptView,
    RfmView,
    age_on,
)
from smartcomm.settings.schemas import GeneralSettings
from smartcomm.settings.service import settings_service

DEFAULT_RECEIPTS = 5
MAX_RECEIPTS = 20
LINK_VARIABLES = ("unsubscribe_url", "preferences_url", "view_in_browser_url")
# Every name a template may use at the top level (besides its own `set`s and the built-in functions).
CONTEXT_VARIABLES = ("client", "receipts", "containers", "event", *LINK_VARIABLES, "today", "now", "company")


@dataclass(frozen=True, slots=True)
class RenderContext:
    """The variables of one recipient's message and the formats to render them in."""

    customer_id: int | None
    variables: Mapping[str, Any]
    settings: RenderSettings = field(default_factory=RenderSettings)

    def with_values(self, **values: Any) -> RenderContext:
        """The same context with more (or other) variables: the message's links, the event."""
        return replace(self, variables={**self.variables, **values})


def render_settings(general: GeneralSettings) -> RenderSettings:
    return RenderSettings(general.default_language, general.time_zone, general.currency)


def base_variables(general: GeneralSettings, extra: Mapping[str, Any] | None) -> dict[str, Any]:
    """What every recipient of a batch shares: today in the project's zone, the company, placeholders
    for the links (the sender gives every message its own), and the caller's extras."""
    now = utcnow()
    today = now.astimezone(ZoneInfo(general.time_zone)).date()
    shared: dict[str, Any] = dict.fromkeys(LINK_VARIABLES, "#")
    shared.update(event={}, today=today, now=now, company=general.company_name)
    shared.update(extra or {})
    return shared


class ContextBuilder:
    def for_customers(
        self,
        session: Session,
        ids: Sequence[int],
        extra: Mapping[str, Any] | None = None,
        *,
        receipts: int = DEFAULT_RECEIPTS,
    ) -> dict[int, RenderContext]:
        """Contexts of many customers, by id (ids not found are left out)."""
        general = settings_service.read(session, GeneralSettings)
        settings, shared = render_settings(general), base_variables(general, extra)
        repository = ContextRepository(session)
        definitions = repository.containers()
        contexts: dict[int, RenderContext] = {}
        for chunk in chunked(list(dict.fromkeys(ids))):
            batch = _Batch(repository, chunk, min(max(receipts, 0), MAX_RECEIPTS), definitions)
            for customer in batch.customers:
                variables = shared | batch.variables_of(customer, shared["today"])
                contexts[customer.id] = RenderContext(customer.id, variables, settings)
        return contexts

    def for_customer(
        self, session: Session, customer_id: int, extra: Mapping[str, Any] | None = None
    ) -> RenderContext | None:
        return self.for_customers(session, [customer_id], extra).get(customer_id)


class _Batch:
    """The rows of one chunk of customers, grouped by customer, and the views made from them."""

    def __init__(
        self, repository: ContextRepository, ids: list[int], receipts: int, definitions: list[Container]
    ) -> None:
        self.customers: list[Customer] = repository.customers(ids)
        self.rfm: dict[int, CustomerRfm] = {row.customer_id: row for row in repository.rfm(ids)}
        self.receipts = self._receipts(repository, ids, receipts) if receipts else {}
        self.containers = self._containers(repository, ids, definitions)
        self.definitions = definitions

    def variables_of(self, customer: Customer, today: date) -> dict[str, Any]:
        return {
            "client": client_view(customer, self.rfm.get(customer.id), today),
            "receipts": self.receipts.get(customer.id, []),
            "containers": self._containers_of(customer.id),
        }

    @staticmethod
    def _receipts(repository: ContextRepository, ids: list[int], limit: int) -> dict[int, list[ReceiptView]]:
        lines: dict[int, list[LineView]] = defaultdict(list)
        for row in repository.lines_of_last_receipts(ids, limit):
            lines[row.receipt_id].append(line_view(row))
        found: dict[int, list[ReceiptView]] = defaultdict(list)
        for row in repository.last_receipts(ids, limit):
            found[row.customer_id].append(receipt_view(row, lines.get(row.id, [])))
        return found

    @staticmethod
    def _containers(
        repository: ContextRepository, ids: list[int], definitions: list[Container]
    ) -> dict[tuple[int, int], tuple[datetime | None, list[ProductView]]]:
        if not definitions:
            return {}
        changed = {(s.customer_id, s.container_id): s.changed_at for s in repository.container_states(ids)}
        products: dict[tuple[int, int], list[ProductView]] = defaultdict(list)
        for row in repository.container_products(ids):
            products[(row.customer_id, row.container_id)].append(container_product(row))
        return {key: (changed.get(key), products.get(key, [])) for key in set(changed) | set(products)}

    def _containers_of(self, customer_id: int) -> dict[str, ContainerView]:
        views: dict[str, ContainerView] = {}
        for container in self.definitions:
            changed_at, products = self.containers.get((customer_id, container.id), (None, []))
            views[container.code] = ContainerView(container.code, container.name, products, changed_at)
        return views


# --- views from rows -------------------------------------------------------------------------------


def client_view(customer: Customer, rfm: CustomerRfm | None, today: date) -> ClientView:
    values = {
        "id": customer.id,
        "external_id": customer.external_id,
        "first_name": customer.first_name,
        "last_name": customer.last_name,
        "middle_name": customer.middle_name,
        "full_name": customer.full_name,
        "gender": customer.gender,
        "birth_date": customer.birth_date,
        "age": age_on(customer.birth_date, today),
        "email": customer.email,
        "phone": customer.phone,
        "country": customer.country,
        "region": customer.region,
        "city": customer.city,
        "time_zone": customer.time_zone,
        "registered_at": customer.registered_at,
        "card_number": customer.card_number,
        "card_status": customer.card_status,
        "receipt_count": customer.receipt_count,
        "total_amount": customer.total_amount,
        "average_receipt": customer.average_receipt,
        "first_purchase_at": customer.first_purchase_at,
        "last_purchase_at": customer.last_purchase_at,
    }
    cell = RfmView(rfm.r, rfm.f, rfm.m, rfm.recency_days, rfm.frequency, rfm.monetary) if rfm else None
    return ClientView(values, customer.custom or {}, cell)


def line_view(row: Any) -> LineView:
    return LineView(
        sku=row.sku,
        name=row.name or row.sku,
        quantity=row.quantity,
        price=row.price,
        amount=row.amount,
        discount=row.discount,
        image=row.image_url,
        link=row.url,
        position=row.position,
    )


def receipt_view(row: Any, lines: list[LineView]) -> ReceiptView:
    return ReceiptView(
        number=row.number,
        purchased_at=row.purchased_at,
        status=row.status,
        total=row.total,
        discount=row.discount,
        bonus_earned=row.bonus_earned,
        bonus_spent=row.bonus_spent,
        item_count=row.item_count,
        store=row.store,
        custom=row.custom,
        lines=lines,
    )


def container_product(row: Any) -> ProductView:
    price = row.item_price if row.item_price is not None else row.price
    return ProductView(row.sku, row.name, price, row.image_url, row.url, row.quantity)


context_builder = ContextBuilder()
