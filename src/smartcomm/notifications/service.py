"""Staff notifications: written once per key (by campaigns, say), listed unread under the bell, read.

Opening or dismissing a notification only concerns the user who got it: no action history row.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from smartcomm.kit.errors import NotFound
from smartcomm.kit.time import utcnow
from smartcomm.models import Notification
from smartcomm.notifications.repository import NotificationRepository

BELL_LIMIT = 8  # the unread notifications the bell lists (the count says how many there are in all)
TITLE_LENGTH, BODY_LENGTH, LINK_LENGTH = 200, 2000, 500


@dataclass(frozen=True)
class NotificationIn:
    user_id: int
    title: str
    body: str | None = None
    link: str | None = None  # a path inside the product
    key: str | None = None  # the same key twice notifies once


@dataclass(frozen=True)
class Bell:
    unread: list[Notification]
    count: int


def safe_link(link: str | None) -> str | None:
    """Only paths inside the product: opening a notification redirects there."""
    if not link or not link.startswith("/") or link.startswith("//") or "\\" in link:
        return None
    return link[:LINK_LENGTH]


class NotificationService:
    def notify(self, session: Session, notes: list[NotificationIn]) -> int:
        """Write the notifications (a key written before is skipped); returns how many are new."""
        now = utcnow()
        rows = [
            {
                "user_id": note.user_id,
                "title": note.title[:TITLE_LENGTH],
                "body": note.body[:BODY_LENGTH] if note.body else None,
                "link": safe_link(note.link),
                "key": note.key,
                "created_at": now,
                "read_at": None,
            }
            for note in notes
        ]
        return NotificationRepository(session).insert_new(rows)

    def bell(self, session: Session, user_id: int) -> Bell:
        """The user's latest unread notifications and how many are unread."""
        repository = NotificationRepository(session)
        return Bell(repository.unread(user_id, BELL_LIMIT), repository.unread_count(user_id))

    def open(self, session: Session, user_id: int, notification_id: int) -> Notification:
        """Mark the user's notification read (another user's is not found) and return it."""
        found = NotificationRepository(session).of_user(user_id, notification_id)
        if found is None:
            raise NotFound("Notification", notification_id)
        if found.read_at is None:
            found.read_at = utcnow()
        return found

    def read_all(self, session: Session, user_id: int) -> int:
        return NotificationRepository(session).mark_all_read(user_id, utcnow())


notification_service = NotificationService()
