"""Request limits that hold: the API's per-address limit counts exactly, X-Forwarded-For is believed only
from configured proxies (for the limits and for the action history alike), and sign-ins and the
Segment-compatible intake have limits of their own."""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from smartcomm.api.ratelimit import RateLimits
from smartcomm.app import create_app
from smartcomm.models import AuditEntry, Event, User
from smartcomm.models.users import StaffSession
from tests.conftest import UIClient, extract_csrf
from tests.factories import make_user
from tests.tracking.conftest import add_source, basic

PROXY = "10.0.0.1"
SPOOFER = "203.0.113.7"


def limited_app(*, trusted: list[str] | None = None, **limits: str) -> FastAPI:
    chosen = {
        "api": "1000/minute",
        "intake": "1000/minute",
        "intake_key": "1000/minute",
        "sign_in": "100/minute",
    }
    return create_app(rate_limits=RateLimits(**(chosen | limits)), trusted_proxies=trusted or [])


@pytest.fixture
def clients(session: Session) -> Iterator[Any]:
    """Opens test clients on an app, as seen from a given peer address."""
    opened: list[TestClient] = []

    def open_client(app: FastAPI, peer: str = SPOOFER, ui: bool = False) -> TestClient:
        kind = UIClient if ui else TestClient
        client = kind(app, base_url="http://testserver", follow_redirects=False, client=(peer, 40000))
        opened.append(client.__enter__())
        return client

    yield open_client
    for client in opened:
        client.__exit__(None, None, None)


def forwarded(address: str) -> dict[str, str]:
    return {"X-Forwarded-For": address}


# ---- the API's per-address limit counts exactly --------------------------------------------------------


def test_a_steady_40_requests_a_second_see_429_from_the_1001st_request_of_the_minute(clients: Any) -> None:
    client = clients(limited_app())
    # Half-way through a clock minute: a limiter that counts by fixed or weighted windows lets requests
    # through again once a new window starts, before a minute has passed.
    start = datetime(2026, 12, 1, 12, 0, 30, 500_000, tzinfo=UTC)
    statuses = []
    with time_machine.travel(start, tick=False) as clock:
        for number in range(2400):  # one minute at 40 a second
            clock.move_to(start + timedelta(seconds=number / 40))
            statuses.append(client.get("/api/v1/audiences").status_code)
        clock.move_to(start + timedelta(seconds=60.01))
        after_a_minute = client.get("/api/v1/audiences")

    assert 429 not in statuses[:1000]
    assert set(statuses[1000:]) == {429}
    assert after_a_minute.status_code == 401  # the first request of the minute has left the window


def test_the_429_is_the_usual_json_error_with_retry_after(clients: Any) -> None:
    client = clients(limited_app(api="2/minute"))
    assert [client.get("/api/v1/audiences").status_code for _ in range(2)] == [401, 401]

    refused = client.get("/api/v1/audiences")

    assert refused.status_code == 429
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    (error,) = refused.json()["errors"]
    assert (error["status"], error["code"], error["field"]) == (429, "rate_limited", None)
    assert "2 per 1 minute" in error["title"]


@pytest.fixture
def redis_url() -> Iterator[str]:
    url = os.environ.get("SMARTCOMM_TEST_REDIS_URL")
    if url:
        yield url
        return
    import services

    with services.redis() as started:
        yield started


def test_with_redis_every_web_process_shares_the_moving_window(clients: Any, redis_url: str) -> None:
    limits = {"api": "3/minute", "intake": "9/minute", "intake_key": "9/minute", "sign_in": "9/minute"}
    first, second = (create_app(rate_limits=RateLimits(**limits, redis_url=redis_url)) for _ in range(2))
    peer = f"198.18.{secrets.randbelow(250)}.{secrets.randbelow(250)}"  # a fresh address on a shared Redis
    one, other = clients(first, peer), clients(second, peer)

    statuses = [client.get("/api/v1/audiences").status_code for client in (one, other, one, other)]

    assert statuses == [401, 401, 401, 429]


# ---- X-Forwarded-For: believed from trusted proxies only -----------------------------------------------


def test_a_client_cannot_pick_its_address_with_x_forwarded_for(clients: Any) -> None:
    client = clients(limited_app(api="3/minute"))
    statuses = [
        client.get("/api/v1/audiences", headers=forwarded(f"198.51.100.{n}")).status_code for n in range(4)
    ]
    assert statuses == [401, 401, 401, 429]


def test_behind_a_trusted_proxy_each_forwarded_client_has_its_own_limit(clients: Any) -> None:
    app = limited_app(api="3/minute", trusted=[PROXY])
    proxy = clients(app, PROXY)
    first = [proxy.get("/api/v1/audiences", headers=forwarded("198.51.100.1")).status_code for _ in range(4)]
    second = proxy.get("/api/v1/audiences", headers=forwarded("198.51.100.2"))

    assert first == [401, 401, 401, 429]
    assert second.status_code == 401


def test_proxies_may_be_named_by_network(clients: Any) -> None:
    app = limited_app(api="1/minute", trusted=["10.0.0.0/8"])
    proxy = clients(app, "10.20.30.40")
    assert proxy.get("/api/v1/audiences", headers=forwarded("198.51.100.1")).status_code == 401
    assert proxy.get("/api/v1/audiences", headers=forwarded("198.51.100.2")).status_code == 401


