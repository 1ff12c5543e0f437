"""SQL of the loyalty connector: bonus balances and expiring portions, points entries and their balance,
accrual requests (recorded once, listed, sent again; their claims and outcomes: `kit.signed_delivery`)."""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import ColumnElement, Select, Table, delete, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as postgres_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from smartcomm.customers.repository import chunks
from smartcomm.kit.pagination import Page, PageParams
from smartcomm.kit.signed_delivery import FAILED, PENDING
from smartcomm.models import BonusExpiration, Customer, LoyaltyAccount, LoyaltyRequest, PointsEntry

accounts = cast(Table, LoyaltyAccount.__table__)
expirations = cast(Table, BonusExpiration.__table__)
points_entries = cast(Table, PointsEntry.__table__)
requests = cast(Table, LoyaltyRequest.__table__)

# The comparators of the "Bonus expected expiration" trigger, as symbols or as the segment operators' names.
COMPARATORS: dict[str, Callable[[Any, Any], ColumnElement[bool]]] = {
    ">": operator.gt,
    "<": operator.lt,
    ">=": operator.ge,
    "<=": operator.le,
    "=": operator.eq,
    "gt": operator.gt,
    "lt": operator.lt,
    "gte": operator.ge,
    "lte": operator.le,
    "eq": operator.eq,
}

Portions = list[tuple[date, Decimal]]


def expiring_bonuses(
    session: Session,
    on_or_before: date,
    comparator: str,
    amount: Decimal,
    *,
    not_before: date | None = None,
) -> Select[tuple[int, Decimal, date]]:
    """(customer_id, amount, expires_on) of the customers whose bonuses expiring on or before the day
    (and, when given, not before `not_before`) add up to an amount that compares with `amount` (`>`,
    `<`, `>=`, `<=`, `=`); `expires_on` is the earliest of those days. Customers with nothing expiring
    in the range are never in it (the trigger asks about bonuses that do expire)."""
    compared = COMPARATORS.get(comparator)
    if compared is None:
        raise ValueError(f"unknown comparator {comparator!r}")
    total = func.sum(expirations.c.amount)
    statement = select(expirations.c.customer_id, total.label("amount"), func.min(expirations.c.expires_on))
    statement = statement.where(expirations.c.expires_on <= on_or_before)
    if not_before is not None:
        statement = statement.where(expirations.c.expires_on >= not_before)
    return statement.group_by(expirations.c.customer_id).having(compared(total, amount))


class LoyaltyRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def _insert(self, table: Table) -> Any:
        postgres = self.session.get_bind().dialect.name == "postgresql"
        return (postgres_insert if postgres else sqlite_insert)(table)

    # --- bonus data ------------------------------------------------------------------------------

    def customers_known(self, customer_ids: Sequence[int]) -> set[int]:
        found: set[int] = set()
        for part in chunks(list(customer_ids)):
            found.update(self.session.scalars(select(Customer.id).where(Customer.id.in_(part))))
        return found

    def account(self, customer_id: int) -> LoyaltyAccount | None:
        return self.session.get(LoyaltyAccount, customer_id, populate_existing=True)

    def bonus_balances(self, customer_ids: Sequence[int]) -> dict[int, Decimal | None]:
        """customer id -> stored bonus balance, for the customers who have an account row."""
        found: dict[int, Decimal | None] = {}
        for part in chunks(list(customer_ids)):
            statement = select(accounts.c.customer_id, accounts.c.bonus_balance).where(
                accounts.c.customer_id.in_(part)
            )
            found.update({row[0]: row[1] for row in self.session.execute(statement)})
        return found

    def portions(self, customer_ids: Sequence[int]) -> dict[int, Portions]:
        """customer id -> their expiring portions as (day, amount), in day order."""
        found: dict[int, Portions] = {}
        for part in chunks(list(customer_ids)):
            statement = (
                select(expirations.c.customer_id, expirations.c.expires_on, expirations.c.amount)
                .where(expirations.c.customer_id.in_(part))
                .order_by(expirations.c.customer_id, expirations.c.expires_on, expirations.c.amount)
            )
            for customer_id, day, amount in self.session.execute(statement):
                found.setdefault(customer_id, []).append((day, amount))
        return found

    def save_balances(self, rows: Sequence[dict[str, Any]], *, with_balance: bool) -> None:
        """Upsert account rows: {customer_id, bonus_updated_at[, bonus_balance]} each."""
        if not rows:
            return
        statement = self._insert(accounts)
        changed = {"bonus_updated_at": statement.excluded.bonus_updated_at}
        if with_balance:
            changed["bonus_balance"] = statement.excluded.bonus_balance
        values = [{"bonus_balance": None, "points_balance": 0, **row} for row in rows]
        upsert = statement.on_conflict_do_update(index_elements=["customer_id"], set_=changed)
        self.session.execute(upsert, values)

    def replace_portions(self, customer_ids: Sequence[int], rows: Sequence[dict[str, Any]]) -> None:
        """The customers' expiring portions become `rows` ({customer_id, amount, expires_on})."""
        for part in chunks(list(customer_ids)):
            self.session.execute(delete(expirations).where(expirations.c.customer_id.in_(part)))
        if rows:
            self.session.execute(insert(expirations), list(rows))

    def expiring_of(self, customer_id: int) -> list[BonusExpiration]:
        statement = (
            select(BonusExpiration)
            .where(BonusExpiration.customer_id == customer_id)
            .order_by(BonusExpiration.expires_on, BonusExpiration.id)
        )
        return list(self.session.scalars(statement))

    # --- points ---------------------------------------------------------------------------------

    def add_points_entry(self, row: dict[str, Any]) -> int | None:
        """Insert the entry unless one has its key; its id, or None when the key was taken."""
        statement = self._insert(points_entries).on_conflict_do_nothing(index_elements=["key"])
        inserted: int | None = self.session.scalar(statement.returning(points_entries.c.id), row)
        return inserted

    def add_to_points_balance(self, customer_id: int, points: int, now: datetime) -> None:
        statement = self._insert(accounts)
        upsert = statement.on_conflict_do_update(
            index_elements=["customer_id"],
            set_={
                "points_balance": accounts.c.points_balance + statement.excluded.points_balance,
                "points_updated_at": statement.excluded.points_updated_at,
            },
        )
        row = {"customer_id": customer_id, "points_balance": points, "points_updated_at": now}
        self.session.execute(upsert, row)

    def points_entry_by_key(self, key: str) -> PointsEntry | None:
        return self.session.scalar(select(PointsEntry).where(PointsEntry.key == key))

    def points_page(self, customer_id: int, params: PageParams) -> Page[PointsEntry]:
        owned = PointsEntry.customer_id == customer_id
        statement = (
            select(PointsEntry).where(owned).order_by(PointsEntry.created_at.desc(), PointsEntry.id.desc())
        )
        total = self.session.scalar(select(func.count()).select_from(PointsEntry).where(owned)) or 0
        items = list(self.session.scalars(statement.limit(params.size).offset(params.offset)))
        return Page(items, int(total), params.page, params.size)

    # --- accrual requests -------------------------------------------------------------------------

    def add_request_once(self, row: dict[str, Any]) -> int | None:
        """Insert the request unless one has its key; its id, or None when the key was taken."""
        statement = self._insert(requests).on_conflict_do_nothing(index_elements=["key"])
        inserted: int | None = self.session.scalar(statement.returning(requests.c.id), row)
        return inserted

    def request(self, request_id: int) -> LoyaltyRequest | None:
        return self.session.get(LoyaltyRequest, request_id, populate_existing=True)

    def request_by_key(self, key: str) -> LoyaltyRequest | None:
        return self.session.scalar(select(LoyaltyRequest).where(LoyaltyRequest.key == key))

    def request_with_customer(self, request_id: int) -> tuple[LoyaltyRequest, str] | None:
        """The request and its customer's external id."""
        statement = (
            select(LoyaltyRequest, Customer.external_id)
            .join(Customer, Customer.id == LoyaltyRequest.customer_id)
            .where(LoyaltyRequest.id == request_id)
            .execution_options(populate_existing=True)
        )
        found = self.session.execute(statement).first()
        return None if found is None else (found[0], found[1])

    def requests_page(self, customer_id: int, params: PageParams) -> Page[LoyaltyRequest]:
        owned = LoyaltyRequest.customer_id == customer_id
        statement = (
            select(LoyaltyRequest)
            .where(owned)
            .order_by(LoyaltyRequest.created_at.desc(), LoyaltyRequest.id.desc())
        )
        total = self.session.scalar(select(func.count()).select_from(LoyaltyRequest).where(owned)) or 0
        items = list(self.session.scalars(statement.limit(params.size).offset(params.offset)))
        return Page(items, int(total), params.page, params.size)

    def request_totals(self, customer_id: int) -> dict[str, tuple[int, Decimal]]:
        """status -> (number of requests, amount) of the customer's accruals."""
        statement = (
            select(requests.c.status, func.count(), func.sum(requests.c.amount))
            .where(requests.c.customer_id == customer_id)
            .group_by(requests.c.status)
        )
        return {status: (count, amount) for status, count, amount in self.session.execute(statement)}

    def send_again(self, request_id: int, now: datetime) -> bool:
        """A failed request back to pending, due now, with its attempts counted afresh."""
        statement = (
            update(requests)
            .where(requests.c.id == request_id, requests.c.status == FAILED)
            .values(status=PENDING, attempts=0, next_attempt_at=now, claimed_by=None)
        )
        return bool(getattr(self.session.execute(statement), "rowcount", 0))
