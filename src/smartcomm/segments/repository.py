"""SQL of segments, their builds and memberships."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import func, select, type_coerce

from smartcomm.kit.models import Money
from smartcomm.kit.pagination import Page, PageParams
from smartcomm.kit.repository import Repository
from smartcomm.models import Customer, Segment, SegmentBuild, SegmentMembership


def _amount_sum() -> Any:
    """Sum of customers' purchase amounts as exact money (0 when there is nobody)."""
    return type_coerce(func.coalesce(func.sum(Customer.total_amount), 0), Money)


class SegmentRepository(Repository[Segment]):
    model = Segment

    def search(self, params: PageParams, query: str = "") -> Page[Segment]:
        statement = select(Segment).order_by(Segment.name, Segment.id)
        if query:
            statement = statement.where(func.lower(Segment.name).contains(query.lower(), autoescape=True))
        return self.paginate(statement, params)

    def all(self) -> list[Segment]:
        return list(self.session.scalars(select(Segment).order_by(Segment.id)))

    def lock(self, segment_id: int) -> Segment | None:
        """The segment row, locked for this transaction on PostgreSQL (SQLite already serialises writers)."""
        return self.session.scalar(select(Segment).where(Segment.id == segment_id).with_for_update())

    def builds(self, segment_id: int, limit: int = 20) -> list[SegmentBuild]:
        statement = (
            select(SegmentBuild)
            .where(SegmentBuild.segment_id == segment_id)
            .order_by(SegmentBuild.started_at.desc(), SegmentBuild.id.desc())
            .limit(limit)
        )
        return list(self.session.scalars(statement))

    def members(self, segment_id: int, params: PageParams) -> Page[Customer]:
        statement = (
            select(Customer)
            .join(SegmentMembership, SegmentMembership.customer_id == Customer.id)
            .where(SegmentMembership.segment_id == segment_id, SegmentMembership.exited_at.is_(None))
            .order_by(Customer.last_name, Customer.first_name, Customer.id)
        )
        return self.paginate(statement, params)

    def member_totals(self, segment_id: int) -> tuple[int, Decimal, int]:
        """Members, their purchase amount and their receipts."""
        statement = (
            select(func.count(), _amount_sum(), func.sum(Customer.receipt_count))
            .select_from(SegmentMembership)
            .join(Customer, Customer.id == SegmentMembership.customer_id)
            .where(SegmentMembership.segment_id == segment_id, SegmentMembership.exited_at.is_(None))
        )
        count, amount, receipts = self.session.execute(statement).one()
        return int(count), Decimal(amount), int(receipts or 0)

    def base_totals(self) -> tuple[int, Decimal]:
        """All customers and everyone's purchase amount."""
        count, amount = self.session.execute(select(func.count(), _amount_sum()).select_from(Customer)).one()
        return int(count), Decimal(amount)

    def is_member(self, segment_id: int, customer_id: int) -> bool:
        statement = select(SegmentMembership.id).where(
            SegmentMembership.segment_id == segment_id,
            SegmentMembership.customer_id == customer_id,
            SegmentMembership.exited_at.is_(None),
        )
        return self.session.scalar(statement) is not None

    def segments_of_customer(self, customer_id: int) -> list[tuple[Segment, SegmentMembership]]:
        statement = (
            select(Segment, SegmentMembership)
            .join(SegmentMembership, SegmentMembership.segment_id == Segment.id)
            .where(SegmentMembership.customer_id == customer_id, SegmentMembership.exited_at.is_(None))
            .order_by(Segment.name)
        )
        return [(row[0], row[1]) for row in self.session.execute(statement)]
