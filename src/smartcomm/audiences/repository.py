"""SQL of target audiences, their members and their imports.

Membership changes are set-based: one INSERT … SELECT or one DELETE per change (or per chunk of ids),
never a statement per customer.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, delete, exists, func, insert, literal, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import InstrumentedAttribute

from smartcomm.audiences.schemas import MemberRow
from smartcomm.customers.repository import CustomerRepository, chunks
from smartcomm.kit.leases import INTERRUPTED, Claim
from smartcomm.kit.models import UTCDateTime
from smartcomm.kit.pagination import Page, PageParams
from smartcomm.kit.repository import Repository
from smartcomm.models import Audience, AudienceImport, AudienceMember, Customer, Segment, SegmentMembership


def current_members_of_segment(segment_id: int) -> Select[int]:
    return select(SegmentMembership.customer_id).where(
        SegmentMembership.segment_id == segment_id, SegmentMembership.exited_at.is_(None)
    )


class AudienceRepository(Repository[Audience]):
    model = Audience

    def search(self, params: PageParams, query: str = "") -> Page[Audience]:
        statement = select(Audience).order_by(Audience.name, Audience.id)
        if query:
            statement = statement.where(func.lower(Audience.name).contains(query.lower(), autoescape=True))
        return self.paginate(statement, params)

    def names(self) -> list[tuple[int, str]]:
        """(id, name) of every audience: few enough to compare names in Python, case-insensitively."""
        return [(row[0], row[1]) for row in self.session.execute(select(Audience.id, Audience.name))]

    def all_segments(self) -> list[Segment]:
        return list(self.session.scalars(select(Segment).order_by(Segment.name, Segment.id)))

    # --- members ------------------------------------------------------------------------------------

    def members(
        self, audience_id: int, params: PageParams, query: str = "", default_country: str = "RU"
    ) -> Page[MemberRow]:
        """Members by name; `query` finds them by name, phone, e-mail or ids, as the customer list does."""
        restrict = select(AudienceMember.customer_id).where(AudienceMember.audience_id == audience_id)
        found = CustomerRepository(self.session).search(
            params, query=query, restrict=restrict, default_country=default_country
        )
        added = self._added_at(audience_id, [customer.id for customer in found.items])
        rows = [
            MemberRow(c.id, c.external_id, c.full_name, c.phone, c.email, added[c.id])
            for c in found.items
            if c.id in added
        ]
        return Page(items=rows, total=found.total, page=found.page, size=found.size)

    def _added_at(self, audience_id: int, customer_ids: list[int]) -> dict[int, datetime]:
        if not customer_ids:
            return {}
        statement = select(AudienceMember.customer_id, AudienceMember.added_at).where(
            AudienceMember.audience_id == audience_id, AudienceMember.customer_id.in_(customer_ids)
        )
        return {row[0]: row[1] for row in self.session.execute(statement)}

    def add_selected(self, audience_id: int, customer_ids: Select[Any], now: datetime) -> int:
        """Add every customer `customer_ids` selects who is not a member yet; returns how many were added."""
        statement = self._adding(audience_id, customer_ids, now)
        # Row counts of INSERT are kept only on request (PostgreSQL would report -1 otherwise).
        return _rowcount(self.session.execute(statement, execution_options={"preserve_rowcount": True}))

    def add_selected_ids(self, audience_id: int, customer_ids: Select[Any], now: datetime) -> list[int]:
        """`add_selected`, returning the ids of the customers added (for the `audience.changed` event)."""
        statement = self._adding(audience_id, customer_ids, now).returning(AudienceMember.customer_id)
        return list(self.session.scalars(statement))

    def _adding(self, audience_id: int, customer_ids: Select[Any], now: datetime) -> Any:
        chosen = customer_ids.subquery()
        already = exists().where(
            AudienceMember.audience_id == audience_id, AudienceMember.customer_id == chosen.c[0]
        )
        rows = select(literal(audience_id), chosen.c[0], literal(now, UTCDateTime())).where(~already)
        return insert(AudienceMember).from_select(["audience_id", "customer_id", "added_at"], rows)

    def remove_selected(self, audience_id: int, customer_ids: Select[Any]) -> int:
        """Remove every member `customer_ids` selects; returns how many were removed."""
        statement = self._removing(audience_id, customer_ids)
        return _rowcount(self.session.execute(statement, execution_options={"synchronize_session": False}))

    def remove_selected_ids(self, audience_id: int, customer_ids: Select[Any]) -> list[int]:
        """`remove_selected`, returning the ids of the customers removed."""
        statement = self._removing(audience_id, customer_ids).returning(AudienceMember.customer_id)
        return list(self.session.scalars(statement, execution_options={"synchronize_session": False}))

    @staticmethod
    def _removing(audience_id: int, customer_ids: Select[Any]) -> Any:
        return delete(AudienceMember).where(
            AudienceMember.audience_id == audience_id, AudienceMember.customer_id.in_(customer_ids)
        )

    def insert_members(self, rows: Sequence[dict[str, Any]]) -> None:
        """Insert (audience_id, customer_id, added_at) rows in one statement; a pair that exists is kept."""
        if not rows:
            return
        dialect = self.session.get_bind().dialect.name
        builder = postgresql.insert if dialect == "postgresql" else sqlite.insert
        self.session.execute(builder(AudienceMember).on_conflict_do_nothing(), list(rows))

    def members_among(self, pairs: Iterable[tuple[int, int]]) -> set[tuple[int, int]]:
        """The (audience id, customer id) pairs of `pairs` that already exist."""
        by_audience: dict[int, list[int]] = {}
        for audience_id, customer_id in pairs:
            by_audience.setdefault(audience_id, []).append(customer_id)
        found: set[tuple[int, int]] = set()
        for audience_id, customer_ids in by_audience.items():
            for part in chunks(sorted(set(customer_ids))):
                statement = select(AudienceMember.customer_id).where(
                    AudienceMember.audience_id == audience_id, AudienceMember.customer_id.in_(part)
                )
                found.update((audience_id, customer_id) for customer_id in self.session.scalars(statement))
        return found

    def recount(self, audience_ids: Iterable[int]) -> None:
        """Store the exact number of members of these audiences (one UPDATE)."""
        ids = sorted(set(audience_ids))
        if not ids:
            return
        counted = (
            select(func.count())
            .select_from(AudienceMember)
            .where(AudienceMember.audience_id == Audience.id)
            .scalar_subquery()
        )
        statement = update(Audience).where(Audience.id.in_(ids)).values(member_count=counted)
        self.session.execute(statement, execution_options={"synchronize_session": "fetch"})

    def member_counts(self, audience_ids: Sequence[int]) -> dict[int, int]:
        statement = select(Audience.id, Audience.member_count).where(Audience.id.in_(audience_ids))
        return {row[0]: row[1] for row in self.session.execute(statement)}

    def member_count(self, audience_id: int) -> int:
        return int(self.session.scalar(select(Audience.member_count).where(Audience.id == audience_id)) or 0)

    def audiences_of(self, customer_id: int) -> list[tuple[Audience, datetime]]:
        statement = (
            select(Audience, AudienceMember.added_at)
            .join(AudienceMember, AudienceMember.audience_id == Audience.id)
            .where(AudienceMember.customer_id == customer_id)
            .order_by(Audience.name)
        )
        return [(row[0], row[1]) for row in self.session.execute(statement)]

    # --- customers named by an id of some type ------------------------------------------------------

    def customers_by(self, column: InstrumentedAttribute[Any], values: Sequence[Any]) -> dict[Any, list[int]]:
        """Customer ids per value of `column` (a phone or an e-mail may belong to several customers)."""
        found: dict[Any, list[int]] = {}
        for part in chunks(sorted(set(values))):
            statement = select(column, Customer.id).where(column.in_(part))
            for value, customer_id in self.session.execute(statement):
                found.setdefault(value, []).append(customer_id)
        return found


class AudienceImportRepository(Repository[AudienceImport]):
    model = AudienceImport

    def claim(self, import_id: int, owner: str, now: datetime) -> bool:
        """Mark a queued import as run by `owner`; False when another worker has it or it already ended."""
        statement = (
            update(AudienceImport)
            .where(AudienceImport.id == import_id, AudienceImport.status == "queued")
            .values(status="running", started_at=now, lease_owner=owner, lease_heartbeat_at=now)
        )
        result = self.session.execute(statement, execution_options={"synchronize_session": False})
        return _rowcount(result) == 1

    def renew(self, import_id: int, owner: str, now: datetime, **values: Any) -> bool:
        """Renew the lease of an import `owner` still runs (writing `values` with it); False when it no
        longer does (it was found interrupted), and then nothing is written."""
        statement = (
            update(AudienceImport)
            .where(
                AudienceImport.id == import_id,
                AudienceImport.status == "running",
                AudienceImport.lease_owner == owner,
            )
            .values(lease_heartbeat_at=now, **values)
        )
        result = self.session.execute(statement, execution_options={"synchronize_session": False})
        return _rowcount(result) == 1

    def claims(self) -> list[Claim]:
        """The running imports with their owners and heartbeats."""
        statement = select(
            AudienceImport.id, AudienceImport.lease_owner, AudienceImport.lease_heartbeat_at
        ).where(AudienceImport.status == "running")
        return [Claim(*row) for row in self.session.execute(statement)]

    def interrupt(self, claim: Claim, now: datetime) -> bool:
        """Mark failed ("interrupted") an import whose process is gone, unless it moved on meanwhile."""
        statement = (
            update(AudienceImport)
            .where(
                AudienceImport.id == claim.id,
                AudienceImport.status == "running",
                AudienceImport.lease_owner.is_not_distinct_from(claim.owner),
                AudienceImport.lease_heartbeat_at.is_not_distinct_from(claim.heartbeat_at),
            )
            .values(status="failed", message=INTERRUPTED, finished_at=now)
        )
        result = self.session.execute(statement, execution_options={"synchronize_session": False})
        return _rowcount(result) == 1

    def has_later_import(self, job: AudienceImport) -> bool:
        """Whether the same uploaded file was imported again after this import."""
        statement = select(AudienceImport.id).where(
            AudienceImport.file_path == job.file_path, AudienceImport.id > job.id
        )
        return self.session.scalar(statement.limit(1)) is not None

    def recent(self, limit: int = 10) -> list[AudienceImport]:
        statement = select(AudienceImport).order_by(AudienceImport.id.desc()).limit(limit)
        return list(self.session.scalars(statement))


def _rowcount(result: Any) -> int:
    return int(getattr(result, "rowcount", 0) or 0)
