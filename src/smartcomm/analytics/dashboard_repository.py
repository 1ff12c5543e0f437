"""SQL of the Summary dashboard: every block is a few set-based statements over receipts, attributed
receipts and the RFM calculations, identical on SQLite and PostgreSQL. It reads other areas' tables and
writes only its own snapshot table.

Time buckets (calendar months in the project time zone, months since a last purchase) are computed in
Python as UTC instants and handed to the database as a CASE over bound values: both databases compare
stored UTC times, and neither needs time zone functions of its own. Grouping happens on a subquery's
bucket column, because PostgreSQL does not see two renderings of one CASE with bound values as the same
expression in SELECT and GROUP BY.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, and_, case, delete, func, literal, select, type_coerce
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import UnaryExpression
from sqlalchemy.sql.operators import custom_op

from smartcomm.kit.models import Money
from smartcomm.models import AttributedReceipt, Customer, DashboardSnapshot, Receipt, RfmCalculation
from smartcomm.models.receipts import PURCHASE_STATUSES


@dataclass(frozen=True)
class Spend:
    """Customers (or receipts) and the money they stand for."""

    count: int
    amount: Decimal


@dataclass(frozen=True)
class MonthlyBuyers:
    month: int
    buyers: int
    repeat: int


@dataclass(frozen=True)
class ChannelSales:
    month: int
    channel: str | None  # None: regular sales (no communication gets the credit)
    receipts: int
    amount: Decimal


@dataclass(frozen=True)
class RfmPoint:
    month: int
    at: datetime
    best: int
    lost: int


def index_of(column: Any, bounds: Sequence[datetime]) -> ColumnElement[int]:
    """The number of `bounds` (ascending UTC instants) the column has reached: 0 before the first."""
    if not bounds:
        return literal(0)
    whens = [(column < bound, index) for index, bound in enumerate(bounds)]
    return case(*whens, else_=len(bounds))


def _money(column: Any) -> Any:
    return type_coerce(func.coalesce(func.sum(column), 0), Money)


class DashboardRepository:
    def __init__(self, session: Session) -> None:
        self.session = session
        self.sqlite = session.get_bind().dialect.name == "sqlite"

    def _purchase_time(self) -> ColumnElement[datetime]:
        """The receipts' purchase time for period conditions. The statements group receipts by customer:
        SQLite reads them fastest from the covering index (customer, purchase time, status, total) in
        customer order, but its planner takes the index on purchase time for a period, then looks each
        receipt up and sorts (several times slower); a unary "+" rules that index out (as the RFM
        aggregate does, see rfm.repository)."""
        column = Receipt.__table__.c.purchased_at
        return UnaryExpression(column, operator=custom_op("+"), type_=column.type) if self.sqlite else column

    # --- reads of the blocks -------------------------------------------------------------------------

    def customers(self) -> int:
        return self.session.scalar(select(func.count()).select_from(Customer)) or 0

    def last_purchase_buckets(self, end: datetime, lowers: Sequence[datetime]) -> dict[int, int]:
        """Customers by the bucket of their last purchase before `end`: bucket k when it is at or after
        `lowers[k]` (descending instants) and not in an earlier bucket; len(lowers) when older."""
        last = (
            select(func.max(Receipt.purchased_at).label("last"))
            .where(Receipt.status.in_(PURCHASE_STATUSES), self._purchase_time() < end)
            .group_by(Receipt.customer_id)
            .subquery()
        )
        whens = [(last.c.last >= lower, index) for index, lower in enumerate(lowers)]
        bucketed = select(case(*whens, else_=len(lowers)).label("bucket")).subquery()
        rows = self.session.execute(select(bucketed.c.bucket, func.count()).group_by(bucketed.c.bucket))
        return {int(bucket): int(count) for bucket, count in rows}

    def returning_and_one_time(self, start: datetime, end: datetime) -> dict[bool, Spend]:
        """Buyers of the period split by "two receipts or more" (True) and their revenue."""
        per_customer = (
            select(func.count().label("receipts"), func.sum(Receipt.total).label("amount"))
            .where(*self._paid_within(start, end))
            .group_by(Receipt.customer_id)
            .subquery()
        )
        returning = case((per_customer.c.receipts >= 2, 1), else_=0).label("repeat_buyer")
        split = select(returning, per_customer.c.amount).subquery()
        rows = self.session.execute(
            select(split.c.repeat_buyer, func.count(), _money(split.c.amount)).group_by(split.c.repeat_buyer)
        )
        return {bool(flag): Spend(int(count), amount) for flag, count, amount in rows}

    def repeat_buyers(self, months: Sequence[datetime], end: datetime) -> list[MonthlyBuyers]:
        """Per month: its buyers, and those of them with two receipts or more from the period's start to
        the month's end (a running count per customer over the months, by a window function)."""
        month = index_of(Receipt.purchased_at, months[1:]).label("month")
        monthly = (
            select(Receipt.customer_id, month, func.count().label("receipts"))
            .where(*self._paid_within(months[0], end))
            .group_by(Receipt.customer_id, month)
            .subquery()
        )
        so_far = func.sum(monthly.c.receipts).over(
            partition_by=monthly.c.customer_id, order_by=monthly.c.month
        )
        running = select(monthly.c.month, so_far.label("so_far")).subquery()
        repeat = func.sum(case((running.c.so_far >= 2, 1), else_=0))
        rows = self.session.execute(
            select(running.c.month, func.count(), repeat).group_by(running.c.month).order_by(running.c.month)
        )
        return [MonthlyBuyers(int(m), int(buyers), int(rep or 0)) for m, buyers, rep in rows]

    def sales_by_channel(self, months: Sequence[datetime], end: datetime) -> list[ChannelSales]:
        """Per month and channel of the credited touch, receipts and amount; channel None: regular sales.

        Only a credited row makes a receipt assisted (one per receipt: the last qualifying touch)."""
        receipts = (
            select(
                Receipt.id,
                Receipt.total,
                index_of(Receipt.purchased_at, months[1:]).label("month"),
            )
            .where(*self._paid_within(months[0], end))
            .subquery()
        )
        credited = and_(AttributedReceipt.receipt_id == receipts.c.id, AttributedReceipt.credited.is_(True))
        joined = (
            select(receipts.c.month, AttributedReceipt.channel, receipts.c.total)
            .select_from(receipts)
            .outerjoin(AttributedReceipt, credited)
            .subquery()
        )
        rows = self.session.execute(
            select(joined.c.month, joined.c.channel, func.count(), _money(joined.c.total)).group_by(
                joined.c.month, joined.c.channel
            )
        )
        return [ChannelSales(int(m), channel, int(count), amount) for m, channel, count, amount in rows]

    def rfm_points(self, months: Sequence[datetime], end: datetime) -> list[RfmPoint]:
        """Each month's last finished RFM calculation: its Best and Lost counts."""
        month = index_of(RfmCalculation.started_at, months[1:]).label("month")
        done = and_(
            RfmCalculation.status == "done",
            RfmCalculation.started_at >= months[0],
            RfmCalculation.started_at < end,
        )
        last_ids = select(RfmCalculation.id, month).where(done).subquery()
        latest = select(func.max(last_ids.c.id)).group_by(last_ids.c.month)
        rows = self.session.execute(
            select(RfmCalculation.started_at, RfmCalculation.best, RfmCalculation.lost)
            .where(RfmCalculation.id.in_(latest))
            .order_by(RfmCalculation.started_at)
        )
        return [RfmPoint(self._month_of(at, months), at, best, lost) for at, best, lost in rows]

    # --- the snapshot --------------------------------------------------------------------------------

    def snapshot(self, period_key: str) -> DashboardSnapshot | None:
        return self.session.scalar(
            select(DashboardSnapshot).where(DashboardSnapshot.period_key == period_key)
        )

    def replace_snapshot(self, snapshot: DashboardSnapshot) -> DashboardSnapshot:
        """Store the period's new figures in place of the old ones, in the caller's transaction."""
        self.session.execute(
            delete(DashboardSnapshot).where(DashboardSnapshot.period_key == snapshot.period_key)
        )
        self.session.add(snapshot)
        self.session.flush()
        return snapshot

    def custom_keys(self, prefix: str) -> list[str]:
        """Keys of the stored periods that are not "last N months" (picked by a user)."""
        query = select(DashboardSnapshot.period_key).where(
            DashboardSnapshot.period_key.not_like(f"{prefix}%")
        )
        return list(self.session.scalars(query))

    # --- helpers -------------------------------------------------------------------------------------

    def _paid_within(self, start: datetime, end: datetime) -> tuple[ColumnElement[bool], ...]:
        purchased_at = self._purchase_time()
        return (Receipt.status.in_(PURCHASE_STATUSES), purchased_at >= start, purchased_at < end)

    @staticmethod
    def _month_of(moment: datetime, months: Sequence[datetime]) -> int:
        return sum(1 for bound in months[1:] if moment >= bound)
