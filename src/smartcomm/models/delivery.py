"""The send ledger: every message, recorded before any provider sees it, and what happened to it.

`messages` holds one row per message under a unique idempotency key; its status moves planned →
rendered → queued → sent → delivered → opened → clicked, or ends failed / expired / suppressed /
cancelled. Every change is also a `message_events` row. `message_contents` keeps the rendered content
of the messages the Outbox shows (sandbox, test and transactional sends); `tracked_links` holds every
link rewritten for click tracking. The rules live in `smartcomm.delivery`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from smartcomm.kit.models import Base, BigId
from smartcomm.kit.time import utcnow


class Message(Base):
    """One message to one recipient on one channel."""

    __tablename__ = "messages"
    __table_args__ = (
        # The dispatcher's claim: due planned rows, most urgent first (and the reaper's look at
        # rendered and queued ones).
        Index("ix_messages_status_priority_due", "status", "priority", "next_attempt_at"),
        Index("ix_messages_customer_created", "customer_id", "created_at"),
        Index("ix_messages_provider_message_id", "provider_message_id"),
        Index("ix_messages_source", "source_kind", "source_id"),
        Index("ix_messages_cascade_of", "cascade_of"),
        Index("ix_messages_recipient", "recipient"),
        # Frequency caps count what each customer was handed on a channel lately.
        Index("ix_messages_customer_channel_handed", "customer_id", "channel", "handed_over_at"),
        # Ids are never reused on SQLite either: tracking tokens sign them.
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    # sha256 hex of (source kind, source id, node or variant, channel, customer or recipient, occurrence).
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    # transactional | mailing | campaign | test | watcher | confirmation
    source_kind: Mapped[str] = mapped_column(String(16))
    source_id: Mapped[int | None] = mapped_column(BigInteger)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(8))
    category_id: Mapped[int | None] = mapped_column(ForeignKey("mailing_categories.id", ondelete="SET NULL"))
    template_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("message_template_versions.id", ondelete="SET NULL")
    )
    recipient: Mapped[str | None] = mapped_column(String(512))  # e-mail, E.164 phone or push token
    status: Mapped[str] = mapped_column(String(16), default="planned")
    reason: Mapped[str | None] = mapped_column(String(32))  # why suppressed, deferred, failed or unconfirmed
    detail: Mapped[str | None] = mapped_column(String(1000))  # the provider's words
    provider_id: Mapped[int | None] = mapped_column(ForeignKey("channel_providers.id", ondelete="SET NULL"))
    provider_message_id: Mapped[str | None] = mapped_column(String(200))
    is_sandbox: Mapped[bool] = mapped_column(default=False)
    attempts: Mapped[int] = mapped_column(default=0)
    # Not before: when planned, deferred to a window, or a retry's back-off.
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None]  # the lifetime: undelivered by then → expired
    priority: Mapped[int] = mapped_column(SmallInteger, default=1)  # 0 low, 1 normal, 2 high
    options: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    cascade_of: Mapped[int | None] = mapped_column(BigInteger)  # the Viber message an SMS leg follows
    owner: Mapped[str | None] = mapped_column(String(200))  # the claiming worker (kit.leases.this_process)
    claimed_at: Mapped[datetime | None]
    handed_over_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]
    opened_at: Mapped[datetime | None]
    clicked_at: Mapped[datetime | None]
    failed_at: Mapped[datetime | None]
    # Engagement, counted as it is recorded: people, and machines (privacy proxies, link scanners) apart.
    opens: Mapped[int] = mapped_column(default=0)
    clicks: Mapped[int] = mapped_column(default=0)
    machine_opens: Mapped[int] = mapped_column(default=0)
    machine_clicks: Mapped[int] = mapped_column(default=0)

    def __repr__(self) -> str:
        return f"<Message {self.id} {self.channel} {self.status}>"


class MessageEvent(Base):
    """One step in a message's history: planned, deferred, sent, delivered, opened, clicked, failed…"""

    __tablename__ = "message_events"
    __table_args__ = (Index("ix_message_events_message", "message_id", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)
    is_machine: Mapped[bool] = mapped_column(default=False)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # ip, user agent, url, reason, words


class MessageContent(Base):
    """The content of a message: its inline source until it is rendered, then what was sent."""

    __tablename__ = "message_contents"

    message_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("messages.id", ondelete="CASCADE"), primary_key=True
    )
    source: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # inline template parts (API sends)
    content: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # rendered parts, per channel
    headers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # e-mail headers and the sender
    rendered_at: Mapped[datetime | None]


class TrackedLink(Base):
    """A link put into a message by us; a click token names it, so a click redirects only to it."""

    __tablename__ = "tracked_links"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    url_hash: Mapped[str] = mapped_column(String(64), unique=True)  # sha256 hex of the URL
    url: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
