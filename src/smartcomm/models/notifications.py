"""In-product notifications to staff users: the bell in the top bar lists the unread ones."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from smartcomm.kit.models import Base, BigId
from smartcomm.kit.time import utcnow


class Notification(Base):
    """A note to one staff user (a campaign asking someone to call a customer, say) with an optional link
    inside the product. `key` makes a repeated request (a campaign step walked again) write nothing new."""

    __tablename__ = "notifications"
    # The bell: a user's unread notifications, newest first.
    __table_args__ = (Index("ix_notifications_user", "user_id", "read_at", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str | None] = mapped_column(String(2000))
    link: Mapped[str | None] = mapped_column(String(500))  # a path inside the product ("/customers/7")
    key: Mapped[str | None] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None]