def sign_in_through(client: TestClient, user: User, password: str, headers: dict[str, str]) -> None:
    csrf = extract_csrf(client.get("/login", headers=headers).text)
    form = {"email": user.email, "password": password, "csrf_token": csrf}
    assert client.post("/login", data=form, headers=headers).status_code == 303


def last_sign_in(session: Session, user: User) -> AuditEntry:
    statement = select(AuditEntry).where(AuditEntry.actor_id == user.id, AuditEntry.action == "login")
    entry = session.scalars(statement.order_by(AuditEntry.id.desc())).first()
    assert entry is not None
    return entry


def test_the_action_history_ignores_a_spoofed_address(clients: Any, session: Session) -> None:
    user, password = make_user(session, role="administrator")
    sign_in_through(clients(limited_app()), user, password, forwarded("198.51.100.9"))

    assert last_sign_in(session, user).ip_address == SPOOFER
    staff_session = session.scalars(select(StaffSession).where(StaffSession.user_id == user.id)).one()
    assert staff_session.ip_address == SPOOFER


def test_the_action_history_keeps_the_address_a_trusted_proxy_forwards(
    clients: Any, session: Session
) -> None:
    user, password = make_user(session, role="administrator")
    app = limited_app(trusted=[PROXY])
    # A client's own X-Forwarded-For comes first; the proxy appends the address it saw.
    sign_in_through(clients(app, PROXY), user, password, forwarded("192.0.2.66, 198.51.100.9"))

    assert last_sign_in(session, user).ip_address == "198.51.100.9"


# ---- sign-in limits: per address and per account -------------------------------------------------------


def login_attempt(client: TestClient, email: str, headers: dict[str, str] | None = None) -> Any:
    csrf = extract_csrf(client.get("/login").text)
    form = {"email": email, "password": "wrong-password", "csrf_token": csrf}
    return client.post("/login", data=form, headers=headers or {})


def test_sign_ins_from_one_address_are_limited(clients: Any, session: Session) -> None:
    client = clients(limited_app(sign_in="3/minute"))
    users = [make_user(session)[0] for _ in range(4)]
    statuses = [login_attempt(client, user.email).status_code for user in users]

    assert statuses == [401, 401, 401, 429]
    refused = login_attempt(client, users[0].email)
    assert "Too many sign-in attempts" in refused.text and 'id="email"' in refused.text
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    session.refresh(users[3])
    assert users[3].failed_logins == 0  # a refused attempt checks no password and counts no failure


def test_sign_ins_to_one_account_are_limited_whatever_the_address(clients: Any, session: Session) -> None:
    proxy = clients(limited_app(sign_in="3/minute", trusted=[PROXY]), PROXY)
    user, _ = make_user(session)
    statuses = [
        login_attempt(proxy, user.email.upper(), forwarded(f"198.51.100.{n}")).status_code for n in range(4)
    ]
    assert statuses == [401, 401, 401, 429]

    other, other_password = make_user(session)
    csrf = extract_csrf(proxy.get("/login").text)
    form = {"email": other.email, "password": other_password, "csrf_token": csrf}
    assert proxy.post("/login", data=form, headers=forwarded("198.51.100.99")).status_code == 303


def test_token_requests_share_the_sign_in_limits(clients: Any, session: Session) -> None:
    client = clients(limited_app(sign_in="2/minute"))
    user, password = make_user(session, role="api")
    body = {"username": user.email, "password": "wrong"}
    assert [client.post("/api/v1/token", json=body).status_code for _ in range(2)] == [401, 401]

    refused = client.post("/api/v1/token", json={"username": user.email, "password": password})

    assert refused.status_code == 429
    assert refused.headers["retry-after"]
    assert refused.json()["errors"][0]["code"] == "rate_limited"
    assert "access_token" not in refused.text


# ---- the Segment-compatible intake ---------------------------------------------------------------------


def track(write_key: str, event: str = "Viewed") -> dict[str, Any]:
    return {"type": "track", "event": event, "anonymousId": "visitor-1", "writeKey": write_key}


def events(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(Event)) or 0)


def test_the_intake_limits_each_address(clients: Any, session: Session) -> None:
    source = add_source(session, "shop")
    session.commit()
    client = clients(limited_app(intake="2/minute"))
    statuses = [client.post("/v1/track", json=track(source.write_key)).status_code for _ in range(3)]

    assert statuses == [200, 200, 429]
    assert events(session) == 2


def test_the_intake_limits_each_write_key_from_the_body_or_basic_credentials(
    clients: Any, session: Session
) -> None:
    shop, app_source = add_source(session, "shop"), add_source(session, "app")
    session.commit()
    proxy = clients(limited_app(intake_key="3/minute", trusted=[PROXY]), PROXY)

    def send(number: int, key: str, *, in_body: bool) -> int:
        headers = forwarded(f"198.51.100.{number}") | ({} if in_body else basic(key))
        body = track(key) if in_body else {k: v for k, v in track(key).items() if k != "writeKey"}
        return proxy.post("/v1/track", content=json.dumps(body), headers=headers).status_code

    statuses = [send(n, shop.write_key, in_body=n % 2 == 0) for n in range(4)]
    assert statuses == [200, 200, 200, 429]
    assert send(9, app_source.write_key, in_body=True) == 200
    assert events(session) == 4
