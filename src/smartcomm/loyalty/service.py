"""Rules of the loyalty connector: points awarded once per key, accrual requests recorded once per key in
the caller's transaction (and sent after its commit, see `loyalty.sending`), the customer's bonus data.

Both operations may come from anything — a campaign's action, the API, a person on the profile — and
each names what asked in its `Source`. A person's or an API client's operation also writes an action
history row (give the `actor`); a campaign's thousands do not.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from smartcomm.audit.actor import Actor
from smartcomm.audit.service import audit_service
from smartcomm.kit.db import AFTER_COMMIT_KEY, on_commit
from smartcomm.kit.errors import FieldError, InvalidInput, NotFound
from smartcomm.kit.jobs import queue_now
from smartcomm.kit.outbox import publish
from smartcomm.kit.pagination import Page, PageParams
from smartcomm.kit.time import utcnow
from smartcomm.loyalty.repository import LoyaltyRepository
from smartcomm.loyalty.schemas import (
    MAX_KEY_LENGTH,
    MAX_POINTS,
    MAX_TEXT_LENGTH,
    BonusesOut,
    ExpiringBonusOut,
    Source,
)
from smartcomm.models import Customer, LoyaltyRequest, PointsEntry

POINTS_AWARDED = "points.awarded"
ACCRUE = "accrue"
DELIVER_JOB = "loyalty.deliver"
# The largest accrual asked at once: 16 digits with the kopecks, as the column holds.
MAX_AMOUNT = Decimal("99999999999999.99")


class LoyaltyService:
    def award_points(
        self,
        session: Session,
        customer_id: int,
        points: int,
        key: str,
        reason: str | None,
        source: Source,
        actor: Actor | None = None,
    ) -> bool:
        """Award `points` (negative: take back) once per `key`: False when the key was used before, and
        nothing changes then."""
        customer = self._customer(session, customer_id)
        _check([*_key_errors(key), *_points_errors(points), *_text_errors("reason", reason)])
        now, repository = utcnow(), LoyaltyRepository(session)
        entry = {"customer_id": customer_id, "points": points, "reason": reason or None, "key": key}
        entry_id = repository.add_points_entry(entry | _source_row(source) | {"created_at": now})
        if entry_id is None:
            return False
        repository.add_to_points_balance(customer_id, points, now)
        payload = {"entry_id": entry_id, "points": points, "source_kind": source.kind}
        publish(session, POINTS_AWARDED, customer_id=customer_id, payload=payload)
        if actor is not None:
            changes: dict[str, list[Any]] = {
                "points": [None, points],
                "reason": [None, reason],
                "key": [None, key],
            }
            self._audit(session, actor, customer, "award_points", changes)
        return True

    def request_accrual(
        self,
        session: Session,
        customer_id: int,
        amount: Decimal,
        key: str,
        comment: str | None,
        source: Source,
        actor: Actor | None = None,
    ) -> bool:
        """Ask the loyalty system to accrue `amount` bonuses to the customer, once per `key`: the request is
        recorded in this transaction and sent after its commit. False when the key was used before."""
        customer = self._customer(session, customer_id)
        _check([*_key_errors(key), *_amount_errors(amount), *_text_errors("comment", comment)])
        now = utcnow()
        row = {
            "customer_id": customer_id, "operation": ACCRUE, "amount": amount, "comment": comment or None,
            "key": key, "status": "pending", "attempts": 0, "next_attempt_at": now, "created_at": now,
        }  # fmt: skip
        if LoyaltyRepository(session).add_request_once(row | _source_row(source)) is None:
            return False
        deliver_after_commit(session)
        if actor is not None:
            changes = {"amount": [None, str(amount)], "comment": [None, comment], "key": [None, key]}
            self._audit(session, actor, customer, "accrue_bonuses", changes)
        return True

    def send_again(self, session: Session, actor: Actor, customer_id: int, request_id: int) -> LoyaltyRequest:
        """Send a failed accrual again, from its first attempt (audited); other states are left alone."""
        customer = self._customer(session, customer_id)
        repository = LoyaltyRepository(session)
        found = repository.request(request_id)
        if found is None or found.customer_id != customer_id:
            raise NotFound("Accrual request", request_id)
        if repository.send_again(request_id, utcnow()):
            deliver_after_commit(session)
            self._audit(session, actor, customer, "send_accrual_again", {"request": [None, request_id]})
        refreshed = repository.request(request_id)
        assert refreshed is not None
        return refreshed

    def bonuses(self, session: Session, customer_id: int) -> BonusesOut:
        """The customer's bonus balance and expiring portions as last sent, and the points balance."""
        repository = LoyaltyRepository(session)
        account = repository.account(customer_id)
        return BonusesOut(
            bonus_balance=account.bonus_balance if account else None,
            bonus_updated_at=account.bonus_updated_at if account else None,
            expiring_bonuses=[
                ExpiringBonusOut.model_validate(p) for p in repository.expiring_of(customer_id)
            ],
            points_balance=account.points_balance if account else 0,
        )

    def points(self, session: Session, customer_id: int, params: PageParams) -> Page[PointsEntry]:
        """The customer's points entries, the latest first."""
        return LoyaltyRepository(session).points_page(customer_id, params)

    def points_entry(self, session: Session, key: str) -> PointsEntry | None:
        return LoyaltyRepository(session).points_entry_by_key(key)

    def request_by_key(self, session: Session, key: str) -> LoyaltyRequest | None:
        return LoyaltyRepository(session).request_by_key(key)

    def requests(self, session: Session, customer_id: int, params: PageParams) -> Page[LoyaltyRequest]:
        """The customer's requests to the loyalty system, the latest first."""
        return LoyaltyRepository(session).requests_page(customer_id, params)

    def _customer(self, session: Session, customer_id: int) -> Customer:
        customer = session.get(Customer, customer_id)
        if customer is None:
            raise NotFound("Customer", customer_id)
        return customer

    def _audit(
        self, session: Session, actor: Actor, customer: Customer, action: str, changes: dict[str, list[Any]]
    ) -> None:
        audit_service.record(
            session, actor, object_type="customer", object_id=customer.id, action=action,
            changes=changes, object_label=customer.full_name,
        )  # fmt: skip


