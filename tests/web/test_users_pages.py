"""Settings → Users and Settings → Action history, as an administrator uses them."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from smartcomm.kit.time import utcnow
from smartcomm.models import AuditEntry, User
from tests.conftest import UIClient
from tests.factories import make_user


def test_list_shows_status_role_and_registration(admin_client: UIClient, session: Session) -> None:
    make_user(session, role="analyst", full_name="Ivan Analyst", is_active=False)
    page = admin_client.get("/settings/users").text
    row = re.search(r"<tr data-user-id.*?Ivan Analyst.*?</tr>", page, re.S)
    assert row is not None
    assert "Disabled" in row.group(0) and "Analyst" in row.group(0)


def test_search_and_role_filter_return_the_table_fragment(admin_client: UIClient, session: Session) -> None:
    make_user(session, role="designer", full_name="Dora Designer")
    make_user(session, role="operator", full_name="Oleg Operator")
    fragment = admin_client.get(
        "/settings/users?q=dora", headers={"HX-Request": "true", "HX-Target": "users-table"}
    )
    assert "<html" not in fragment.text
    assert "Dora Designer" in fragment.text and "Oleg Operator" not in fragment.text
    by_role = admin_client.get("/settings/users?role=operator").text
    assert "Oleg Operator" in by_role and "Dora Designer" not in by_role


def test_create_user_shows_the_password_once(admin_client: UIClient, session: Session) -> None:
    form = {"full_name": "Mark Marketer", "email": "mark@example.com", "role": "marketer", "language": "en"}
    response = admin_client.submit("/settings/users", form | {"is_active": "true", "expires_on": ""})

    assert response.status_code == 200
    password = re.search(r'id="new-user-password">([^<]+)<', response.text)
    assert password is not None
    created = session.scalar(select(User).where(User.email == "mark@example.com"))
    assert created is not None and created.role == "marketer"
    entry = session.scalars(select(AuditEntry).where(AuditEntry.object_id == str(created.id))).one()
    assert entry.action == "create" and entry.actor_label.startswith("Anna Admin")


def test_invalid_form_names_the_fields_and_writes_nothing(admin_client: UIClient, session: Session) -> None:
    users = session.scalar(select(func.count()).select_from(User))
    response = admin_client.submit(
        "/settings/users", {"full_name": "", "email": "not-an-email", "role": "pilot"}
    )

    assert response.status_code == 422
    assert 'data-error-for="email"' in response.text and "valid e-mail" in response.text
    assert 'data-error-for="full_name"' in response.text
    assert 'data-error-for="role"' in response.text
    assert session.scalar(select(func.count()).select_from(User)) == users


def test_edit_changes_role_and_expiry(admin_client: UIClient, session: Session) -> None:
    user, _ = make_user(session, role="marketer", full_name="Sam")
    form = {"full_name": "Sam", "email": user.email, "role": "senior_marketer", "language": "ru"}
    response = admin_client.submit(
        f"/settings/users/{user.id}", form | {"expires_on": "2030-01-31", "is_active": "true"}
    )

    assert response.status_code == 303
    session.refresh(user)
    assert (user.role, user.language, str(user.expires_on)) == ("senior_marketer", "ru", "2030-01-31")


def test_disable_and_delete_another_user(admin_client: UIClient, session: Session) -> None:
    user, _ = make_user(session)
    assert admin_client.submit(f"/settings/users/{user.id}/active", {"active": "false"}).status_code == 303
    session.refresh(user)
    assert not user.is_active
    assert admin_client.submit(f"/settings/users/{user.id}/delete").status_code == 303
    assert session.scalar(select(User).where(User.id == user.id)) is None
    deleted = session.scalars(select(AuditEntry).where(AuditEntry.action == "delete")).one()
    assert "Test User" in deleted.object_label


def test_administrator_cannot_disable_itself_from_the_page(
    admin_client: UIClient, session: Session, admin
) -> None:
    me, _ = admin
    response = admin_client.submit(f"/settings/users/{me.id}/active", {"active": "false"})
    assert response.status_code == 303
    session.refresh(me)
    assert me.is_active
    assert "cannot disable your own account" in admin_client.get(f"/settings/users/{me.id}").text


def test_reset_password_shows_the_new_password(admin_client: UIClient, session: Session) -> None:
    user, old = make_user(session)
    response = admin_client.submit(f"/settings/users/{user.id}/password")
    new = re.search(r'id="new-user-password">([^<]+)<', response.text)
    assert new is not None and new.group(1) != old


def test_history_filters_by_user_object_and_dates(admin_client: UIClient, session: Session, admin) -> None:
    me, _ = admin
    other, _ = make_user(session, full_name="Other Person")
    admin_client.submit(
        "/settings/general",
        {"company_name": "Shop", "time_zone": "Europe/Moscow", "currency": "RUB", "default_language": "en"},
    )

    mine = admin_client.get(f"/settings/history?user={me.id}").text
    assert "Settings #general" in mine
    settings_only = admin_client.get("/settings/history?object_type=settings").text
    assert "Settings #general" in settings_only and f"User #{other.id}" not in settings_only
    today = utcnow().date()
    future = admin_client.get(f"/settings/history?since={(today + timedelta(days=2)).isoformat()}").text
    assert "Nothing recorded for these filters" in future
    changes = admin_client.get("/settings/history?object_type=settings").text
    assert "Company name" in changes and "My company" in changes and "Shop" in changes
    assert "company_name" not in changes
