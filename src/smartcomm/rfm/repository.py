"""SQL of the RFM analysis: the set-based scoring, the cell summary, per-customer values and the reads."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    ColumnElement,
    Integer,
    MetaData,
    Select,
    Table,
    bindparam,
    case,
    cast,
    delete,
    extract,
    func,
    insert,
    literal,
    select,
    text,
    update,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import UnaryExpression
from sqlalchemy.sql.operators import custom_op

from smartcomm.customers.repository import chunks
from smartcomm.kit.db import postgres_settings
from smartcomm.kit.leases import INTERRUPTED, Claim
from smartcomm.kit.models import BigId
from smartcomm.kit.pagination import Page, PageParams
from smartcomm.models import Customer, CustomerRfm, Receipt, RfmCalculation, SegmentMembership
from smartcomm.models.receipts import PURCHASE_STATUSES
from smartcomm.rfm.scoring import SECONDS_PER_DAY

# The aggregate reads the index (customer_id, purchased_at, status, total) alone, in customer order. Left
# to itself SQLite's planner takes the index on purchase time for the period condition, then looks every
# receipt up in the table and sorts for the GROUP BY (6× slower on a million receipts); a unary "+" on the
# column rules that index out (SQLite's documented way; SQLAlchemy renders no INDEXED BY).
COVERING_INDEX = "ix_receipts_customer_purchased"


# Each customer's values of the period while a calculation runs (one per connection, dropped at the end).
TOTALS = Table(
    "rfm_totals",
    MetaData(),
    Column("customer_id", BigId, primary_key=True, autoincrement=False),
    Column("recency_days", Integer, nullable=False),
    Column("frequency", Integer, nullable=False),
    Column("monetary", BigInteger, nullable=False),  # minor units, as receipts store them
    prefixes=["TEMPORARY"],
)
VALUE_COLUMNS = {"r": "recency_days", "f": "frequency", "m": "monetary"}
READ_TOTALS = "SELECT recency_days, frequency, monetary FROM rfm_totals"
# PostgreSQL settings that leave it the index-only scan grouped in index order (see collect_totals).
INDEX_PLAN = {"enable_seqscan": "off", "enable_hashagg": "off", "max_parallel_workers_per_gather": "0"}
# The aggregate statements by (dialect, for some customers, within a base segment).
_BUILT: dict[tuple[str, bool, bool], Select[int, int, int, Decimal]] = {}


@dataclass(frozen=True)
class Window:
    """The purchases that count: paid receipts from `since` up to `now`, of the base segment's members."""

    since: datetime
    now: datetime
    base_segment_id: int | None


@dataclass(frozen=True)
class Reference:
    """The calculation a single customer is scored against."""

    id: int
    period_days: int
    base_segment_id: int | None
    thresholds: dict[str, Any]


@dataclass(frozen=True)
class CustomerValues:
    customer_id: int
    recency_days: int
    frequency: int
    monetary: Decimal


# A customer's scores with the calculation they belong to.
CustomerScores = tuple[CustomerRfm, RfmCalculation]


@dataclass(frozen=True)
class CellMember:
    customer: Customer
    scores: CustomerRfm


