"""Consent records: unsubscribes with their reasons, double opt-in confirmations, and watcher groups.

What a customer currently allows lives on the customer (`allow_<channel>`, `subscriptions`,
`confirmed_email`); these tables keep how it came to be so — who unsubscribed from what, why, from which
message and address — and the groups of staff addresses that receive copies of communications. The rules
live in `smartcomm.delivery.consent`, `.confirmation` and `.watchers`.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from smartcomm.kit.models import Base, BigId
from smartcomm.kit.time import utcnow


class UnsubscribeRecord(Base):
    """One opt-out: from a mailing category on a channel, or from a whole channel (`category_id` empty)."""

    __tablename__ = "unsubscribe_records"
    __table_args__ = (
        Index("ix_unsubscribe_records_customer", "customer_id", "created_at"),
        Index("ix_unsubscribe_records_created", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    # The message whose link (or List-Unsubscribe header, or complaint) it came through.
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id", ondelete="SET NULL"))
    channel: Mapped[str] = mapped_column(String(8))
    category_id: Mapped[int | None] = mapped_column(ForeignKey("mailing_categories.id", ondelete="SET NULL"))
    scope: Mapped[str] = mapped_column(String(16))  # category | channel
    # page | one_click | preferences | complaint
    source: Mapped[str] = mapped_column(String(16))
    reason_code: Mapped[str | None] = mapped_column(String(64))  # an item of "Unsubscribe reasons"
    reason_text: Mapped[str | None] = mapped_column(String(1000))  # the customer's own words
    ip_address: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class EmailConfirmation(Base):
    """A request to confirm an e-mail address (double opt-in) and, once the link was used, its proof."""

    __tablename__ = "email_confirmations"
    __table_args__ = (Index("ix_email_confirmations_customer", "customer_id", "email"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    email: Mapped[str] = mapped_column(String(254))  # the address asked, as it was then
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id", ondelete="SET NULL"))
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    confirmed_at: Mapped[datetime | None]
    ip_address: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(300))


class WatcherGroup(Base):
    """Staff addresses, phones and push ids that receive a copy of a communication."""

    __tablename__ = "watcher_groups"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    emails: Mapped[list[str]] = mapped_column(JSON, default=list)
    phones: Mapped[list[str]] = mapped_column(JSON, default=list)  # E.164
    push_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
