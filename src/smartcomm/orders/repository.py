"""Every SQL statement of orders: the status dictionary, the set-based writes, and the reads behind the API
and the pages."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    Table,
    bindparam,
    delete,
    exists,
    func,
    insert,
    not_,
    or_,
    select,
    type_coerce,
    update,
)
from sqlalchemy.orm import Session, aliased

from smartcomm.customers.repository import chunks
from smartcomm.kit.models import Money
from smartcomm.kit.pagination import Page, PageParams
from smartcomm.models import Customer, Order, OrderLine, OrderStatus, OrderStatusChange, Product, Store
from smartcomm.models.orders import DIMENSIONS

orders_table = cast(Table, Order.__table__)
lines_table = cast(Table, OrderLine.__table__)
changes_table = cast(Table, OrderStatusChange.__table__)
STATUS_COLUMNS = {
    "general": Order.general_status_id,
    "delivery": Order.delivery_status_id,
    "payment": Order.payment_status_id,
}


@dataclass(frozen=True, slots=True)
class StoredOrder:
    """What a write needs to know of an order already stored under a number."""

    id: int
    customer_id: int
    status_ids: dict[str, int | None]


@dataclass(frozen=True)
class OrderFilter:
    """The Orders list's filters: a status of each dimension (ids), the order date in the project time
    zone (as UTC bounds), a number typed in the search box, one customer."""

    statuses: dict[str, int] | None = None
    start: datetime | None = None  # inclusive
    end: datetime | None = None  # exclusive
    number: str = ""
    customer_id: int | None = None

    def conditions(self) -> list[ColumnElement[bool]]:
        found: list[ColumnElement[bool]] = [
            STATUS_COLUMNS[dimension] == status_id for dimension, status_id in (self.statuses or {}).items()
        ]
        if self.start is not None:
            found.append(Order.created_at >= self.start)
        if self.end is not None:
            found.append(Order.created_at < self.end)
        if self.number:
            found.append(Order.number.startswith(self.number, autoescape=True))
        if self.customer_id is not None:
            found.append(Order.customer_id == self.customer_id)
        return found


@dataclass(frozen=True)
class OrderTotals:
    orders: int
    amount: Decimal
    open_orders: int
    customers: int

    @property
    def average(self) -> Decimal | None:
        return (self.amount / self.orders).quantize(Decimal("0.01")) if self.orders else None


@dataclass(frozen=True)
class OrderRow:
    """An order as the lists show it: with its customer's name and its store's."""

    order: Order
    customer_name: str
    store_name: str | None


@dataclass(frozen=True)
class LineRow:
    line: OrderLine
    product_name: str | None


class StatusRepository:
    """The status dictionary: a small table read whole."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def all(self) -> list[OrderStatus]:
        statement = select(OrderStatus).order_by(OrderStatus.dimension, OrderStatus.position, OrderStatus.id)
        return list(self.session.scalars(statement))

    def get(self, status_id: int) -> OrderStatus | None:
        return self.session.get(OrderStatus, status_id)

    def by_code(self, dimension: str, code: str, other_than: int | None = None) -> OrderStatus | None:
        statement = select(OrderStatus).where(OrderStatus.dimension == dimension, OrderStatus.code == code)
        if other_than is not None:
            statement = statement.where(OrderStatus.id != other_than)
        return self.session.scalar(statement)

    def next_position(self, dimension: str) -> int:
        statement = select(func.max(OrderStatus.position)).where(OrderStatus.dimension == dimension)
        return int(self.session.scalar(statement) or 0) + 1

    def add(self, status: OrderStatus) -> OrderStatus:
        self.session.add(status)
        self.session.flush()
        return status

    def delete(self, status: OrderStatus) -> None:
        self.session.delete(status)
        self.session.flush()

    def usage(self) -> dict[int, int]:
        """Orders in each status now: one grouped count per dimension."""
        counts: dict[int, int] = {}
        for column in STATUS_COLUMNS.values():
            statement = select(column, func.count()).where(column.is_not(None)).group_by(column)
            for status_id, count in self.session.execute(statement):
                if status_id is not None:
                    counts[status_id] = counts.get(status_id, 0) + int(count)
        return counts

    def in_use(self, status: OrderStatus) -> int:
        column = STATUS_COLUMNS[status.dimension]
        return int(self.session.scalar(select(func.count()).where(column == status.id)) or 0)

    def refresh_analytics(self, status_id: int) -> None:
        """Recompute `in_analytics` of the orders in this status after its flag changed."""
        in_status = or_(*(column == status_id for column in STATUS_COLUMNS.values()))
        self.session.execute(update(Order).where(in_status).values(in_analytics=analytics_expression()))


