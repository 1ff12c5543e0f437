"""Every SQL statement of promo codes: groups, their counts, bulk inserts of codes, redeeming and blocking."""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, String, Table, and_, bindparam, func, select, text, update
from sqlalchemy.dialects.postgresql import ARRAY

from smartcomm.kit.pagination import Page, PageParams
from smartcomm.kit.repository import Repository
from smartcomm.kit.time import utcnow
from smartcomm.models import PromoCode, PromoCodeGroup

codes_table = cast(Table, PromoCode.__table__)
_NOW = bindparam("now", type_=PromoCode.__table__.c.added_at.type)
_INSERT_POSTGRES = text(
    "INSERT INTO promo_codes (group_id, code, status, blocked, added_at) "
    "SELECT :group_id, c, 'active', false, :now FROM unnest(:codes) AS c "
    "ON CONFLICT (code) DO NOTHING"
).bindparams(_NOW, bindparam("codes", type_=ARRAY(String)))
# `WHERE true`: SQLite reads an ON CONFLICT after a bare FROM as a join's constraint.
_INSERT_SQLITE = text(
    "INSERT INTO promo_codes (group_id, code, status, blocked, added_at) "
    "SELECT :group_id, value, 'active', 0, :now FROM json_each(:codes) WHERE true "
    "ON CONFLICT (code) DO NOTHING"
).bindparams(_NOW)
_EXISTING_POSTGRES = text("SELECT code, group_id FROM promo_codes WHERE code = ANY(:codes)").bindparams(
    bindparam("codes", type_=ARRAY(String))
)
_EXISTING_SQLITE = text(
    "SELECT code, group_id FROM promo_codes WHERE code IN (SELECT value FROM json_each(:codes))"
)
# Row states as the pages and the API name them: the three of the life of a code, and blocked.
STATUSES = ("active", "issued", "redeemed", "blocked")


def status_condition(status: str) -> Any:
    """The WHERE clause of one state: a blocked code counts as blocked, whatever else it was."""
    if status == "blocked":
        return PromoCode.blocked.is_(True)
    return and_(PromoCode.status == status, PromoCode.blocked.is_(False))


class PromoCodeGroupRepository(Repository[PromoCodeGroup]):
    model = PromoCodeGroup

    def all(self) -> list[PromoCodeGroup]:
        return list(self.session.scalars(select(PromoCodeGroup).order_by(PromoCodeGroup.id.desc())))

    def by_code(self, code: str) -> PromoCodeGroup | None:
        """The group a code names, in any letter case (`client.promocode('spring')` finds SPRING)."""
        statement = select(PromoCodeGroup).where(func.lower(PromoCodeGroup.code) == code.strip().lower())
        return self.session.scalars(statement).first()

    def locked(self, group_id: int) -> PromoCodeGroup | None:
        """The group, its row locked until the transaction ends (PostgreSQL; SQLite has one writer)."""
        statement = select(PromoCodeGroup).where(PromoCodeGroup.id == group_id)
        statement = statement.execution_options(populate_existing=True)
        if self.session.get_bind().dialect.name == "postgresql":
            statement = statement.with_for_update()
        return self.session.scalar(statement)

    def generating(self) -> list[PromoCodeGroup]:
        """Groups with a background generation (running, or stopped short)."""
        return list(
            self.session.scalars(select(PromoCodeGroup).where(PromoCodeGroup.generation.is_not(None)))
        )

    def state_counts(self, group_ids: Collection[int] | None = None) -> dict[int, dict[str, int]]:
        """{group id: {state: codes}} for the states of STATUSES."""
        statement = select(PromoCode.group_id, PromoCode.status, PromoCode.blocked, func.count()).group_by(
            PromoCode.group_id, PromoCode.status, PromoCode.blocked
        )
        if group_ids is not None:
            statement = statement.where(PromoCode.group_id.in_(list(group_ids)))
        counts: dict[int, dict[str, int]] = {}
        for group_id, status, is_blocked, count in self.session.execute(statement):
            states = counts.setdefault(group_id, dict.fromkeys(STATUSES, 0))
            states["blocked" if is_blocked else status] += count
        return counts

    def has_issued_codes(self, group_id: int) -> bool:
        statement = select(PromoCode.id).where(PromoCode.group_id == group_id, PromoCode.status != "active")
        return self.session.scalar(statement.limit(1)) is not None


