"""Staff users of the back office and the REST API."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from smartcomm.kit.models import Base, TimestampMixin
from smartcomm.kit.time import utcnow


class User(TimestampMixin, Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(32), index=True)
    language: Mapped[str] = mapped_column(String(8), default="en")
    is_active: Mapped[bool] = mapped_column(default=True)
    expires_on: Mapped[date | None] = mapped_column(default=None)
    password_hash: Mapped[str] = mapped_column(String(255))
    # Bumped on password reset or change and on disabling: every API token of the user dies. (Browser
    # sessions are rows of staff_sessions, ended by the same events.)
    session_version: Mapped[int] = mapped_column(default=1)
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None] = mapped_column(default=None)
    last_login_at: Mapped[datetime | None] = mapped_column(default=None)

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email} {self.role}>"


class StaffSession(Base):
    """A signed-in browser of a staff user. The cookie carries a random token; only its hash is stored,
    so the table alone cannot be replayed. A session ends on sign-out and whenever the user's access
    changes (password, role, disabling, expiry, deletion): a copied cookie then opens nothing."""

    __tablename__ = "staff_sessions"
    __table_args__ = (Index("ix_staff_sessions_user_open", "user_id", "ended_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Written at most once a minute, so that browsing does not turn every page view into a write.
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    ip_address: Mapped[str | None] = mapped_column(String(64), default=None)
    user_agent: Mapped[str | None] = mapped_column(String(300), default=None)
    ended_at: Mapped[datetime | None] = mapped_column(default=None)
    # logout | signed_out_elsewhere | password_changed | password_reset | role_changed | disabled
    # | expired | idle
    ended_reason: Mapped[str | None] = mapped_column(String(32), default=None)

    def __repr__(self) -> str:
        return f"<StaffSession {self.id} user={self.user_id} ended={self.ended_reason}>"