def analytics_expression() -> ColumnElement[bool]:
    """True while none of the order's statuses is excluded from analytics (correlated to `orders`)."""
    excluded = aliased(OrderStatus)
    return not_(
        exists(
            select(excluded.id).where(
                excluded.include_in_analytics.is_(False),
                or_(*(excluded.id == column for column in STATUS_COLUMNS.values())),
            )
        )
    )


class OrderRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    # --- writes (the writer's statements)

    def stored(self, numbers: Sequence[str]) -> dict[str, StoredOrder]:
        found: dict[str, StoredOrder] = {}
        statuses = tuple(STATUS_COLUMNS.values())
        for part in chunks(list(dict.fromkeys(numbers))):
            statement = select(Order.id, Order.number, Order.customer_id, *statuses).where(
                Order.number.in_(part)
            )
            for row in self.session.execute(statement):
                status_ids = dict(zip(DIMENSIONS, row[3:], strict=True))
                found[row.number] = StoredOrder(row.id, row.customer_id, status_ids)
        return found

    def insert(self, rows: Sequence[dict[str, Any]]) -> list[int]:
        if not rows:
            return []
        statement = insert(orders_table).returning(orders_table.c.id, sort_by_parameter_order=True)
        return [row[0] for row in self.session.execute(statement, list(rows))]

    def replace(self, rows: Sequence[tuple[int, dict[str, Any]]]) -> None:
        """Update stored orders (id, values) and drop their lines (written again by the caller)."""
        if not rows:
            return
        ids = [order_id for order_id, _ in rows]
        for part in chunks(ids):
            self.session.execute(delete(lines_table).where(lines_table.c.order_id.in_(part)))
        names = list(rows[0][1])
        statement = (
            update(orders_table)
            .where(orders_table.c.id == bindparam("v_id"))
            .values({name: bindparam(f"v_{name}") for name in names})
        )
        params = [{f"v_{k}": v for k, v in values.items()} | {"v_id": i} for i, values in rows]
        self.session.execute(statement, params)

    def insert_lines(self, rows: Sequence[dict[str, Any]]) -> None:
        if rows:
            self.session.execute(insert(lines_table), list(rows))

    def insert_changes(self, rows: Sequence[dict[str, Any]]) -> None:
        if rows:
            self.session.execute(insert(changes_table), list(rows))

    def set_status(self, order_id: int, dimension: str, status_id: int, in_analytics: bool) -> None:
        values = {STATUS_COLUMNS[dimension].key: status_id, "in_analytics": in_analytics}
        self.session.execute(update(Order).where(Order.id == order_id).values(**values))

    # --- reads

    def by_number(self, number: str, *, lock: bool = False) -> Order | None:
        statement = select(Order).where(Order.number == number)
        return self.session.scalar(statement.with_for_update() if lock else statement)

    def store_codes(self, store_ids: Iterable[int | None]) -> dict[int, str]:
        wanted = sorted({store_id for store_id in store_ids if store_id is not None})
        if not wanted:
            return {}
        return dict(self.session.execute(select(Store.id, Store.code).where(Store.id.in_(wanted))).all())

    def lines_of(self, order_ids: Sequence[int]) -> dict[int, list[LineRow]]:
        """The lines of these orders, in order, with the product's name when the SKU is in the catalogue."""
        grouped: dict[int, list[LineRow]] = {order_id: [] for order_id in order_ids}
        for part in chunks(list(order_ids)):
            statement = (
                select(OrderLine, Product.name)
                .outerjoin(Product, Product.id == OrderLine.product_id)
                .where(OrderLine.order_id.in_(part))
                .order_by(OrderLine.order_id, OrderLine.position)
            )
            for line, product_name in self.session.execute(statement):
                grouped[line.order_id].append(LineRow(line, product_name))
        return grouped

    def history(self, order_id: int) -> list[OrderStatusChange]:
        statement = (
            select(OrderStatusChange)
            .where(OrderStatusChange.order_id == order_id)
            .order_by(OrderStatusChange.changed_at, OrderStatusChange.id)
        )
        return list(self.session.scalars(statement))

    def rows(self, wanted: OrderFilter, params: PageParams) -> list[OrderRow]:
        """One page of orders, newest first, with their customer and store."""
        statement = (
            select(Order, Customer.first_name, Customer.last_name, Customer.external_id, Store.name)
            .join(Customer, Customer.id == Order.customer_id)
            .outerjoin(Store, Store.id == Order.store_id)
            .where(*wanted.conditions())
            .order_by(Order.created_at.desc(), Order.id.desc())
            .limit(params.size)
            .offset(params.offset)
        )
        return [
            OrderRow(order, _customer_name(first, last, external), store)
            for order, first, last, external, store in self.session.execute(statement)
        ]

    def page(self, wanted: OrderFilter, params: PageParams) -> Page[OrderRow]:
        return Page(self.rows(wanted, params), self.totals(wanted).orders, params.page, params.size)

    def totals(self, wanted: OrderFilter) -> OrderTotals:
        """Count, amount, open orders (whose general status is not final) and buyers of the filtered set."""
        final = select(OrderStatus.id).where(OrderStatus.is_final.is_(True))
        still_open = or_(Order.general_status_id.is_(None), Order.general_status_id.not_in(final))
        statement = select(
            func.count(),
            type_coerce(func.coalesce(func.sum(Order.total), 0), Money),
            func.count().filter(still_open),
            func.count(func.distinct(Order.customer_id)),
        ).where(*wanted.conditions())
        count, amount, open_orders, customers = self.session.execute(statement).one()
        return OrderTotals(int(count), amount or Decimal("0"), int(open_orders or 0), int(customers))

    def per_day(self, wanted: OrderFilter, starts: Sequence[datetime], end: datetime) -> list[int]:
        """Orders placed on each day, the days given by their first instants (UTC) and the end of the
        last one: the order times of the window read through the time index, counted here."""
        if not starts:
            return []
        statement = select(Order.created_at).where(
            *wanted.conditions(), Order.created_at >= starts[0], Order.created_at < end
        )
        counts = [0] * len(starts)
        for (moment,) in self.session.execute(statement):
            counts[bisect_right(starts, moment) - 1] += 1
        return counts

    def for_customer(self, customer_id: int, params: PageParams) -> Page[OrderRow]:
        return self.page(OrderFilter(customer_id=customer_id), params)


def _customer_name(first: str | None, last: str | None, external_id: str) -> str:
    return " ".join(part for part in (first, last) if part) or external_id


def ordered_items(
    session: Session, order_ids: Collection[int]
) -> dict[int, list[tuple[int | None, int | None]]]:
    """Order id → [(product id, category id)] of its lines, in line order: what campaign triggers on "item
    ordered" and "item from a category ordered" look at. One query (one per 5,000 orders beyond that, as
    the databases bound the parameters of a statement)."""
    found: dict[int, list[tuple[int | None, int | None]]] = {order_id: [] for order_id in order_ids}
    statement = (
        select(OrderLine.order_id, OrderLine.product_id, OrderLine.category_id)
        .where(OrderLine.order_id.in_(bindparam("ids", expanding=True)))
        .order_by(OrderLine.order_id, OrderLine.position)
    )
    for part in chunks(list(found)):
        for order_id, product_id, category_id in session.execute(statement, {"ids": list(part)}):
            found[order_id].append((product_id, category_id))
    return found
