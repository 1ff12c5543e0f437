"""Rules for orders: the module switch, validation against customers and the status dictionary, the
writes (one action = the change, its history rows and events, and one audit row) and status changes."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from smartcomm.audit.actor import Actor
from smartcomm.audit.service import audit_service
from smartcomm.catalog.lookups import ProductLookup, StoreLookup
from smartcomm.customers.service import customer_service
from smartcomm.kit.errors import DomainError, FieldError, InvalidInput, NotFound
from smartcomm.kit.i18n import lazy
from smartcomm.kit.outbox import publish
from smartcomm.kit.pagination import Page, PageParams
from smartcomm.kit.time import utcnow
from smartcomm.models import Order
from smartcomm.models.orders import DIMENSIONS
from smartcomm.orders.book import StatusBook
from smartcomm.orders.repository import LineRow, OrderRepository
from smartcomm.orders.resolve import customer_ids
from smartcomm.orders.schemas import (
    DeliveryOut,
    OrderBatchOut,
    OrderIn,
    OrderLineOut,
    OrderOut,
    PaymentOut,
    StatusChangeOut,
    StatusesOut,
)
from smartcomm.orders.writer import Change, LineRecord, OrderRecord, OrderWriter
from smartcomm.settings.schemas import GeneralSettings
from smartcomm.settings.service import settings_service

CANCELLED = "cancelled"
DISABLED = lazy("Orders are turned off. An administrator turns them on in Settings → Order statuses.")


class OrdersDisabled(DomainError):
    def __init__(self) -> None:
        super().__init__(DISABLED, status_code=409, code="orders_disabled")


class OrderService:
    # --- the module switch

    def enabled(self, session: Session) -> bool:
        return settings_service.read(session, GeneralSettings).orders_enabled

    def require_enabled(self, session: Session) -> None:
        """Refuse (409) while the orders module is turned off."""
        if not self.enabled(session):
            raise OrdersDisabled

    def set_enabled(self, session: Session, actor: Actor, enabled: bool) -> None:
        """Turn the orders module on or off (audited as a settings change)."""
        settings_service.update(session, actor, GeneralSettings, {"orders_enabled": enabled})

    # --- writes

    def write(self, session: Session, actor: Actor, items: Sequence[OrderIn]) -> OrderBatchOut:
        """Store orders (idempotent by number); any invalid item rejects the whole batch."""
        book = StatusBook.load(session)
        records, errors = self.to_records(session, items, book, path="orders")
        if errors:
            raise InvalidInput(f"{len(errors)} problem(s) in the orders; nothing was written", errors)
        result = OrderWriter(session, book).write(records)
        single = len(records) == 1
        audit_service.record(
            session,
            actor,
            object_type="order" if single else "order_batch",
            object_id=result.ids[0] if single else f"{len(records)} orders",
            action="upsert",
            changes={"created": [None, result.created], "replaced": [None, result.replaced]},
            object_label=records[0].number if single else "",
        )
        return OrderBatchOut(created=result.created, replaced=result.replaced, ids=result.ids)

    def write_one(self, session: Session, actor: Actor, item: OrderIn) -> OrderBatchOut:
        """Store one order; problems name its fields directly (`statuses.payment`)."""
        try:
            return self.write(session, actor, [item])
        except InvalidInput as error:
            fields = [FieldError(e.field.removeprefix("orders[0]."), e.message, e.code) for e in error.errors]
            raise InvalidInput(error.message, fields) from None

    def to_records(
        self, session: Session, items: Sequence[OrderIn], book: StatusBook, *, path: str
    ) -> tuple[list[OrderRecord], list[FieldError]]:
        """Resolve customers, statuses, stores and products; every problem names its item's field path.
        Nothing is created (not even a store) unless every item is right."""
        customers = customer_ids(session, items)
        products = ProductLookup(session).resolve([line.sku for item in items for line in item.lines])
        records: list[OrderRecord] = []
        errors: list[FieldError] = []
        for index, item in enumerate(items):
            where, known = f"{path}[{index}]", len(errors)
            customer_id = customers.get(item.customer_external_id or f"#{item.customer_id}")
            if customer_id is None:
                field = "customer_external_id" if item.customer_external_id else "customer_id"
                errors.append(FieldError(f"{where}.{field}", "no customer with this id", "unknown"))
            status_ids = self._status_ids(item, book, where, errors)
            if customer_id is not None and len(errors) == known:
                records.append(_record(item, customer_id, status_ids, products))
        if errors:
            return [], errors
        stores = StoreLookup(session).ids([item.store for item in items if item.store])
        for record, item in zip(records, items, strict=True):
            record.store_id = stores[item.store] if item.store else None
        return records, errors

    @staticmethod
    def _status_ids(
        item: OrderIn, book: StatusBook, where: str, errors: list[FieldError]
    ) -> dict[str, int | None]:
        found: dict[str, int | None] = {}
        for dimension in DIMENSIONS:
            code = getattr(item.statuses, dimension)
            entry = book.find(dimension, code) if code is not None else None
            if code is not None and entry is None:
                message = f"no {dimension} status with this code (see Settings → Order statuses)"
                errors.append(FieldError(f"{where}.statuses.{dimension}", message, "unknown"))
            found[dimension] = entry.id if entry else None
        return found

    def change_status(self, session: Session, actor: Actor, number: str, dimension: str, code: str) -> Order:
        """Move one dimension of an order to another status; the same status again changes nothing."""
        book = StatusBook.load(session)
        order = self.get(session, number, lock=True)
        entry = book.find(dimension, code)
        if entry is None:
            message = f"no {dimension} status with this code (see Settings → Order statuses)"
            raise InvalidInput("Unknown status", [FieldError("code", message, "unknown")])
        before = getattr(order, f"{dimension}_status_id")
        if before == entry.id:
            return order
        status_ids = {d: getattr(order, f"{d}_status_id") for d in DIMENSIONS} | {dimension: entry.id}
        OrderRepository(session).set_status(order.id, dimension, entry.id, book.in_analytics(status_ids))
        change = Change(order.id, order.customer_id, dimension, book.code_of(before), code, utcnow())
        self._record_change(session, actor, order, change)
        session.refresh(order)
        return order

    def cancel(self, session: Session, actor: Actor, number: str) -> Order:
        """Give the order the general status `cancelled`."""
        return self.change_status(session, actor, number, "general", CANCELLED)

    @staticmethod
    def _record_change(session: Session, actor: Actor, order: Order, change: Change) -> None:
        OrderRepository(session).insert_changes([change.as_row()])
        publish(
            session,
            "order.status_changed",
            customer_ids=[order.customer_id],
            payload={"changes": [change.as_event()]},
        )
        audit_service.record(
            session,
            actor,
            object_type="order",
            object_id=order.id,
            action="update",
            changes={f"status.{change.dimension}": [change.from_code, change.to_code]},
            object_label=order.number,
        )

    # --- reads

    def get(self, session: Session, number: str, *, lock: bool = False) -> Order:
        order = OrderRepository(session).by_number(number, lock=lock)
        if order is None:
            raise NotFound("Order", number)
        return order

    def describe(self, session: Session, number: str) -> OrderOut:
        """One order with its lines and its status history."""
        order = self.get(session, number)
        repository = OrderRepository(session)
        lines = repository.lines_of([order.id])[order.id]
        out = self.outputs(session, [order], {order.id: lines})[0]
        out.history = [
            StatusChangeOut(
                dimension=c.dimension, from_code=c.from_code, to_code=c.to_code, changed_at=c.changed_at
            )
            for c in repository.history(order.id)
        ]
        return out

    def for_customer(self, session: Session, customer_id: int, params: PageParams) -> Page[OrderOut]:
        """A customer's orders, newest first, with their lines."""
        customer_service.get(session, customer_id)
        repository = OrderRepository(session)
        found = repository.for_customer(customer_id, params)
        orders = [row.order for row in found.items]
        lines = repository.lines_of([order.id for order in orders])
        return Page(self.outputs(session, orders, lines), found.total, found.page, found.size)

    def outputs(
        self, session: Session, orders: Sequence[Order], lines: dict[int, list[LineRow]]
    ) -> list[OrderOut]:
        book = StatusBook.load(session)
        stores = OrderRepository(session).store_codes(order.store_id for order in orders)
        return [_out(order, book, stores, lines.get(order.id, [])) for order in orders]


