"""Pop-ups: messages queued for a customer and shown by the site tracker on the customer's next page view."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from smartcomm.kit.models import Base, BigId
from smartcomm.kit.time import utcnow

POPUP_STATUSES = ("queued", "shown", "clicked", "dismissed", "expired")


class Popup(Base):
    """One pop-up for one customer. `key` is the caller's idempotency key (a campaign's node and journey,
    say): queueing the same key again changes nothing."""

    __tablename__ = "popups"
    __table_args__ = (Index("ix_popups_customer_status", "customer_id", "status"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("customers.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(200), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str | None] = mapped_column(Text)
    image_url: Mapped[str | None] = mapped_column(String(2000))
    button_text: Mapped[str | None] = mapped_column(String(100))
    button_url: Mapped[str | None] = mapped_column(String(2000))
    status: Mapped[str] = mapped_column(String(16), default="queued")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None]
    shown_at: Mapped[datetime | None]
    clicked_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]  # dismissed or expired
    # What queued it: e.g. kind "campaign", id the campaign, part the node.
    source_kind: Mapped[str | None] = mapped_column(String(32))
    source_id: Mapped[int | None]
    source_part: Mapped[str | None] = mapped_column(String(64))
