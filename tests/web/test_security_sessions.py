"""Signing out ends the session on the server: a copied session cookie opens nothing once its session has
ended (sign-out, a password change or reset, a role change, disabling, expiry, deletion), while the
user's other sessions go on as each case says."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
from fastapi import FastAPI
from itsdangerous import TimestampSigner
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from smartcomm.auth.service import user_service
from smartcomm.config import config
from smartcomm.kit.time import utcnow
from smartcomm.models import AuditEntry, User
from smartcomm.models.users import StaffSession
from tests.conftest import UIClient, extract_csrf
from tests.factories import make_user

COOKIE = "smartcomm_session"
Browsers = Callable[[], UIClient]


@pytest.fixture
def browsers(app: FastAPI, session: Session) -> Iterator[Browsers]:
    """Opens as many separate browsers (cookie jars) as a test needs."""
    opened: list[UIClient] = []

    def open_browser() -> UIClient:
        browser = UIClient(app, base_url="http://testserver", follow_redirects=False)
        opened.append(browser.__enter__())
        return browser

    yield open_browser
    for browser in opened:
        browser.__exit__(None, None, None)


def cookie_of(browser: UIClient) -> str:
    value = browser.cookies.get(COOKIE)
    assert value, "the browser holds no session cookie"
    return value


def replay(browsers: Browsers, cookie: str) -> int:
    """Open /account in a fresh browser carrying only a copied cookie; returns the status."""
    thief = browsers()
    thief.cookies.set(COOKIE, cookie)
    response = thief.get("/account")
    assert response.status_code != 303 or response.headers["location"].startswith("/login")
    return response.status_code


def open_sessions(session: Session, user: User) -> int:
    statement = select(func.count()).where(StaffSession.user_id == user.id, StaffSession.ended_at.is_(None))
    return int(session.scalar(statement) or 0)


def test_a_copied_cookie_is_refused_after_sign_out(browsers: Browsers, session: Session) -> None:
    user, password = make_user(session, role="marketer")
    browser = browsers()
    browser.sign_in(user.email, password)
    copied = cookie_of(browser)
    assert replay(browsers, copied) == 200  # a copy works while the session is open: it is the session

    assert browser.submit("/logout").headers["location"] == "/login"

    assert replay(browsers, copied) == 303
    ended = session.scalars(select(StaffSession).where(StaffSession.user_id == user.id)).one()
    assert ended.ended_at is not None and ended.ended_reason == "logout"


def test_a_password_change_ends_the_other_sessions_and_keeps_this_one(
    browsers: Browsers, session: Session
) -> None:
    user, password = make_user(session, role="analyst")
    laptop, phone = browsers(), browsers()
    laptop.sign_in(user.email, password)
    phone.sign_in(user.email, password)
    phone_cookie = cookie_of(phone)

    changed = laptop.submit(
        "/account/password", {"current_password": password, "new_password": "a-new-password-2"}
    )

    assert changed.status_code == 303
    assert laptop.get("/account").status_code == 200
    assert replay(browsers, cookie_of(laptop)) == 200
    assert phone.get("/account").status_code == 303
    assert replay(browsers, phone_cookie) == 303
    assert open_sessions(session, user) == 1
    # The new password signs in; the old one does not.
    browsers().sign_in(user.email, "a-new-password-2")


def test_a_wrong_current_password_ends_no_session(browsers: Browsers, session: Session) -> None:
    user, password = make_user(session, role="analyst")
    laptop, phone = browsers(), browsers()
    laptop.sign_in(user.email, password)
    phone.sign_in(user.email, password)

    refused = laptop.submit("/account/password", {"current_password": "nope", "new_password": "whatever-3"})

    assert refused.status_code == 422
    assert phone.get("/account").status_code == 200
    assert open_sessions(session, user) == 2


def test_a_password_reset_by_an_administrator_ends_every_session(
    admin_client: UIClient, browsers: Browsers, session: Session
) -> None:
    user, password = make_user(session, role="marketer")
    browser = browsers()
    browser.sign_in(user.email, password)
    copied = cookie_of(browser)

    assert admin_client.submit(f"/settings/users/{user.id}/password").status_code == 200

    assert browser.get("/segments").status_code == 303
    assert replay(browsers, copied) == 303
    assert admin_client.get("/settings/users").status_code == 200  # the administrator stays signed in


def test_a_role_change_ends_every_session_of_the_user(
    admin_client: UIClient, browsers: Browsers, session: Session
) -> None:
    user, password = make_user(session, role="marketer", full_name="Sam")
    browser = browsers()
    browser.sign_in(user.email, password)
    copied = cookie_of(browser)
    form = {"full_name": "Sam", "email": user.email, "role": "analyst", "language": "en", "is_active": "true"}

    assert admin_client.submit(f"/settings/users/{user.id}", form | {"expires_on": ""}).status_code == 303

    assert replay(browsers, copied) == 303
    assert browser.get("/account").status_code == 303
    # Signing in again gives a session of the new role.
    browser.sign_in(user.email, password)
    assert browser.get("/segments/new").status_code == 403


def test_an_edit_that_keeps_the_role_keeps_the_sessions(
    admin_client: UIClient, browsers: Browsers, session: Session
) -> None:
    user, password = make_user(session, role="marketer", full_name="Sam")
    browser = browsers()
    browser.sign_in(user.email, password)
    form = {"full_name": "Sam Smith", "email": user.email, "role": "marketer", "language": "en"}

    assert admin_client.submit(f"/settings/users/{user.id}", form | {"is_active": "true"}).status_code == 303

    assert browser.get("/account").status_code == 200


def test_disabling_expiry_and_deletion_end_the_sessions(
    admin_client: UIClient, browsers: Browsers, session: Session
) -> None:
    disabled, expired, deleted = (make_user(session, role="operator") for _ in range(3))
    cookies = {}
    for name, (user, password) in {"disabled": disabled, "expired": expired, "deleted": deleted}.items():
        browser = browsers()
        browser.sign_in(user.email, password)
        cookies[name] = cookie_of(browser)

    admin_client.submit(f"/settings/users/{disabled[0].id}/active", {"active": "false"})
    expired[0].expires_on = (utcnow() - timedelta(days=1)).date()
    session.commit()
    assert user_service.expire_users(session) == 1
    session.commit()
    admin_client.submit(f"/settings/users/{deleted[0].id}/delete")

    assert {name: replay(browsers, cookie) for name, cookie in cookies.items()} == {
        "disabled": 303,
        "expired": 303,
        "deleted": 303,
    }
    reasons = session.scalars(
        select(StaffSession.ended_reason).where(StaffSession.user_id.in_([disabled[0].id, expired[0].id]))
    ).all()
    assert sorted(reasons) == ["disabled", "expired"]
    assert session.scalar(select(func.count()).where(StaffSession.user_id == deleted[0].id)) == 0


def test_the_cookie_carries_a_random_token_and_the_table_only_its_hash(
    browsers: Browsers, session: Session
) -> None:
    user, password = make_user(session)
    browser = browsers()
    browser.sign_in(user.email, password)
    row = session.scalars(select(StaffSession).where(StaffSession.user_id == user.id)).one()
    assert len(row.token_hash) == 64
    assert row.token_hash not in cookie_of(browser)
    assert (row.ip_address, row.user_agent) == ("testclient", "testclient")


def test_a_session_unused_for_longer_than_its_lifetime_is_over(browsers: Browsers, session: Session) -> None:
    user, password = make_user(session)
    browser = browsers()
    browser.sign_in(user.email, password)
    row = session.scalars(select(StaffSession).where(StaffSession.user_id == user.id)).one()
    row.last_seen_at = utcnow() - timedelta(hours=13)
    session.commit()

    assert browser.get("/account").status_code == 303


def test_pages_note_when_a_session_was_last_used_at_most_once_a_minute(
    browsers: Browsers, session: Session
) -> None:
    user, password = make_user(session)
    browser = browsers()
    browser.sign_in(user.email, password)
    row = session.scalars(select(StaffSession).where(StaffSession.user_id == user.id)).one()
    signed_in_at = row.last_seen_at
    browser.get("/account")
    session.refresh(row)
    assert row.last_seen_at == signed_in_at  # seconds later: not written again

    row.last_seen_at = signed_in_at - timedelta(minutes=5)
    session.commit()
    assert browser.get("/account").status_code == 200
    session.refresh(row)
    assert row.last_seen_at > signed_in_at - timedelta(minutes=1)


def test_the_csrf_token_is_rotated_at_sign_in(browsers: Browsers, session: Session) -> None:
    user, password = make_user(session, role="administrator")
    browser = browsers()
    before = extract_csrf(browser.get("/login").text)
    response = browser.post("/login", data={"email": user.email, "password": password, "csrf_token": before})
    assert response.status_code == 303
    after = extract_csrf(browser.get("/account").text)

    assert after != before
    users = session.scalar(select(func.count()).select_from(User))
    stale = browser.post(
        "/settings/users",
        data={"email": "n@example.com", "full_name": "N", "role": "marketer", "csrf_token": before},
    )
    assert stale.status_code == 403
    assert session.scalar(select(func.count()).select_from(User)) == users


def test_the_account_page_lists_the_sessions_and_signs_out_the_others(
    browsers: Browsers, session: Session
) -> None:
    user, password = make_user(session, role="designer")
    laptop, phone = browsers(), browsers()
    laptop.sign_in(user.email, password)
    phone.sign_in(user.email, password)

    page = laptop.get("/account").text
    assert page.count("data-session=") == 2
    assert "This session" in page and 'id="end-other-sessions"' in page

    assert laptop.submit("/account/sessions/end-others").status_code == 303

    assert phone.get("/account").status_code == 303
    page = laptop.get("/account").text
    assert page.count("data-session=") == 1 and 'id="end-other-sessions"' not in page
    entry = session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert entry is not None and (entry.action, entry.actor_id) == ("end_sessions", user.id)
    assert entry.changes == {"open_sessions": [2, 1]}


def test_a_signed_cookie_naming_a_user_opens_nothing_without_a_session(
    browsers: Browsers, session: Session
) -> None:
    user, _ = make_user(session, role="administrator")
    # A cookie signed with the right key that names the user (what a sign-in used to store) is not a
    # session: only a token of an open server-side session is.
    content = base64.b64encode(json.dumps({"uid": user.id, "ver": user.session_version}).encode())
    forged = TimestampSigner(config.effective_secret_key).sign(content).decode()

    assert replay(browsers, forged) == 303