class RfmRepository:
    def __init__(self, session: Session) -> None:
        self.session = session
        self.dialect = session.get_bind().dialect.name
        self.postgres = self.dialect == "postgresql"

    # --- calculations ---------------------------------------------------------------------------------

    def get(self, calculation_id: int) -> RfmCalculation | None:
        return self.session.get(RfmCalculation, calculation_id)

    def add(self, calculation: RfmCalculation) -> RfmCalculation:
        self.session.add(calculation)
        self.session.flush()
        return calculation

    def claim(self, calculation_id: int, owner: str, started_at: datetime) -> bool:
        """Move a queued calculation to running, run by `owner`; False when another worker took it or it
        is over."""
        statement = (
            update(RfmCalculation)
            .where(RfmCalculation.id == calculation_id, RfmCalculation.status == "queued")
            .values(status="running", started_at=started_at, lease_owner=owner, lease_heartbeat_at=started_at)
        )
        return _changed(self.session.execute(statement))

    def renew(self, calculation_id: int, owner: str | None, now: datetime, **values: Any) -> bool:
        """Renew the lease of a calculation `owner` still runs (None: one run in a single transaction,
        which names no owner), writing `values` with it; False when it no longer does (it was found
        interrupted), and then nothing is written. On PostgreSQL the row stays locked until commit."""
        statement = (
            update(RfmCalculation)
            .where(
                RfmCalculation.id == calculation_id,
                RfmCalculation.status.in_(("queued", "running")),
                RfmCalculation.lease_owner.is_not_distinct_from(owner),
            )
            .values(lease_heartbeat_at=now, **values)
            .execution_options(synchronize_session=False)
        )
        return _changed(self.session.execute(statement))

    def claims(self) -> list[Claim]:
        """The running calculations, with their owners and heartbeats."""
        statement = select(
            RfmCalculation.id, RfmCalculation.lease_owner, RfmCalculation.lease_heartbeat_at
        ).where(RfmCalculation.status == "running")
        return [Claim(*row) for row in self.session.execute(statement)]

    def interrupt(self, claim: Claim, now: datetime) -> bool:
        """Mark failed ("interrupted") a calculation whose process is gone, unless it moved on meanwhile."""
        statement = (
            update(RfmCalculation)
            .where(
                RfmCalculation.id == claim.id,
                RfmCalculation.status == "running",
                RfmCalculation.lease_owner.is_not_distinct_from(claim.owner),
                RfmCalculation.lease_heartbeat_at.is_not_distinct_from(claim.heartbeat_at),
            )
            .values(status="failed", error=INTERRUPTED, finished_at=now)
        )
        return _changed(self.session.execute(statement))

    def latest(self, *statuses: str) -> RfmCalculation | None:
        """The most recently started calculation, of these statuses when given."""
        return self.session.scalar(_newest_first(statuses).limit(1))

    def latest_reference(self) -> Reference | None:
        """What rescoring needs of the latest successful calculation, without its cell counts."""
        c = RfmCalculation
        statement = _newest_first(("done",)).with_only_columns(
            c.id, c.period_days, c.base_segment_id, c.thresholds
        )
        found = self.session.execute(statement.limit(1)).first()
        return None if found is None else Reference(*found)

    def history(self, limit: int, *statuses: str) -> list[RfmCalculation]:
        """Calculations, latest first."""
        return list(self.session.scalars(_newest_first(statuses).limit(limit)))

    def page(self, params: PageParams) -> Page[RfmCalculation]:
        total = int(self.session.scalar(select(func.count()).select_from(RfmCalculation)) or 0)
        statement = _newest_first(()).limit(params.size).offset(params.offset)
        return Page(list(self.session.scalars(statement)), total, params.page, params.size)

    # --- the full calculation -------------------------------------------------------------------------

    def prepare_bulk_work(self) -> None:
        """Give this transaction's sorts enough memory (PostgreSQL)."""
        if self.postgres:
            # The default 4 MB spills the sorts of a million customers to disk.
            self.session.execute(text("SET LOCAL work_mem = '256MB'"))

    def clear_scores(self) -> None:
        self.session.execute(delete(CustomerRfm))

    def collect_totals(self, window: Window) -> None:
        """Aggregate the window's purchases per customer into a temporary table."""
        TOTALS.create(self.session.connection())
        columns = [c.name for c in TOTALS.columns]
        # PostgreSQL's planner prefers a parallel scan of the table with a hash of every customer, which
        # took 5.1 s on 10 M receipts against 2.1 s for the index-only scan grouped in index order (the
        # table's visibility map is kept by autovacuum, receipts being insert-mostly).
        with postgres_settings(self.session, INDEX_PLAN):
            totals, parameters = self._totals(window)
            self.session.execute(insert(TOTALS).from_select(columns, totals), parameters)

    def totals(self) -> dict[str, list[int]]:
        """Every scored customer's R, F and M values (M in minor units), one list per letter, in the same
        customer order (the order the rows come in is the same for all three). Sorting and scoring them in
        memory costs a fraction of what either database takes: SQLite would index each column (together
        almost as long as the aggregate itself), PostgreSQL run a window function per letter, and both
        sort every row again to count the cells."""
        # Through the driver's own cursor: SQLAlchemy's result rows cost more than the read itself here.
        cursor = self.session.connection().connection.cursor()
        try:
            cursor.execute(READ_TOTALS)
            rows = cursor.fetchall()
        finally:
            cursor.close()
        return {letter: [int(row[i]) for row in rows] for i, letter in enumerate(VALUE_COLUMNS)}

    def write_scores(self, calculation_id: int, cutoffs: dict[str, list[int]], now: datetime) -> None:
        """Score the whole population with one INSERT … SELECT: 1 + the cutoffs each value beats."""
        scores = [_score(TOTALS.c[VALUE_COLUMNS[letter]], letter == "r", cutoffs[letter]) for letter in "rfm"]
        scored = select(
            TOTALS.c.customer_id,
            literal(calculation_id),
            *scores,
            TOTALS.c.recency_days,
            TOTALS.c.frequency,
            TOTALS.c.monetary,
            literal(now, CustomerRfm.updated_at.type),
        )
        columns = ["customer_id", "calculation_id", "r", "f", "m", "recency_days", "frequency", "monetary"]
        self.session.execute(insert(CustomerRfm).from_select([*columns, "updated_at"], scored))

    def drop_totals(self) -> None:
        TOTALS.drop(self.session.connection())

    # --- single customers -----------------------------------------------------------------------------

    def customer_values(self, customer_ids: Sequence[int], window: Window) -> list[CustomerValues]:
        """The R, F and M values of these customers (those without purchases in the window are absent)."""
        found: list[CustomerValues] = []
        for part in chunks(list(customer_ids)):
            totals, parameters = self._totals(window, part)
            found.extend(CustomerValues(*row) for row in self.session.execute(totals, parameters))
        return found

    def replace_scores(self, customer_ids: Sequence[int], rows: Sequence[dict[str, Any]]) -> None:
        """Drop these customers' scores and store the new ones (customers not in `rows` stay unscored)."""
        table = CustomerRfm.__table__
        assert isinstance(table, Table)
        for part in chunks(list(customer_ids)):
            self.session.execute(delete(table).where(table.c.customer_id.in_(part)))
        if rows:
            self.session.execute(insert(table), list(rows))

    def scores_of(self, customer_id: int) -> CustomerScores | None:
        statement = (
            select(CustomerRfm, RfmCalculation)
            .join(RfmCalculation, RfmCalculation.id == CustomerRfm.calculation_id)
            .where(CustomerRfm.customer_id == customer_id)
        )
        found = self.session.execute(statement).first()
        return None if found is None else (found[0], found[1])

    def cell_members(self, cell: dict[str, int], params: PageParams) -> Page[CellMember]:
        """The customers of a cell (two or three letters fixed), biggest spenders first."""
        conditions = [getattr(CustomerRfm, letter) == score for letter, score in cell.items()]
        members = select(Customer, CustomerRfm).join(CustomerRfm, CustomerRfm.customer_id == Customer.id)
        members = members.where(*conditions)
        total = int(self.session.scalar(select(func.count()).select_from(members.subquery())) or 0)
        page = (
            members.order_by(CustomerRfm.monetary.desc(), CustomerRfm.customer_id)
            .limit(params.size)
            .offset(params.offset)
        )
        items = [CellMember(customer, scores) for customer, scores in self.session.execute(page)]
        return Page(items, total, params.page, params.size)

    # --- helpers --------------------------------------------------------------------------------------

    def _totals(
        self, window: Window, customer_ids: Sequence[int] | None = None
    ) -> tuple[Select[int, int, int, Decimal], dict[str, Any]]:
        """Per customer: whole days since the last purchase, receipts and their sum, in the window; the
        statement with the parameters to execute it with."""
        key = (self.dialect, customer_ids is not None, window.base_segment_id is not None)
        if key not in _BUILT:  # built once per shape: a receipt's rescore should not pay for it again
            _BUILT[key] = self._build_totals(*key[1:])
        # Given at execution rather than through .params(), which copies the whole statement each time.
        parameters: dict[str, Any] = {
            "now_epoch": int(window.now.timestamp()),
            "since": window.since,
            "now": window.now,
        }
        if window.base_segment_id is not None:
            parameters["segment_id"] = window.base_segment_id
        if customer_ids is not None:
            parameters["customer_ids"] = list(customer_ids)
        return _BUILT[key], parameters

    def _build_totals(self, for_customers: bool, in_segment: bool) -> Select[int, int, int, Decimal]:
        instant = Receipt.purchased_at.type
        purchased_at = self._purchase_time()
        last_purchase = self._epoch(func.max(Receipt.purchased_at))
        statement = (
            select(
                Receipt.customer_id.label("customer_id"),
                ((bindparam("now_epoch", type_=BigInteger) - last_purchase) // SECONDS_PER_DAY).label(
                    "recency_days"
                ),
                func.count().label("frequency"),
                func.sum(Receipt.total).label("monetary"),
            )
            .where(
                Receipt.status.in_(PURCHASE_STATUSES),
                purchased_at >= bindparam("since", type_=instant),
                purchased_at <= bindparam("now", type_=instant),
            )
            .group_by(Receipt.customer_id)
        )
        if for_customers:
            statement = statement.where(Receipt.customer_id.in_(bindparam("customer_ids", expanding=True)))
        if in_segment:
            members = select(SegmentMembership.customer_id).where(
                SegmentMembership.segment_id == bindparam("segment_id"), SegmentMembership.exited_at.is_(None)
            )
            statement = statement.where(Receipt.customer_id.in_(members))
        return statement

    def _purchase_time(self) -> ColumnElement[datetime]:
        column = Receipt.__table__.c.purchased_at
        if self.dialect != "sqlite":
            return column
        return UnaryExpression(column, operator=custom_op("+"), type_=column.type)

    def _epoch(self, instant: ColumnElement[datetime]) -> ColumnElement[int]:
        """Whole seconds since 1970 of a stored UTC instant."""
        if self.dialect == "sqlite":
            return func.unixepoch(instant, type_=BigInteger)
        return cast(func.floor(extract("epoch", instant)), BigInteger)


def _changed(result: Any) -> bool:
    return bool(getattr(result, "rowcount", 0))


def _newest_first(statuses: Sequence[str]) -> Select[RfmCalculation]:
    statement = select(RfmCalculation).order_by(RfmCalculation.started_at.desc(), RfmCalculation.id.desc())
    return statement.where(RfmCalculation.status.in_(statuses)) if statuses else statement


def _score(value: ColumnElement[int], lower_is_better: bool, cutoffs: Sequence[int]) -> ColumnElement[int]:
    """1 + the number of cutoffs strictly worse than the value (see `scoring.cutoff_positions`)."""
    beaten = [case((value < cut if lower_is_better else value > cut, 1), else_=0) for cut in cutoffs]
    return sum(beaten, literal(1))