class PromoCodeRepository(Repository[PromoCode]):
    model = PromoCode

    # --- issuing (see promocodes/issuing.py) ---------------------------------------------------------

    def held_by_key(self, group_id: int, issue_key: str) -> PromoCode | None:
        """The code a message already holds from the group."""
        statement = select(PromoCode).where(PromoCode.group_id == group_id, PromoCode.issue_key == issue_key)
        return self.session.scalars(statement).first()

    def last_issued(self, group_id: int, customer_id: int) -> PromoCode | None:
        """The latest code of the group issued to the customer (redeemed or not)."""
        statement = (
            select(PromoCode)
            .where(
                PromoCode.customer_id == customer_id,
                PromoCode.group_id == group_id,
                PromoCode.issued_at.is_not(None),
            )
            .order_by(PromoCode.issued_at.desc(), PromoCode.id.desc())
            .limit(1)
        )
        return self.session.scalars(statement).first()

    def next_active(self, group_id: int) -> int | None:
        """The group's next code to issue; on PostgreSQL locked, skipping those other workers hold."""
        statement = (
            select(PromoCode.id)
            .where(PromoCode.group_id == group_id, PromoCode.status == "active", PromoCode.blocked.is_(False))
            .order_by(PromoCode.id)
            .limit(1)
        )
        if self.session.get_bind().dialect.name == "postgresql":
            statement = statement.with_for_update(skip_locked=True)
        return self.session.scalar(statement)

    def claim(
        self, code_id: int, customer_id: int, issue_key: str, message_id: int | None, now: datetime
    ) -> bool:
        """Issue the code if it is still active and unblocked; whether this call got it."""
        statement = (
            update(PromoCode)
            .where(PromoCode.id == code_id, PromoCode.status == "active", PromoCode.blocked.is_(False))
            .values(
                status="issued",
                customer_id=customer_id,
                issue_key=issue_key,
                message_id=message_id,
                issued_at=now,
            )
            .execution_options(synchronize_session=False)
        )
        return int(getattr(self.session.execute(statement), "rowcount", 0) or 0) == 1

    def count_issuable(self, group_id: int) -> int:
        """Active, unblocked codes of the group."""
        statement = select(func.count()).where(
            PromoCode.group_id == group_id, PromoCode.status == "active", PromoCode.blocked.is_(False)
        )
        return int(self.session.scalar(statement) or 0)

    def first_code(self, group_id: int) -> str | None:
        return self.session.scalar(select(PromoCode.code).where(PromoCode.group_id == group_id).limit(1))

    def search(self, group_id: int, params: PageParams, status: str | None, query: str) -> Page[PromoCode]:
        """A group's codes, the latest added first; `query` finds codes starting with it."""
        statement = select(PromoCode).where(PromoCode.group_id == group_id)
        if status:
            statement = statement.where(status_condition(status))
        if query:
            statement = statement.where(PromoCode.code.startswith(query, autoescape=True))
        return self.paginate(statement.order_by(PromoCode.id.desc()), params)

    def of_customer(self, customer_id: int, params: PageParams) -> Page[PromoCode]:
        statement = select(PromoCode).where(PromoCode.customer_id == customer_id)
        return self.paginate(statement.order_by(PromoCode.issued_at.desc(), PromoCode.id.desc()), params)

    def by_code(self, code: str) -> PromoCode | None:
        return self.session.scalars(select(PromoCode).where(PromoCode.code == code)).first()

    def existing(self, codes: Sequence[str]) -> dict[str, int]:
        """{code: group id} for those of `codes` already stored (in any group), in one statement."""
        if not codes:
            return {}
        if self._postgres:
            statement = _EXISTING_POSTGRES.bindparams(codes=list(codes))
        else:
            statement = _EXISTING_SQLITE.bindparams(codes=json.dumps(list(codes)))
        return {row.code: row.group_id for row in self.session.execute(statement)}

    @property
    def _postgres(self) -> bool:
        return self.session.get_bind().dialect.name == "postgresql"

    def insert_new(self, group_id: int, codes: Sequence[str]) -> int:
        """Insert codes, skipping any already stored in some group; returns how many were added.

        One statement per batch with the codes as one array parameter (PostgreSQL `unnest`, SQLite
        `json_each`): a hundred thousand codes take well under a second, where row-by-row parameters
        take several; and the statement's row count is exact on both databases."""
        if not codes:
            return 0
        statement = _INSERT_POSTGRES if self._postgres else _INSERT_SQLITE
        values = list(codes) if self._postgres else json.dumps(list(codes))
        result = self.session.execute(statement, {"group_id": group_id, "codes": values, "now": utcnow()})
        return int(cast(CursorResult[Any], result).rowcount or 0)

    def count_in_group(self, group_id: int) -> int:
        statement = select(func.count()).select_from(PromoCode).where(PromoCode.group_id == group_id)
        return int(self.session.scalar(statement) or 0)

    def redeem(
        self, codes: Collection[str], receipt_id: int | None, customer_id: int | None, at: datetime
    ) -> int:
        """Mark redeemable codes redeemed: known, not blocked, not redeemed yet, of a group not blocked.

        A code nobody was issued takes the redeeming customer."""
        open_groups = select(PromoCodeGroup.id).where(PromoCodeGroup.blocked.is_(False))
        statement = (
            update(PromoCode)
            .where(
                PromoCode.code.in_(list(codes)),
                PromoCode.status != "redeemed",
                PromoCode.blocked.is_(False),
                PromoCode.group_id.in_(open_groups.scalar_subquery()),
            )
            .values(
                status="redeemed",
                redeemed_at=at,
                receipt_id=receipt_id,
                customer_id=func.coalesce(PromoCode.customer_id, customer_id),
            )
            .execution_options(synchronize_session=False)
        )
        return int(cast(CursorResult[Any], self.session.execute(statement)).rowcount or 0)

    def set_blocked(self, code_ids: Collection[int], blocked: bool) -> int:
        statement = (
            update(PromoCode)
            .where(PromoCode.id.in_(list(code_ids)), PromoCode.status != "redeemed")
            .values(blocked=blocked)
            .execution_options(synchronize_session="fetch")
        )
        return int(cast(CursorResult[Any], self.session.execute(statement)).rowcount or 0)
