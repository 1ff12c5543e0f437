"""The loyalty connector: bonus data from the loyalty system, smartcomm's own points, accrual requests."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import BigInteger, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from smartcomm.kit.models import Base, BigId, Money
from smartcomm.kit.time import utcnow


class LoyaltyAccount(Base):
    """A customer's balances, one row per customer who has any: the bonus balance as the loyalty system
    last sent it, and the points smartcomm awarded (the sum of the customer's `points_entries`, kept on
    every award so that segments never add the entries up).

    A side table rather than columns of `customers`: the loyalty system sends bonus data daily for the
    whole base, and writing them here leaves the wide customer rows (and their `updated_at`) alone; a
    customer without a row has no bonus data at all, which is not a balance of 0."""

    __tablename__ = "loyalty_accounts"

    customer_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    bonus_balance: Mapped[Decimal | None] = mapped_column(Money)
    # When the loyalty system last sent the customer's bonus data (balance or expiring bonuses).
    bonus_updated_at: Mapped[datetime | None]
    points_balance: Mapped[int] = mapped_column(BigInteger, default=0)
    points_updated_at: Mapped[datetime | None]


class BonusExpiration(Base):
    """A portion of a customer's bonuses that expires on a day; the portions of a customer are replaced
    as a whole each time the loyalty system sends them."""

    __tablename__ = "bonus_expirations"
    __table_args__ = (
        Index("ix_bonus_expirations_customer", "customer_id", "expires_on"),
        # The expiring-bonuses trigger reads a range of days for the whole base.
        Index("ix_bonus_expirations_expires_on", "expires_on", "customer_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("customers.id", ondelete="CASCADE"))
    amount: Mapped[Decimal] = mapped_column(Money)
    expires_on: Mapped[date]


class PointsEntry(Base):
    """Points awarded to a customer (negative: taken back), once per `key` whoever asks again."""

    __tablename__ = "points_entries"
    __table_args__ = (Index("ix_points_entries_customer", "customer_id", "created_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("customers.id", ondelete="CASCADE"))
    points: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str | None] = mapped_column(String(500))
    # What awarded them: user (by hand), api, campaign …; its id and the part of it (a campaign's node).
    source_kind: Mapped[str] = mapped_column(String(32))
    source_id: Mapped[str | None] = mapped_column(String(64))
    part: Mapped[str | None] = mapped_column(String(64))
    key: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class LoyaltyRequest(Base):
    """An operation asked of the loyalty system (accrue bonuses), recorded once per `key` in the asking
    transaction, then POSTed signed with retries like the consent webhook (`loyalty.sending`)."""

    __tablename__ = "loyalty_requests"
    __table_args__ = (
        Index("ix_loyalty_requests_due", "status", "next_attempt_at"),
        Index("ix_loyalty_requests_customer", "customer_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("customers.id", ondelete="CASCADE"))
    operation: Mapped[str] = mapped_column(String(16), default="accrue")
    amount: Mapped[Decimal] = mapped_column(Money)
    comment: Mapped[str | None] = mapped_column(String(500))
    source_kind: Mapped[str] = mapped_column(String(32))
    source_id: Mapped[str | None] = mapped_column(String(64))
    part: Mapped[str | None] = mapped_column(String(64))
    key: Mapped[str] = mapped_column(String(200), unique=True)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending | delivered | failed
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The process making an attempt now (kit.leases), as for webhook deliveries.
    claimed_by: Mapped[str | None] = mapped_column(String(200))
    response_status: Mapped[int | None]  # the HTTP status of the last attempt (None: no answer)
    error: Mapped[str | None] = mapped_column(String(1000))  # why the last attempt failed
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    delivered_at: Mapped[datetime | None]
