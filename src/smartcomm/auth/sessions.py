"""Server-side sessions of staff users.

The signed session cookie carries only a random token; the session itself is a row of `staff_sessions`
(its token stored as a SHA-256 hash). A request is signed in only while that row is open, so signing out,
a password change or reset, a role change, disabling, expiry and deletion end the session on the server
and a copied cookie opens nothing afterwards.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy.orm import Session

from smartcomm.auth.repository import StaffSessionRepository
from smartcomm.config import config
from smartcomm.kit.time import ensure_utc, utcnow
from smartcomm.models import User
from smartcomm.models.users import StaffSession

TOKEN_BYTES = 32
USER_AGENT_LENGTH = 300
# The last-seen time is written at most this often: browsing must not make every page view a write.
TOUCH_INTERVAL = timedelta(minutes=1)
# Ended sessions are kept this long for the account page and then forgotten at the user's next sign-in.
KEEP_ENDED = timedelta(days=30)


class EndReason(StrEnum):
    LOGOUT = "logout"
    SIGNED_OUT_ELSEWHERE = "signed_out_elsewhere"
    PASSWORD_CHANGED = "password_changed"  # noqa: S105 (a reason, not a secret)
    PASSWORD_RESET = "password_reset"  # noqa: S105
    ROLE_CHANGED = "role_changed"
    DISABLED = "disabled"
    EXPIRED = "expired"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def idle_limit() -> timedelta:
    """A session unused for this long is over (the cookie's own lifetime, enforced on the server too)."""
    return timedelta(hours=config.session_max_age_hours)


class StaffSessions:
    def start(
        self, session: Session, user: User, ip_address: str | None, user_agent: str | None
    ) -> tuple[StaffSession, str]:
        """Open a session for a user who just signed in; returns the row and the token for the cookie."""
        repository = StaffSessionRepository(session)
        now = utcnow()
        repository.purge_ended(user.id, now - KEEP_ENDED)
        token = secrets.token_urlsafe(TOKEN_BYTES)
        row = StaffSession(
            token_hash=hash_token(token),
            user_id=user.id,
            created_at=now,
            last_seen_at=now,
            ip_address=ip_address,
            user_agent=(user_agent or "")[:USER_AGENT_LENGTH] or None,
        )
        return repository.add(row), token

    def resolve(self, session: Session, token: str) -> tuple[StaffSession, User] | None:
        """The open session of a cookie's token and its user; None when unknown, ended or idle too long."""
        found = StaffSessionRepository(session).open_with_user(hash_token(token))
        if found is None or self.is_idle(found[0], utcnow()):
            return None
        return found

    def is_idle(self, row: StaffSession, now: datetime) -> bool:
        return ensure_utc(row.last_seen_at) < now - idle_limit()

    def needs_touch(self, row: StaffSession, now: datetime) -> bool:
        return now - ensure_utc(row.last_seen_at) >= TOUCH_INTERVAL

    def touch(self, session: Session, session_id: int, now: datetime) -> None:
        StaffSessionRepository(session).touch(session_id, now)

    def end(self, session: Session, session_id: int, reason: EndReason) -> None:
        StaffSessionRepository(session).end([session_id], utcnow(), reason.value)

    def end_all(self, session: Session, user_id: int, reason: EndReason, *, keep: int | None = None) -> int:
        """End every open session of the user but `keep`; returns how many ended."""
        repository = StaffSessionRepository(session)
        ids = [row.id for row in repository.open_of_user(user_id) if row.id != keep]
        return repository.end(ids, utcnow(), reason.value)

    def open_sessions(self, session: Session, user_id: int) -> list[StaffSession]:
        """The user's sessions that still open pages, most recently used first."""
        now = utcnow()
        return [
            row for row in StaffSessionRepository(session).open_of_user(user_id) if not self.is_idle(row, now)
        ]


staff_sessions = StaffSessions()
