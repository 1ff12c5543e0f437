"""SQL of events, web events, sessions, visitors and event sources."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from decimal import Decimal
from functools import cache, lru_cache
from typing import Any, NamedTuple, cast

from sqlalchemy import Dialect, Table, and_, bindparam, case, func, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from smartcomm.customers.repository import chunks
from smartcomm.kit.pagination import Page, PageParams
from smartcomm.models import (
    Category,
    Classifier,
    Customer,
    Event,
    EventSource,
    Product,
    Visitor,
    WebEvent,
    WebSession,
)

events = cast(Table, Event.__table__)
web_events = cast(Table, WebEvent.__table__)
web_sessions = cast(Table, WebSession.__table__)
visitors = cast(Table, Visitor.__table__)


class SourceRef(NamedTuple):
    id: int
    code: str
    is_active: bool
    is_system: bool


class ProductRef(NamedTuple):
    id: int
    sku: str
    name: str
    price: Decimal | None
    category_id: int | None
    category_code: str | None
    category_name: str | None


class CategoryRef(NamedTuple):
    id: int
    code: str
    name: str


class ClassifierRef(NamedTuple):
    id: int
    code: str
    is_system: bool
    for_tracker: bool


class SessionRow(NamedTuple):
    id: int
    key: str
    visitor_id: str
    customer_id: int | None
    started_at: datetime
    last_event_at: datetime


# The statements of the intake path are built once: building an IN clause or a dialect insert costs
# more than running it on a small batch.
_SOURCES = select(EventSource.id, EventSource.code, EventSource.is_active, EventSource.is_system).where(
    or_(EventSource.is_system.is_(True), EventSource.code.in_(bindparam("codes", expanding=True)))
)
_CUSTOMER_IDS = select(Customer.external_id, Customer.id).where(
    Customer.external_id.in_(bindparam("external_ids", expanding=True))
)
_PLATFORM_IDS = select(Customer.id).where(Customer.id.in_(bindparam("ids", expanding=True)))


@cache
def _insert_skipping(dialect: str, table: Table) -> Any:
    if dialect == "postgresql":
        # psycopg reports no row count for executemany: the inserted rows are counted from RETURNING.
        return (
            postgresql.insert(table)
            .on_conflict_do_nothing(index_elements=["message_id"])
            .returning(table.c.id)
        )
    return sqlite.insert(table).on_conflict_do_nothing(index_elements=["message_id"])


def insert_skipping_duplicates(session: Session, table: Table, rows: Sequence[dict[str, Any]]) -> list[int]:
    """Insert rows in one statement; a row whose message_id is already stored is skipped by the database's
    unique constraint (atomic even between concurrent requests). Returns the ids inserted."""
    if not rows:
        return []
    connection = session.connection()
    dialect = connection.dialect
    if dialect.name == "postgresql":
        return list(session.execute(_insert_skipping(dialect.name, table), list(rows)).scalars())
    # The transaction holds SQLite's write lock and each row takes the highest id + 1 (a skipped one
    # takes none): the rows inserted have the ids that follow the highest before.
    before = int(session.scalar(select(func.max(table.c.id))) or 0)
    # SQLite: one executemany of the driver, each value converted by its column's own bind processor —
    # SQLAlchemy's handling of each row's parameters cost more than the insert itself.
    names = tuple(rows[0])
    statement, converters = _driver_insert(dialect, table, names)
    values = [tuple(convert(row[name]) for name, convert in converters) for row in rows]
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.executemany(statement, values)
        # SQLite's executemany adds up the rows each step inserted; a skipped duplicate adds nothing.
        return list(range(before + 1, before + 1 + int(cursor.rowcount)))
    finally:
        cursor.close()


@lru_cache(maxsize=32)  # one entry per engine and column set: a few in a process
def _driver_insert(
    dialect: Dialect, table: Table, names: tuple[str, ...]
) -> tuple[str, list[tuple[str, Callable[[Any], Any]]]]:
    """The SQL of the skipping insert for these columns, and how each parameter is converted, in order."""
    compiled = _insert_skipping(dialect.name, table).compile(dialect=dialect, column_keys=list(names))
    converters = []
    for name in compiled.positiontup or []:
        processor = table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
        converters.append((name, processor or _unchanged))
    return str(compiled), converters


def _unchanged(value: Any) -> Any:
    return value


def stored_message_ids(session: Session, table: Table, message_ids: Sequence[str]) -> set[str]:
    """Which of these message ids the table already holds."""
    found: set[str] = set()
    for part in chunks(list(set(message_ids))):
        found.update(session.scalars(select(table.c.message_id).where(table.c.message_id.in_(part))))
    return found


def customer_ids(
    session: Session, external_ids: Sequence[str], platform_ids: Sequence[int]
) -> dict[str, int]:
    """'external id' -> id, and '#<platform id>' -> id, for the customers that exist."""
    found: dict[str, int] = {}
    for part in chunks(list(set(external_ids))):
        found.update(
            {row.external_id: row.id for row in session.execute(_CUSTOMER_IDS, {"external_ids": part})}
        )
    for part in chunks(list(set(platform_ids))):
        found.update({f"#{id_}": id_ for id_ in session.scalars(_PLATFORM_IDS, {"ids": part})})
    return found


def _page(session: Session, statement: Any, count: Any, params: PageParams) -> tuple[list[Any], int]:
    total = int(session.scalar(count) or 0)
    rows = list(session.execute(statement.limit(params.size).offset(params.offset)))
    return rows, total


class EventSourceRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def with_codes(self, codes: Sequence[str]) -> dict[str, SourceRef]:
        """The sources of these codes plus the system source (one query)."""
        rows = self.session.execute(_SOURCES, {"codes": list(set(codes))})
        return {row.code: SourceRef(*row) for row in rows}

    def by_write_key(self, write_key: str) -> EventSource | None:
        return self.session.scalar(select(EventSource).where(EventSource.write_key == write_key))


class EventRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def insert(self, rows: Sequence[dict[str, Any]]) -> int:
        return len(insert_skipping_duplicates(self.session, events, rows))

    def insert_new(
        self, batches: Sequence[Sequence[dict[str, Any]]]
    ) -> tuple[list[list[dict[str, Any]]], list[int]]:
        """Insert the rows of every batch in one statement, skipping a message id that is stored already
        or came earlier in the batches; returns the rows of each batch that were stored, and their ids.

        On SQLite the transaction holds the write lock, so the look-up is exact. On PostgreSQL the unique
        index still skips an event that a concurrent request stored in between; it is then counted as
        stored in both answers."""
        given = [row["message_id"] for batch in batches for row in batch if row["message_id"] is not None]
        seen = stored_message_ids(self.session, events, given) if given else set()
        stored: list[list[dict[str, Any]]] = []
        for batch in batches:
            kept: list[dict[str, Any]] = []
            for row in batch:
                message_id = row["message_id"]
                if message_id is None or message_id not in seen:
                    seen.add(message_id)
                    kept.append(row)
            stored.append(kept)
        ids = insert_skipping_duplicates(self.session, events, [row for kept in stored for row in kept])
        return stored, ids

    def for_customer(self, customer_id: int, params: PageParams) -> Page[Any]:
        """A customer's events with their source codes, newest first."""
        statement = (
            select(Event, EventSource.code)
            .outerjoin(EventSource, EventSource.id == Event.source_id)
            .where(Event.customer_id == customer_id)
            .order_by(Event.occurred_at.desc(), Event.id.desc())
        )
        count = select(func.count()).select_from(events).where(events.c.customer_id == customer_id)
        rows, total = _page(self.session, statement, count, params)
        return Page(items=rows, total=total, page=params.page, size=params.size)

    def attach_visitor(self, visitor_id: str, customer_id: int, since: datetime) -> int:
        statement = (
            update(events)
            .where(
                events.c.visitor_id == visitor_id,
                events.c.customer_id.is_(None),
                events.c.occurred_at >= since,
            )
            .values(customer_id=customer_id)
        )
        return int(getattr(self.session.execute(statement), "rowcount", 0))


class WebEventRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def stored_message_ids(self, message_ids: Sequence[str]) -> set[str]:
        return stored_message_ids(self.session, web_events, message_ids)

    def insert(self, rows: Sequence[dict[str, Any]]) -> list[int]:
        """Insert web events (skipping a stored message id); returns the ids inserted."""
        return insert_skipping_duplicates(self.session, web_events, rows)

    def for_customer(self, customer_id: int, params: PageParams) -> Page[WebEvent]:
        statement = (
            select(WebEvent)
            .where(WebEvent.customer_id == customer_id)
            .order_by(WebEvent.occurred_at.desc(), WebEvent.id.desc())
        )
        count = select(func.count()).select_from(web_events).where(web_events.c.customer_id == customer_id)
        total = int(self.session.scalar(count) or 0)
        items = list(self.session.scalars(statement.limit(params.size).offset(params.offset)))
        return Page(items=items, total=total, page=params.page, size=params.size)

    def attach_visitor(self, visitor_id: str, customer_id: int, since: datetime) -> int:
        statement = (
            update(web_events)
            .where(
                web_events.c.visitor_id == visitor_id,
                web_events.c.customer_id.is_(None),
                web_events.c.occurred_at >= since,
            )
            .values(customer_id=customer_id)
        )
        return int(getattr(self.session.execute(statement), "rowcount", 0))

    def classifiers(self) -> list[ClassifierRef]:
        columns = (Classifier.id, Classifier.code, Classifier.is_system, Classifier.for_tracker)
        return [ClassifierRef(*row) for row in self.session.execute(select(*columns))]

    def products(self, classifier_id: int, skus: Sequence[str]) -> dict[str, ProductRef]:
        """Products of one classifier by SKU, with their category, as they are now (for snapshots)."""
        columns = (
            Product.id,
            Product.sku,
            Product.name,
            Product.price,
            Product.category_id,
            Category.code,
            Category.name,
        )
        found: dict[str, ProductRef] = {}
        for part in chunks(list(set(skus))):
            statement = (
                select(*columns)
                .outerjoin(Category, Category.id == Product.category_id)
                .where(Product.classifier_id == classifier_id, Product.sku.in_(part))
            )
            found.update({row.sku: ProductRef(*row) for row in self.session.execute(statement)})
        return found

    def categories(self, classifier_id: int, codes: Sequence[str]) -> dict[str, CategoryRef]:
        found: dict[str, CategoryRef] = {}
        for part in chunks(list(set(codes))):
            statement = select(Category.id, Category.code, Category.name).where(
                Category.classifier_id == classifier_id, Category.code.in_(part)
            )
            found.update({row.code: CategoryRef(*row) for row in self.session.execute(statement)})
        return found


class SessionRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    _columns = (
        web_sessions.c.id,
        web_sessions.c.key,
        web_sessions.c.visitor_id,
        web_sessions.c.customer_id,
        web_sessions.c.started_at,
        web_sessions.c.last_event_at,
    )

    def by_keys(self, keys: Sequence[str]) -> list[SessionRow]:
        found: list[SessionRow] = []
        for part in chunks(list(set(keys))):
            statement = select(*self._columns).where(web_sessions.c.key.in_(part))
            found.extend(SessionRow(*row) for row in self.session.execute(statement))
        return found

    def latest_of_visitors(self, visitor_ids: Sequence[str]) -> list[SessionRow]:
        """Each visitor's most recent session."""
        return self._latest(web_sessions.c.visitor_id, visitor_ids)

    def latest_of_customers(self, customer_ids: Sequence[int]) -> list[SessionRow]:
        """Each customer's most recent session (for events sent without a visitor)."""
        return self._latest(web_sessions.c.customer_id, customer_ids)

    def _latest(self, column: Any, values: Sequence[Any]) -> list[SessionRow]:
        found: list[SessionRow] = []
        for part in chunks(list(set(values))):
            newest = select(func.max(web_sessions.c.id)).where(column.in_(part)).group_by(column)
            statement = select(*self._columns).where(web_sessions.c.id.in_(newest))
            found.extend(SessionRow(*row) for row in self.session.execute(statement))
        return found

    def insert(self, rows: Sequence[dict[str, Any]]) -> list[int]:
        if not rows:
            return []
        statement = insert(web_sessions).returning(web_sessions.c.id, sort_by_parameter_order=True)
        return [row[0] for row in self.session.execute(statement, list(rows))]

    def advance(self, rows: Sequence[dict[str, Any]]) -> None:
        """Count new events into existing sessions: rows of {s_id, s_count, s_last, s_customer}."""
        if not rows:
            return
        last = bindparam("s_last", type_=web_sessions.c.last_event_at.type)
        statement = (
            update(web_sessions)
            .where(web_sessions.c.id == bindparam("s_id"))
            .values(
                event_count=web_sessions.c.event_count + bindparam("s_count"),
                last_event_at=case(
                    (web_sessions.c.last_event_at < last, last), else_=web_sessions.c.last_event_at
                ),
                customer_id=func.coalesce(web_sessions.c.customer_id, bindparam("s_customer")),
            )
        )
        self.session.execute(statement, list(rows))

    def for_customer(self, customer_id: int, params: PageParams) -> Page[WebSession]:
        statement = (
            select(WebSession)
            .where(WebSession.customer_id == customer_id)
            .order_by(WebSession.started_at.desc(), WebSession.id.desc())
        )
        count = (
            select(func.count()).select_from(web_sessions).where(web_sessions.c.customer_id == customer_id)
        )
        total = int(self.session.scalar(count) or 0)
        items = list(self.session.scalars(statement.limit(params.size).offset(params.offset)))
        return Page(items=items, total=total, page=params.page, size=params.size)

    def attach_visitor(self, visitor_id: str, customer_id: int, since: datetime) -> int:
        statement = (
            update(web_sessions)
            .where(
                web_sessions.c.visitor_id == visitor_id,
                web_sessions.c.customer_id.is_(None),
                web_sessions.c.last_event_at >= since,
            )
            .values(customer_id=customer_id)
        )
        return int(getattr(self.session.execute(statement), "rowcount", 0))


class VisitorRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def customers_of(self, visitor_ids: Sequence[str]) -> dict[str, int | None]:
        """Known visitors and the customer each identified as (None while anonymous)."""
        found: dict[str, int | None] = {}
        for part in chunks(list(set(visitor_ids))):
            statement = select(visitors.c.id, visitors.c.customer_id).where(visitors.c.id.in_(part))
            found.update(self.session.execute(statement).all())
        return found

    def add(self, rows: Sequence[dict[str, Any]]) -> None:
        """New visitors; one created meanwhile by a concurrent request is kept as it is."""
        if not rows:
            return
        dialect = self.session.get_bind().dialect.name
        builder = postgresql.insert if dialect == "postgresql" else sqlite.insert
        self.session.execute(builder(visitors).on_conflict_do_nothing(index_elements=["id"]), list(rows))

    def seen(self, rows: Sequence[dict[str, Any]]) -> None:
        """Move last_seen_at forward: rows of {v_id, v_seen}."""
        if not rows:
            return
        seen = bindparam("v_seen", type_=visitors.c.last_seen_at.type)
        statement = (
            update(visitors)
            .where(and_(visitors.c.id == bindparam("v_id"), visitors.c.last_seen_at < seen))
            .values(last_seen_at=seen)
        )
        self.session.execute(statement, list(rows))

    def identify(self, visitor_id: str, customer_id: int, at: datetime) -> None:
        statement = (
            update(visitors)
            .where(visitors.c.id == visitor_id)
            .values(customer_id=customer_id, identified_at=at)
        )
        self.session.execute(statement)
