"""The domain-event outbox: what happened, in commit order, and how far each subscriber has read it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from smartcomm.kit.models import Base, BigId
from smartcomm.kit.time import utcnow


class DomainEvent(Base):
    """One thing that happened (a receipt written, a consent changed…), written in the same transaction as the
    change itself. Bulk writes record one event for the batch: the customers are then in the payload
    (`customer_ids`, or `many_customers` above the limit of `kit.outbox.events`)."""

    __tablename__ = "domain_events"
    # Ids are never reused (SQLite's AUTOINCREMENT), so a purged event's id cannot come back behind the
    # subscribers' checkpoints.
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[str] = mapped_column(String(64))
    customer_id: Mapped[int | None] = mapped_column(BigId)  # no foreign key: an event outlives its customer
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # The database's clock at the insert (PostgreSQL's clock_timestamp()), which the gap rule compares with.
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)


class EventCheckpoint(Base):
    """How far one subscriber has handled the events, advanced in the same transaction as its work; a
    subscriber that failed waits until `retry_at` (growing with `failures`)."""

    __tablename__ = "event_checkpoints"

    subscriber: Mapped[str] = mapped_column(String(100), primary_key=True)
    last_id: Mapped[int] = mapped_column(BigId, default=0)
    failures: Mapped[int] = mapped_column(default=0)
    retry_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(1000))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class WebhookDelivery(Base):
    """One notification to the loyalty system (a whole channel switched off), sent with retries.

    Written by the `webhooks.loyalty` subscriber, one per customer of a `consent.changed` event; `body` is
    sent as it is on every attempt, so the receiver can recognise a repeat by `id` (header
    `X-Smartcomm-Delivery`)."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("event_id", "customer_id"),
        Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    event_id: Mapped[int] = mapped_column(BigId)  # the domain event it comes from
    customer_id: Mapped[int | None] = mapped_column(BigId)
    kind: Mapped[str] = mapped_column(String(64))  # what the body announces, e.g. "consent.channel_opt_out"
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending | delivered | failed
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The process making an attempt now (kit.leases): a worker killed meanwhile is seen gone, and the
    # attempt is made again at once instead of after the claim's hold.
    claimed_by: Mapped[str | None] = mapped_column(String(200))
    url: Mapped[str | None] = mapped_column(String(1000))  # where the last attempt went
    response_status: Mapped[int | None]  # the HTTP status of the last attempt (None: no answer)
    error: Mapped[str | None] = mapped_column(String(1000))  # why the last attempt failed
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    delivered_at: Mapped[datetime | None]
