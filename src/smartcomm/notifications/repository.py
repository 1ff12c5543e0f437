"""SQL of staff notifications."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as postgres_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from smartcomm.kit.repository import Repository
from smartcomm.models import Notification


class NotificationRepository(Repository[Notification]):
    model = Notification

    def insert_new(self, rows: Sequence[dict[str, Any]]) -> int:
        """Insert notifications; one whose key was used before is left out. Returns how many were new."""
        if not rows:
            return 0
        postgres = self.session.get_bind().dialect.name == "postgresql"
        build = postgres_insert if postgres else sqlite_insert
        statement = (
            build(Notification).on_conflict_do_nothing(index_elements=["key"]).returning(Notification.id)
        )
        return len(self.session.execute(statement, list(rows)).all())

    def unread(self, user_id: int, limit: int) -> list[Notification]:
        statement = (
            select(Notification)
            .where(Notification.user_id == user_id, Notification.read_at.is_(None))
            .order_by(Notification.id.desc())
            .limit(limit)
        )
        return list(self.session.scalars(statement))

    def unread_count(self, user_id: int) -> int:
        statement = select(func.count()).where(
            Notification.user_id == user_id, Notification.read_at.is_(None)
        )
        return int(self.session.scalar(statement) or 0)

    def of_user(self, user_id: int, notification_id: int) -> Notification | None:
        statement = select(Notification).where(
            Notification.id == notification_id, Notification.user_id == user_id
        )
        return self.session.scalar(statement)

    def mark_all_read(self, user_id: int, now: datetime) -> int:
        statement = (
            update(Notification)
            .where(Notification.user_id == user_id, Notification.read_at.is_(None))
            .values(read_at=now)
            .execution_options(synchronize_session=False)
        )
        return int(getattr(self.session.execute(statement), "rowcount", 0) or 0)