def deliver_after_commit(session: Session) -> None:
    """Queue the sending job once the transaction commits — once per transaction, however many requests
    it recorded (a campaign's action records thousands); nothing on a rollback."""
    if not any(callback is _deliver for callback in session.info.get(AFTER_COMMIT_KEY, [])):
        on_commit(session, _deliver)


def _deliver() -> None:
    queue_now(DELIVER_JOB)


def _source_row(source: Source) -> dict[str, Any]:
    return {
        "source_kind": source.kind[:32],
        "source_id": None if source.id is None else str(source.id)[:64],
        "part": None if source.part is None else str(source.part)[:64],
    }


def _check(errors: list[FieldError]) -> None:
    if errors:
        raise InvalidInput("The operation is not valid", errors)


def _key_errors(key: str) -> list[FieldError]:
    if not key or len(key) > MAX_KEY_LENGTH:
        return [FieldError("key", "give a key of 1 to 200 characters")]
    return []


def _points_errors(points: int) -> list[FieldError]:
    if points == 0 or abs(points) > MAX_POINTS:
        return [FieldError("points", "give a whole number other than 0, at most a trillion either way")]
    return []


def _amount_errors(amount: Decimal) -> list[FieldError]:
    if not amount.is_finite() or amount <= 0 or amount > MAX_AMOUNT or amount != round(amount, 2):
        return [FieldError("amount", "give an amount greater than 0 with at most two decimal places")]
    return []


def _text_errors(field: str, text: str | None) -> list[FieldError]:
    if text and len(text) > MAX_TEXT_LENGTH:
        return [FieldError(field, "at most 500 characters")]
    return []


loyalty_service = LoyaltyService()