def _record(
    item: OrderIn,
    customer_id: int,
    status_ids: dict[str, int | None],
    products: dict[str, tuple[int | None, int | None]],
) -> OrderRecord:
    delivery, payment = item.delivery, item.payment
    return OrderRecord(
        number=item.number,
        customer_id=customer_id,
        created_at=item.created_at,
        total=item.order_total(),
        status_ids=status_ids,
        cash_part=item.order_cash_part(),
        bonus_part=item.bonus_part,
        delivery_cost=item.delivery_cost,
        discount=item.discount,
        delivery_type=delivery.type,
        carrier=delivery.carrier or None,
        country=delivery.country or None,
        city=delivery.city or None,
        street=delivery.street or None,
        delivery_at=delivery.delivery_at,
        customer_note=delivery.customer_note or None,
        payment_type=payment.type,
        payment_provider=payment.provider or None,
        lines=[
            LineRecord(
                sku=line.sku,
                name=line.name or None,
                quantity=line.quantity,
                price=line.price,
                amount=line.line_amount(),
                weight=line.weight,
                discount=line.discount,
                bonus_accrued=line.bonus_accrued,
                bonus_redeemed=line.bonus_redeemed,
                cash_part=line.line_cash_part(),
                product_id=products[line.sku][0],
                category_id=products[line.sku][1],
            )
            for line in item.lines
        ],
    )


def _out(order: Order, book: StatusBook, stores: dict[int, str], lines: list[LineRow]) -> OrderOut:
    return OrderOut(
        id=order.id,
        number=order.number,
        customer_id=order.customer_id,
        store=stores.get(order.store_id) if order.store_id is not None else None,
        created_at=order.created_at,
        updated_at=order.updated_at,
        statuses=StatusesOut(
            **{dimension: book.code_of(getattr(order, f"{dimension}_status_id")) for dimension in DIMENSIONS}
        ),
        in_analytics=order.in_analytics,
        total=order.total,
        cash_part=order.cash_part,
        bonus_part=order.bonus_part,
        delivery_cost=order.delivery_cost,
        discount=order.discount,
        delivery=DeliveryOut(
            type=order.delivery_type,
            carrier=order.carrier,
            country=order.country,
            city=order.city,
            street=order.street,
            delivery_at=order.delivery_at,
            customer_note=order.customer_note,
        ),
        payment=PaymentOut(type=order.payment_type, provider=order.payment_provider),
        lines=[OrderLineOut.model_validate(row.line) for row in lines],
    )


order_service = OrderService()
