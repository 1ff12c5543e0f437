"""Every SQL statement of the global control group."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import Integer, Table, func, insert, literal, select, update

from smartcomm.control_groups.draws import Share, draw_key_sql, stratum_sql
from smartcomm.kit.bulk import chunked
from smartcomm.kit.models import UTCDateTime
from smartcomm.kit.repository import Repository
from smartcomm.models import Customer, GlobalControlDraw, GlobalControlMember

MEMBERS: Table = GlobalControlMember.__table__  # type: ignore[assignment]


class GlobalControlRepository(Repository[GlobalControlDraw]):
    model = GlobalControlDraw

    def base_size(self) -> int:
        return int(self.session.scalar(select(func.count()).select_from(Customer)) or 0)

    def current(self) -> GlobalControlDraw | None:
        """The draw whose members are in the group now (None when the group is dissolved)."""
        statement = (
            select(GlobalControlDraw)
            .join(GlobalControlMember, GlobalControlMember.draw_id == GlobalControlDraw.id)
            .where(GlobalControlMember.left_at.is_(None))
            .limit(1)
        )
        return self.session.scalar(statement)

    def latest(self) -> GlobalControlDraw | None:
        return self.session.scalar(select(GlobalControlDraw).order_by(GlobalControlDraw.id.desc()).limit(1))

    def members_now(self) -> int:
        statement = select(func.count()).where(GlobalControlMember.left_at.is_(None))
        return int(self.session.scalar(statement) or 0)

    def close_open(self, now: datetime) -> int:
        """Every open stay ends now; returns how many."""
        statement = (
            update(GlobalControlMember)
            .where(GlobalControlMember.left_at.is_(None))
            .values(left_at=now)
            .execution_options(synchronize_session=False)
        )
        return rowcount(self.session.execute(statement))

    def insert_drawn(self, draw: GlobalControlDraw, share: Share, strata: Sequence[str], today: date) -> int:
        """Open the stays of the draw's customers: in each stratum, its share with the smallest keys (one
        INSERT … SELECT); returns how many."""
        assert draw.seed is not None
        partition = [stratum_sql(name, today) for name in strata] or None
        key = draw_key_sql(draw.seed, Customer.id)
        ranked = select(
            Customer.id.label("customer_id"),
            func.row_number().over(partition_by=partition, order_by=(key, Customer.id)).label("place"),
            func.count().over(partition_by=partition).label("stratum_size"),
        ).subquery()
        take = (2 * ranked.c.stratum_size * share.numerator + share.denominator) // (2 * share.denominator)
        chosen = select(
            literal(draw.id, Integer), ranked.c.customer_id, literal(draw.drawn_at, UTCDateTime())
        ).where(ranked.c.place <= take)
        self.session.execute(insert(MEMBERS).from_select(["draw_id", "customer_id", "entered_at"], chosen))
        return self.size_of(draw.id)

    def size_of(self, draw_id: int) -> int:
        statement = select(func.count()).where(GlobalControlMember.draw_id == draw_id)
        return int(self.session.scalar(statement) or 0)

    def insert_members(self, draw: GlobalControlDraw, customer_ids: Sequence[int]) -> None:
        rows = [{"draw_id": draw.id, "customer_id": c, "entered_at": draw.drawn_at} for c in customer_ids]
        for part in chunked(rows, 5_000):
            self.session.execute(insert(MEMBERS), list(part))

    def customers_by_external_id(self, external_ids: Sequence[str]) -> dict[str, int]:
        found: dict[str, int] = {}
        for part in chunked(list(external_ids)):
            statement = select(Customer.external_id, Customer.id).where(Customer.external_id.in_(part))
            found.update(
                (external_id, customer_id) for external_id, customer_id in self.session.execute(statement)
            )
        return found

    def stays(self, customer_id: int) -> list[GlobalControlMember]:
        statement = (
            select(GlobalControlMember)
            .where(GlobalControlMember.customer_id == customer_id)
            .order_by(GlobalControlMember.entered_at.desc(), GlobalControlMember.id.desc())
        )
        return list(self.session.scalars(statement))

    def draws(self, limit: int = 20) -> list[GlobalControlDraw]:
        statement = select(GlobalControlDraw).order_by(GlobalControlDraw.id.desc()).limit(limit)
        return list(self.session.scalars(statement))

    def members_of(self, draw_id: int) -> list[int]:
        statement = (
            select(GlobalControlMember.customer_id)
            .where(GlobalControlMember.draw_id == draw_id)
            .order_by(GlobalControlMember.customer_id)
        )
        return list(self.session.scalars(statement))


def rowcount(result: Any) -> int:
    return int(getattr(result, "rowcount", 0) or 0)
