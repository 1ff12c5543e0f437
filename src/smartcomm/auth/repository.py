"""SQL of staff users."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import func, select, update

from smartcomm.auth.permissions import Role
from smartcomm.kit.pagination import Page, PageParams
from smartcomm.kit.repository import Repository
from smartcomm.models import User


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
