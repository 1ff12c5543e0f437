"""Customer and system events, their sources, and site/app behaviour (web events, sessions, visitors)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from smartcomm.kit.models import Base, BigId
from smartcomm.kit.time import utcnow

SYSTEM_SOURCE_CODE = "online-store"
WEB_EVENT_KINDS = (
    "visit",
    "product_view",
    "category_view",
    "section_view",
    "container_change",
    "login",
    "order_complete",
)
# Anonymous behaviour older than this is not attached when the visitor identifies.
ANONYMOUS_HISTORY_DAYS = 60


class EventSource(Base):
    """A site or app sending behaviour; its public write key authenticates the tracker and Segment SDKs."""

    __tablename__ = "event_sources"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    domain: Mapped[str | None] = mapped_column(String(253))
    is_active: Mapped[bool] = mapped_column(default=True)
    is_system: Mapped[bool] = mapped_column(default=False)
    write_key: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Event(Base):
    """A named event with an immutable context.

    System events (no customer and no visitor) concern everyone. An event of a visitor who has not
    identified yet (a tracker `track` call) has only `visitor_id`; it is attached to the customer when
    the visitor identifies.
    """

    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_customer_name_time", "customer_id", "name", "occurred_at"),
        Index("ix_events_name_time", "name", "occurred_at"),
        Index(
            "ix_events_visitor_time",
            "visitor_id",
            "occurred_at",
            sqlite_where=text("visitor_id IS NOT NULL"),
            postgresql_where=text("visitor_id IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    visitor_id: Mapped[str | None] = mapped_column(String(128))
    name: Mapped[str] = mapped_column(String(100))
    occurred_at: Mapped[datetime]
    source_id: Mapped[int | None] = mapped_column(ForeignKey("event_sources.id", ondelete="SET NULL"))
    context: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Deduplication key of the sender (Segment messageId); a repeated key is ignored.
    message_id: Mapped[str | None] = mapped_column(String(128), unique=True)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)


class Visitor(Base):
    """A browser or device seen by the tracker, attached to a customer once it identifies."""

    __tablename__ = "visitors"
    __table_args__ = (Index("ix_visitors_customer", "customer_id"),)

    id: Mapped[str] = mapped_column(String(128), primary_key=True)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    first_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    identified_at: Mapped[datetime | None]


class WebSession(Base):
    __tablename__ = "web_sessions"
    __table_args__ = (
        Index("ix_web_sessions_visitor", "visitor_id", "started_at"),
        Index("ix_web_sessions_customer", "customer_id", "started_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    key: Mapped[str] = mapped_column(String(128), unique=True)
    visitor_id: Mapped[str] = mapped_column(String(128))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    source_id: Mapped[int | None] = mapped_column(ForeignKey("event_sources.id", ondelete="SET NULL"))
    started_at: Mapped[datetime]
    last_event_at: Mapped[datetime]
    event_count: Mapped[int] = mapped_column(default=0)


class WebEvent(Base):
    """One behaviour on a site or app; the product or category is snapshotted as it was at that moment."""

    __tablename__ = "web_events"
    __table_args__ = (
        Index("ix_web_events_customer_kind_time", "customer_id", "kind", "occurred_at"),
        # The lost-view triggers: the views of a time window, across customers.
        Index("ix_web_events_kind_time", "kind", "occurred_at"),
        Index("ix_web_events_visitor_time", "visitor_id", "occurred_at"),
        Index("ix_web_events_product_time", "product_id", "occurred_at"),
        Index("ix_web_events_category_time", "category_id", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    occurred_at: Mapped[datetime]
    visitor_id: Mapped[str | None] = mapped_column(String(128))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    session_id: Mapped[int | None] = mapped_column(ForeignKey("web_sessions.id", ondelete="SET NULL"))
    source_id: Mapped[int | None] = mapped_column(ForeignKey("event_sources.id", ondelete="SET NULL"))
    product_id: Mapped[int | None] = mapped_column(ForeignKey("products.id", ondelete="SET NULL"))
    category_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id", ondelete="SET NULL"))
    section: Mapped[str | None] = mapped_column(String(200))
    container_code: Mapped[str | None] = mapped_column(String(64))
    container_action: Mapped[str | None] = mapped_column(String(16))  # add | remove | set | clear
    quantity: Mapped[float | None]
    url: Mapped[str | None] = mapped_column(String(2000))
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    context: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    message_id: Mapped[str | None] = mapped_column(String(128), unique=True)
