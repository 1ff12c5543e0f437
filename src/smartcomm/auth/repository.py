"""SQL of staff users."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import delete, func, select, update

from smartcomm.auth.permissions import Role
from smartcomm.kit.pagination import Page, PageParams
from smartcomm.kit.repository import Repository
from smartcomm.models import User
from smartcomm.models.users import StaffSession


class UserRepository(Repository[User]):
    model = User

    def by_email(self, email: str) -> User | None:
        return self.session.scalar(select(User).where(func.lower(User.email) == email.lower()))

    def search(self, params: PageParams, *, query: str = "", role: str | None = None) -> Page[User]:
        statement = select(User).order_by(User.full_name, User.id)
        if query:
            pattern = f"%{query.lower()}%"
            statement = statement.where(
                func.lower(User.full_name).like(pattern) | func.lower(User.email).like(pattern)
            )
        if role:
            statement = statement.where(User.role == role)
        return self.paginate(statement, params)

    def all_ordered(self) -> list[User]:
        return list(self.session.scalars(select(User).order_by(User.full_name)))

    def count_active_administrators(self) -> int:
        statement = select(func.count()).where(User.role == Role.ADMINISTRATOR, User.is_active.is_(True))
        return int(self.session.scalar(statement) or 0)

    def register_failed_login(self, user_id: int) -> int:
        """Count one more failure atomically and return the new count."""
        self.session.execute(
            update(User).where(User.id == user_id).values(failed_logins=User.failed_logins + 1)
        )
        return int(self.session.scalar(select(User.failed_logins).where(User.id == user_id)) or 0)

    def expired_active(self, today: date) -> list[User]:
        statement = select(User).where(User.is_active.is_(True), User.expires_on < today).order_by(User.id)
        return list(self.session.scalars(statement))

    def lock(self, user_id: int, until: datetime) -> None:
        self.session.execute(update(User).where(User.id == user_id).values(locked_until=until))


class StaffSessionRepository(Repository[StaffSession]):
    model = StaffSession

    def open_with_user(self, token_hash: str) -> tuple[StaffSession, User] | None:
        """The open session with this token hash and its user, in one query."""
        statement = (
            select(StaffSession, User)
            .join(User, User.id == StaffSession.user_id)
            .where(StaffSession.token_hash == token_hash, StaffSession.ended_at.is_(None))
        )
        row = self.session.execute(statement).first()
        return None if row is None else (row[0], row[1])

    def open_of_user(self, user_id: int) -> list[StaffSession]:
        statement = (
            select(StaffSession)
            .where(StaffSession.user_id == user_id, StaffSession.ended_at.is_(None))
            .order_by(StaffSession.last_seen_at.desc(), StaffSession.id.desc())
        )
        return list(self.session.scalars(statement))

    def end(self, session_ids: list[int], at: datetime, reason: str) -> int:
        """End the open sessions among `session_ids`; returns how many were open."""
        if not session_ids:
            return 0
        statement = (
            update(StaffSession)
            .where(StaffSession.id.in_(session_ids), StaffSession.ended_at.is_(None))
            .values(ended_at=at, ended_reason=reason)
            .execution_options(synchronize_session="fetch")
        )
        return int(self.session.execute(statement).rowcount or 0)  # type: ignore[attr-defined]

    def touch(self, session_id: int, at: datetime) -> None:
        statement = update(StaffSession).where(StaffSession.id == session_id).values(last_seen_at=at)
        self.session.execute(statement.execution_options(synchronize_session=False))

    def purge_ended(self, user_id: int, before: datetime) -> None:
        """Forget the user's sessions that ended before `before`: the table keeps only what is recent."""
        self.session.execute(
            delete(StaffSession).where(
                StaffSession.user_id == user_id,
                StaffSession.ended_at.is_not(None),
                StaffSession.ended_at < before,
            )
        )

    def delete_of_user(self, user_id: int) -> None:
        self.session.execute(delete(StaffSession).where(StaffSession.user_id == user_id))
