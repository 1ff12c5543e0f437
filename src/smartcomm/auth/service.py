"""Rules for staff users: creation, edits, disabling, passwords, login and lock-out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy.orm import Session

from smartcomm.audit.actor import Actor
from smartcomm.audit.service import REDACTED, audit_service, diff
from smartcomm.auth.checked_tokens import checked_tokens
from smartcomm.auth.permissions import Role
from smartcomm.auth.repository import StaffSessionRepository, UserRepository
from smartcomm.auth.schemas import AccountUpdate, PasswordChange, UserCreate, UserUpdate
from smartcomm.auth.sessions import EndReason, staff_sessions
from smartcomm.config import config
from smartcomm.kit.db import on_commit
from smartcomm.kit.errors import Conflict, FieldError, Forbidden, InvalidInput, NotFound
from smartcomm.kit.pagination import Page, PageParams
from smartcomm.kit.security import (
    burn_password_check,
    generate_password,
    hash_password,
    verify_and_update_password,
    verify_password,
)
from smartcomm.kit.time import ensure_utc, utcnow
from smartcomm.models import User

OBJECT_TYPE = "user"
AUDITED_FIELDS = ("email", "full_name", "role", "language", "is_active", "expires_on")


def snapshot(user: User) -> dict[str, Any]:
    return {name: getattr(user, name) for name in AUDITED_FIELDS}


@dataclass
class LoginResult:
    user: User | None
    error: str | None = None  # invalid | locked | disabled | expired | no_interface


def is_expired(user: User, today: date | None = None) -> bool:
    return user.expires_on is not None and user.expires_on < (today or utcnow().date())


def may_sign_in(user: User) -> bool:
    return user.is_active and not is_expired(user)


class UserService:
    def get(self, session: Session, user_id: int) -> User:
        user = UserRepository(session).get(user_id)
        if user is None:
            raise NotFound("User", user_id)
        return user

    def search(
        self, session: Session, params: PageParams, *, query: str = "", role: str | None = None
    ) -> Page[User]:
        """Staff users ordered by name."""
        return UserRepository(session).search(params, query=query, role=role)

    def create(self, session: Session, actor: Actor, data: UserCreate) -> tuple[User, str]:
        """Create a staff user; returns the user and the initial password (generated when not given)."""
        repository = UserRepository(session)
        self._ensure_email_free(repository, str(data.email))
        password = data.password or generate_password()
        user = repository.add(
            User(
                email=str(data.email).lower(),
                full_name=data.full_name,
                role=data.role.value,
                language=data.language,
                is_active=data.is_active,
                expires_on=data.expires_on,
                password_hash=hash_password(password),
            )
        )
        self._audit(session, actor, user, "create", diff({}, snapshot(user)) | {"password": [None, REDACTED]})
        return user, password

    def update(self, session: Session, actor: Actor, user_id: int, data: UserUpdate) -> User:
        """Change a user's profile, role, status or expiry date."""
        repository = UserRepository(session)
        user = self.get(session, user_id)
        before = snapshot(user)
        values = data.model_dump(exclude_unset=True)
        if "email" in values and values["email"] is not None:
            values["email"] = str(values["email"]).lower()
            if values["email"] != user.email:
                self._ensure_email_free(repository, values["email"])
        self._guard_self_and_last_admin(repository, actor, user, values)
        for name, value in values.items():
            if value is not None or name == "expires_on":
                setattr(user, name, value.value if isinstance(value, Role) else value)
        if before["is_active"] and not user.is_active:
            user.session_version += 1
            staff_sessions.end_all(session, user.id, EndReason.DISABLED)
        elif before["role"] != user.role:
            staff_sessions.end_all(session, user.id, EndReason.ROLE_CHANGED)
        session.flush()
        on_commit(session, checked_tokens.forget_all)  # a new role or a disabled user counts at once
        changes = diff(before, snapshot(user))
        if changes:
            self._audit(session, actor, user, "update", changes)
        return user

    def set_active(self, session: Session, actor: Actor, user_id: int, active: bool) -> User:
        """Enable or disable a user; disabling ends the user's sessions and tokens."""
        return self.update(session, actor, user_id, UserUpdate(is_active=active))

    def delete(self, session: Session, actor: Actor, user_id: int) -> None:
        """Delete a user; the action history keeps the user's name."""
        repository = UserRepository(session)
        user = self.get(session, user_id)
        if actor.user_id == user.id:
            raise Forbidden("You cannot delete your own account")
        if (
            user.role == Role.ADMINISTRATOR
            and user.is_active
            and repository.count_active_administrators() <= 1
        ):
            raise Conflict("The last active administrator cannot be deleted")
        self._audit(session, actor, user, "delete", diff(snapshot(user), {}))
        StaffSessionRepository(session).delete_of_user(user.id)
        repository.delete(user)
        on_commit(session, checked_tokens.forget_all)

    def reset_password(
        self, session: Session, actor: Actor, user_id: int, password: str | None = None
    ) -> str:
        """Set a new password (generated when not given) and end the user's sessions."""
        user = self.get(session, user_id)
        new_password = password or generate_password()
        user.password_hash = hash_password(new_password)
        user.session_version += 1
        user.failed_logins = 0
        user.locked_until = None
        staff_sessions.end_all(session, user.id, EndReason.PASSWORD_RESET)
        session.flush()
        on_commit(session, checked_tokens.forget_all)
        self._audit(session, actor, user, "reset_password", {"password": [REDACTED, REDACTED]})
        return new_password

    def update_account(self, session: Session, actor: Actor, user: User, data: AccountUpdate) -> User:
        """A user edits their own name and interface language."""
        before = snapshot(user)
        user.full_name = data.full_name.strip()
        user.language = data.language
        session.flush()
        changes = diff(before, snapshot(user))
        if changes:
            self._audit(session, actor, user, "update", changes)
        return user

    def change_own_password(
        self,
        session: Session,
        actor: Actor,
        user: User,
        data: PasswordChange,
        *,
        current_session_id: int | None = None,
    ) -> None:
        """A user changes their own password after proving the current one; their other sessions end."""
        if not verify_password(data.current_password, user.password_hash):
            raise InvalidInput.for_field("current_password", "The current password is wrong")
        user.password_hash = hash_password(data.new_password)
        user.session_version += 1
        staff_sessions.end_all(session, user.id, EndReason.PASSWORD_CHANGED, keep=current_session_id)
        session.flush()
        on_commit(session, checked_tokens.forget_all)
        self._audit(session, actor, user, "change_password", {"password": [REDACTED, REDACTED]})

    def end_other_sessions(
        self, session: Session, actor: Actor, user: User, current_session_id: int | None
    ) -> int:
        """A user signs out every other browser they are signed in on; returns how many were signed out."""
        ended = staff_sessions.end_all(
            session, user.id, EndReason.SIGNED_OUT_ELSEWHERE, keep=current_session_id
        )
        if ended:
            self._audit(session, actor, user, "end_sessions", {"open_sessions": [ended + 1, 1]})
        return ended

    def authenticate(
        self, session: Session, email: str, password: str, ip_address: str | None
    ) -> LoginResult:
        """Check a login; failures are counted and lock the account after too many."""
        repository = UserRepository(session)
        user = repository.by_email(email.strip())
        if user is None:
            burn_password_check(password)
            return LoginResult(None, "invalid")
        now = utcnow()
        if user.locked_until is not None and ensure_utc(user.locked_until) > now:
            return LoginResult(None, "locked")
        valid, updated_hash = verify_and_update_password(password, user.password_hash)
        if not valid:
            return self._failed_login(session, repository, user, ip_address)
        if not user.is_active:
            return LoginResult(None, "disabled")
        if is_expired(user):
            return LoginResult(None, "expired")
        if updated_hash:  # made with older hashing parameters: replaced while the password is at hand
            user.password_hash = updated_hash
        user.failed_logins = 0
        user.locked_until = None
        user.last_login_at = now
        session.flush()
        return LoginResult(user)

    def record_sign_in(self, session: Session, actor: Actor, user: User, action: str) -> None:
        self._audit(session, actor, user, action, {})

    def expire_users(self, session: Session) -> int:
        """Disable every active user whose activity expiration date has passed."""
        actor = Actor.system("activity expiration")
        expired = UserRepository(session).expired_active(utcnow().date())
        for user in expired:
            before = snapshot(user)
            user.is_active = False
            user.session_version += 1
            staff_sessions.end_all(session, user.id, EndReason.EXPIRED)
            session.flush()
            on_commit(session, checked_tokens.forget_all)
            self._audit(session, actor, user, "expire", diff(before, snapshot(user)))
        return len(expired)

    def ensure_administrator(self, session: Session, email: str, full_name: str) -> tuple[User, str | None]:
        """The first administrator of a new installation; returns its password when it was created now."""
        repository = UserRepository(session)
        existing = repository.by_email(email)
        if existing is not None:
            return existing, None
        data = UserCreate(email=email, full_name=full_name, role=Role.ADMINISTRATOR)
        return self.create(session, Actor.system("installation"), data)

    def _failed_login(
        self, session: Session, repository: UserRepository, user: User, ip_address: str | None
    ) -> LoginResult:
        failures = repository.register_failed_login(user.id)
        if failures >= config.login_max_failures:
            repository.lock(user.id, utcnow() + timedelta(minutes=config.login_lockout_minutes))
            session.refresh(user)
            actor = Actor(kind="system", user_id=None, label="login protection", ip_address=ip_address)
            self._audit(session, actor, user, "lock", {"failed_logins": [failures - 1, failures]})
            return LoginResult(None, "locked")
        return LoginResult(None, "invalid")

    def _ensure_email_free(self, repository: UserRepository, email: str) -> None:
        if repository.by_email(email) is not None:
            raise Conflict(
                f"A user with e-mail {email} already exists",
                [FieldError("email", "A user with this e-mail already exists", "duplicate")],
            )

    def _guard_self_and_last_admin(
        self, repository: UserRepository, actor: Actor, user: User, values: dict[str, Any]
    ) -> None:
        disabling = values.get("is_active") is False and user.is_active
        demoting = values.get("role") not in (None, Role.ADMINISTRATOR) and user.role == Role.ADMINISTRATOR
        if actor.user_id == user.id and disabling:
            raise Forbidden("You cannot disable your own account")
        if actor.user_id == user.id and demoting:
            raise Forbidden("You cannot change your own role")
        last_admin = user.is_active and repository.count_active_administrators() <= 1
        if user.role == Role.ADMINISTRATOR and last_admin and (disabling or demoting):
            raise Conflict("The last active administrator must stay an active administrator")

    def _audit(
        self, session: Session, actor: Actor, user: User, action: str, changes: dict[str, list[Any]]
    ) -> None:
        audit_service.record(
            session,
            actor,
            object_type=OBJECT_TYPE,
            object_id=user.id,
            action=action,
            changes=changes,
            object_label=f"{user.full_name} <{user.email}>",
        )


user_service = UserService()
