"""What the Orders pages and the customer profile's Orders tab show: orders with their customer, store,
statuses (as dictionary rows, for their names and colours) and lines; the list's totals and its orders per
day. A page costs the same few statements however many orders there are."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy.orm import Session

from smartcomm.kit.pagination import Page, PageParams
from smartcomm.kit.time import start_of_day, to_zone
from smartcomm.models import Order, OrderStatus
from smartcomm.models.orders import DIMENSIONS
from smartcomm.orders.display import (
    DELIVERY_TYPE_LABELS,
    DIMENSION_ICONS,
    DIMENSION_LABELS,
    PAYMENT_TYPE_LABELS,
    badge_class,
    name_of,
)
from smartcomm.orders.repository import (
    LineRow,
    OrderFilter,
    OrderRepository,
    OrderRow,
    OrderTotals,
    StatusRepository,
)

CHART_DAYS = 30  # the chart's window when the list is not limited to dates
MAX_CHART_DAYS = 366
PROFILE_LIMIT = 50  # the profile shows a customer's latest orders; the Orders list has them all


@dataclass(frozen=True)
class Badge:
    """A status as a coloured badge: its dimension (and icon), code and name in the interface language."""

    dimension: str
    code: str
    name: str
    css: str
    icon: str
    title: str  # the dimension's name


def badge(status: OrderStatus) -> Badge:
    dimension = status.dimension
    title = str(DIMENSION_LABELS.get(dimension, dimension))
    return Badge(
        dimension, status.code, name_of(status), badge_class(status), DIMENSION_ICONS[dimension], title
    )


@dataclass(frozen=True)
class OrderView:
    row: OrderRow
    statuses: dict[str, OrderStatus | None]
    lines: list[LineRow]

    @property
    def order(self) -> Order:
        return self.row.order

    @property
    def badges(self) -> list[Badge]:
        return [badge(status) for status in self.statuses.values() if status is not None]

    @property
    def delivery_label(self) -> str | None:
        kind = self.order.delivery_type
        return str(DELIVERY_TYPE_LABELS.get(kind, kind)) if kind else None

    @property
    def payment_label(self) -> str | None:
        kind = self.order.payment_type
        return str(PAYMENT_TYPE_LABELS.get(kind, kind)) if kind else None


@dataclass(frozen=True)
class DayChart:
    days: list[date]
    orders: list[int]


@dataclass
class OrdersPage:
    page: Page[OrderView]
    totals: OrderTotals
    chart: DayChart | None = None


@dataclass
class CustomerOrders:
    total: int
    items: list[OrderView] = field(default_factory=list)


def statuses_by_dimension(session: Session) -> dict[str, list[OrderStatus]]:
    """The dictionary, each dimension in its order (for the list's filters)."""
    grouped: dict[str, list[OrderStatus]] = {dimension: [] for dimension in DIMENSIONS}
    for status in StatusRepository(session).all():
        grouped.setdefault(status.dimension, []).append(status)
    return grouped


def _views(session: Session, rows: list[OrderRow]) -> list[OrderView]:
    known = {status.id: status for status in StatusRepository(session).all()}
    lines = OrderRepository(session).lines_of([row.order.id for row in rows])
    return [
        OrderView(
            row,
            {d: known.get(getattr(row.order, f"{d}_status_id") or 0) for d in DIMENSIONS},
            lines[row.order.id],
        )
        for row in rows
    ]


def orders_page(
    session: Session, wanted: OrderFilter, params: PageParams, zone: str, today: date
) -> OrdersPage:
    """One page of the list with the totals of everything the filters select and the orders per day."""
    repository = OrderRepository(session)
    totals = repository.totals(wanted)
    rows = repository.rows(wanted, params)
    page = Page(_views(session, rows), totals.orders, params.page, params.size)
    return OrdersPage(page, totals, day_chart(session, wanted, zone, today))


def day_chart(session: Session, wanted: OrderFilter, zone: str, today: date) -> DayChart:
    """Orders per day over the filtered dates (the last 30 days when none), in the project time zone."""
    first = _local_day(wanted.start, zone) or today - timedelta(days=CHART_DAYS - 1)
    last = _local_day(wanted.end - timedelta(microseconds=1), zone) if wanted.end else None
    last = max(first, min(last or today, first + timedelta(days=MAX_CHART_DAYS - 1)))
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    starts = [start_of_day(day, zone) for day in days]
    counts = OrderRepository(session).per_day(wanted, starts, start_of_day(last + timedelta(days=1), zone))
    return DayChart(days, counts)


def _local_day(moment: datetime | None, zone: str) -> date | None:
    return to_zone(moment, zone).date() if moment else None


def customer_orders(session: Session, customer_id: int) -> CustomerOrders:
    """The customer's latest orders with their lines, and how many there are."""
    repository = OrderRepository(session)
    wanted = OrderFilter(customer_id=customer_id)
    found = repository.rows(wanted, PageParams(page=1, size=PROFILE_LIMIT))
    total = len(found) if len(found) < PROFILE_LIMIT else repository.totals(wanted).orders
    return CustomerOrders(total, _views(session, found))
