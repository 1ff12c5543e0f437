"""Signing in and out of the back office, sessions, CSRF and the interface language."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from smartcomm.audit.actor import Actor
from smartcomm.auth.service import user_service
from smartcomm.models import AuditEntry, User
from tests.conftest import UIClient, extract_csrf
from tests.factories import make_user


def test_sign_in_lands_on_the_first_page_of_the_role(client: UIClient, session: Session) -> None:
    user, password = make_user(session, role="administrator")
    client.sign_in(user.email, password)

    assert client.get("/").headers["location"] == "/dashboard"
    session.refresh(user)
    assert user.last_login_at is not None
    last = session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert last is not None and (last.action, last.actor_id) == ("login", user.id)


def test_session_cookie_is_signed_http_only_and_same_site(client: UIClient, session: Session) -> None:
    user, password = make_user(session)
    csrf = extract_csrf(client.get("/login").text)
    response = client.post("/login", data={"email": user.email, "password": password, "csrf_token": csrf})
    cookie = response.headers["set-cookie"].lower()
    assert cookie.startswith("smartcomm_session=")
    assert "httponly" in cookie and "samesite=lax" in cookie
    assert client.get("/account").status_code == 200
    # A tampered cookie is not a session.
    (original,) = [c for c in client.cookies.jar if c.name == "smartcomm_session"]
    tampered = original.value[:-4] + ("AAAA" if not original.value.endswith("AAAA") else "BBBB")
    client.cookies.set("smartcomm_session", tampered, domain=original.domain)
    assert client.get("/account").status_code == 303


def test_wrong_password_shows_an_error_and_counts_the_failure(client: UIClient, session: Session) -> None:
    user, _ = make_user(session)
    csrf = extract_csrf(client.get("/login").text)
    response = client.post("/login", data={"email": user.email, "password": "nope", "csrf_token": csrf})

    assert response.status_code == 401
    assert "Wrong e-mail or password." in response.text
    session.refresh(user)
    assert user.failed_logins == 1


def test_locked_account_is_explained(client: UIClient, session: Session) -> None:
    user, password = make_user(session)
    csrf = extract_csrf(client.get("/login").text)
    for _ in range(5):
        client.post("/login", data={"email": user.email, "password": "bad", "csrf_token": csrf})
    response = client.post("/login", data={"email": user.email, "password": password, "csrf_token": csrf})
    assert response.status_code == 401
    assert "locked" in response.text


def test_api_users_cannot_use_the_interface(client: UIClient, session: Session) -> None:
    user, password = make_user(session, role="api")
    csrf = extract_csrf(client.get("/login").text)
    response = client.post("/login", data={"email": user.email, "password": password, "csrf_token": csrf})
    assert response.status_code == 401
    assert "REST API only" in response.text


def test_pages_need_a_session(client: UIClient) -> None:
    response = client.get("/settings/users?q=x")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2Fsettings%2Fusers%3Fq%3Dx"
    htmx = client.get("/settings/users", headers={"HX-Request": "true"})
    assert htmx.status_code == 204 and htmx.headers["HX-Redirect"].startswith("/login")


def test_sign_in_follows_only_local_next_urls(client: UIClient, session: Session) -> None:
    user, password = make_user(session, role="administrator")
    csrf = extract_csrf(client.get("/login").text)
    form = {"email": user.email, "password": password, "csrf_token": csrf, "next": "https://evil.example/"}
    assert client.post("/login", data=form).headers["location"] == "/"


def test_post_without_csrf_token_is_refused_and_writes_nothing(
    admin_client: UIClient, session: Session
) -> None:
    users_before = session.scalar(select(func.count()).select_from(User))
    form = {"email": "new@example.com", "full_name": "New", "role": "marketer", "language": "en"}
    response = admin_client.post("/settings/users", data=form)

    assert response.status_code == 403
    assert "expired" in response.text
    assert session.scalar(select(func.count()).select_from(User)) == users_before


def test_password_reset_ends_existing_sessions(admin_client: UIClient, session: Session, admin) -> None:
    user, _ = admin
    assert admin_client.get("/settings/users").status_code == 200
    user_service.reset_password(session, Actor.system("tests"), user.id)
    session.commit()
    assert admin_client.get("/settings/users").status_code == 303


def test_sign_out_ends_the_session(admin_client: UIClient, session: Session) -> None:
    response = admin_client.submit("/logout")
    assert response.headers["location"] == "/login"
    assert admin_client.get("/settings/users").status_code == 303
    last = session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert last is not None and last.action == "logout"


def test_interface_follows_the_users_language(client: UIClient, session: Session) -> None:
    user, password = make_user(session, role="administrator", language="ru")
    client.sign_in(user.email, password)
    page = client.get("/settings/users")
    assert "Пользователи" in page.text
    assert "Журнал действий" in page.text


def test_login_page_language_can_be_switched(client: UIClient) -> None:
    assert "Войдите в свою учётную запись" in client.get("/login?lang=ru").text
    assert "Sign in to your account" in client.get("/login?lang=en").text


def test_account_page_changes_name_language_and_password(
    admin_client: UIClient, session: Session, admin
) -> None:
    user, password = admin
    response = admin_client.submit("/account", {"full_name": "Anna B.", "language": "ru"})
    assert response.status_code == 303
    session.refresh(user)
    assert (user.full_name, user.language) == ("Anna B.", "ru")
    assert "Мой профиль" in admin_client.get("/account").text

    wrong = admin_client.submit(
        "/account/password", {"current_password": "nope", "new_password": "another-pass-1"}
    )
    assert wrong.status_code == 422
    ok = admin_client.submit(
        "/account/password", {"current_password": password, "new_password": "another-pass-1"}
    )
    assert ok.status_code == 303
    # This session survives its own password change.
    assert admin_client.get("/account").status_code == 200
