"""Staff-user rules: creation, edits, self-protection, passwords, sign-in, lock-out, expiry."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from smartcomm.audit.actor import Actor
from smartcomm.auth.permissions import Role
from smartcomm.auth.schemas import UserCreate, UserUpdate
from smartcomm.auth.service import user_service
from smartcomm.kit.errors import Conflict, Forbidden
from smartcomm.kit.security import verify_password
from smartcomm.models import AuditEntry, User
from tests.factories import DEFAULT_PASSWORD, make_user

ADMIN_ACTOR = Actor.system("tests")


def audit_rows(session: Session, user_id: int) -> list[AuditEntry]:
    statement = select(AuditEntry).where(
        AuditEntry.object_type == "user", AuditEntry.object_id == str(user_id)
    )
    return list(session.scalars(statement.order_by(AuditEntry.id)))


def count_users(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(User)) or 0)


def test_create_hashes_the_password_and_records_history(session: Session) -> None:
    data = UserCreate(
        email="Maria@Example.com", full_name=" Maria ", role=Role.MARKETER, password="long-enough-1"
    )
    user, password = user_service.create(session, ADMIN_ACTOR, data)

    assert user.email == "maria@example.com"
    assert user.full_name == "Maria"
    assert password == "long-enough-1"
    assert user.password_hash != password and verify_password(password, user.password_hash)
    [entry] = audit_rows(session, user.id)
    assert entry.action == "create"
    assert entry.changes["role"] == [None, "marketer"]
    assert entry.changes["password"] == [None, "••••"]


def test_create_generates_a_password_when_none_is_given(session: Session) -> None:
    user, password = user_service.create(
        session, ADMIN_ACTOR, UserCreate(email="gen@example.com", full_name="Gen", role=Role.ANALYST)
    )
    assert len(password) >= 12
    assert verify_password(password, user.password_hash)


def test_duplicate_email_is_refused_and_nothing_is_written(session: Session) -> None:
    make_user(session, email="taken@example.com")
    before_users, before_audit = (
        count_users(session),
        session.scalar(select(func.count()).select_from(AuditEntry)),
    )

    with pytest.raises(Conflict) as raised:
        user_service.create(
            session, ADMIN_ACTOR, UserCreate(email="TAKEN@example.com", full_name="X", role=Role.API)
        )

    assert raised.value.errors[0].field == "email"
    assert count_users(session) == before_users
    assert session.scalar(select(func.count()).select_from(AuditEntry)) == before_audit


def test_update_records_only_changed_fields(session: Session) -> None:
    user, _ = make_user(session, role=Role.MARKETER, full_name="Old Name")
    user_service.update(
        session, ADMIN_ACTOR, user.id, UserUpdate(full_name="New Name", role=Role.SENIOR_MARKETER)
    )

    entry = audit_rows(session, user.id)[-1]
    assert entry.action == "update"
    assert entry.changes == {"full_name": ["Old Name", "New Name"], "role": ["marketer", "senior_marketer"]}


def test_administrator_cannot_disable_or_delete_itself(session: Session) -> None:
    admin, _ = make_user(session, role=Role.ADMINISTRATOR)
    make_user(session, role=Role.ADMINISTRATOR)  # not the last administrator: only the self-rule applies
    me = Actor("user", admin.id, admin.full_name)

    with pytest.raises(Forbidden):
        user_service.set_active(session, me, admin.id, False)
    with pytest.raises(Forbidden):
        user_service.delete(session, me, admin.id)
    session.refresh(admin)
    assert admin.is_active
    assert [e.action for e in audit_rows(session, admin.id)] == ["create"]


def test_the_last_active_administrator_stays(session: Session) -> None:
    only_admin, _ = make_user(session, role=Role.ADMINISTRATOR)
    for existing in session.scalars(
        select(User).where(User.role == "administrator", User.id != only_admin.id)
    ):
        existing.is_active = False
    session.flush()

    with pytest.raises(Conflict):
        user_service.update(session, ADMIN_ACTOR, only_admin.id, UserUpdate(role=Role.MARKETER))
    with pytest.raises(Conflict):
        user_service.delete(session, ADMIN_ACTOR, only_admin.id)


def test_disabling_ends_sessions_and_refuses_sign_in(session: Session) -> None:
    user, password = make_user(session)
    version = user.session_version
    user_service.set_active(session, ADMIN_ACTOR, user.id, False)

    assert user.session_version == version + 1
    assert user_service.authenticate(session, user.email, password, None).error == "disabled"


def test_reset_password_replaces_the_old_one(session: Session) -> None:
    user, old_password = make_user(session)
    new_password = user_service.reset_password(session, ADMIN_ACTOR, user.id)

    assert new_password != old_password
    assert user_service.authenticate(session, user.email, old_password, None).user is None
    assert user_service.authenticate(session, user.email, new_password, None).user is user
    assert audit_rows(session, user.id)[-1].action == "reset_password"


def test_repeated_failures_lock_the_account(session: Session) -> None:
    user, password = make_user(session)
    results = [user_service.authenticate(session, user.email, "wrong", "10.0.0.1").error for _ in range(5)]

    assert results == ["invalid"] * 4 + ["locked"]
    # Even the right password is refused while locked.
    assert user_service.authenticate(session, user.email, password, None).error == "locked"
    lock = audit_rows(session, user.id)[-1]
    assert lock.action == "lock" and lock.ip_address == "10.0.0.1"


def test_success_resets_the_failure_count(session: Session) -> None:
    user, password = make_user(session)
    for _ in range(4):
        user_service.authenticate(session, user.email, "wrong", None)
    assert user_service.authenticate(session, user.email, password, None).user is user
    session.refresh(user)
    assert user.failed_logins == 0
    assert user_service.authenticate(session, user.email, "wrong", None).error == "invalid"


def test_unknown_email_is_an_ordinary_failure(session: Session) -> None:
    assert user_service.authenticate(session, "nobody@example.com", DEFAULT_PASSWORD, None).error == "invalid"


def test_sign_in_is_refused_after_the_expiration_date(session: Session) -> None:
    today = date.today()
    still_valid, password = make_user(session, expires_on=today)
    expired, password2 = make_user(session, expires_on=today - timedelta(days=1))

    assert user_service.authenticate(session, still_valid.email, password, None).user is still_valid
    assert user_service.authenticate(session, expired.email, password2, None).error == "expired"


def test_expiry_job_disables_expired_users_once(session: Session) -> None:
    from smartcomm.auth.tasks import expire_users

    expired, _ = make_user(session, expires_on=date.today() - timedelta(days=3))
    current, _ = make_user(session, expires_on=date.today() + timedelta(days=3))

    assert expire_users.call_local() == 1
    assert expire_users.call_local() == 0  # already done: nothing more to do
    session.refresh(expired)
    session.refresh(current)
    assert not expired.is_active and current.is_active
    entry = audit_rows(session, expired.id)[-1]
    assert (entry.action, entry.actor_kind, entry.changes) == (
        "expire",
        "system",
        {"is_active": [True, False]},
    )
