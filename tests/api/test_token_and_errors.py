"""POST /api/v1/token, bearer checks, the JSON error shape, the action history API, the rate limit."""

from __future__ import annotations

import time
from datetime import timedelta

import jwt
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from smartcomm.app import create_app
from smartcomm.audit.actor import Actor
from smartcomm.auth.checked_tokens import CheckedTokens
from smartcomm.auth.permissions import Role
from smartcomm.auth.schemas import UserUpdate
from smartcomm.auth.service import user_service
from smartcomm.config import config
from smartcomm.kit.time import utcnow
from tests.factories import make_user


def get_token(client: TestClient, email: str, password: str) -> str:
    response = client.post("/api/v1/token", json={"username": email, "password": password})
    assert response.status_code == 200, response.text
    assert response.json()["token_type"] == "bearer"
    return str(response.json()["access_token"])


def test_api_user_gets_a_token_and_reads_the_history(client: TestClient, session: Session) -> None:
    user, password = make_user(session, role="api", full_name="ERP link")
    token = get_token(client, user.email, password)
    response = client.get(
        "/api/v1/audit-entries?object_type=user", headers={"Authorization": f"Bearer {token}"}
    )

    assert response.status_code == 200
    body = response.json()
    actions = [(item["action"], item["object_id"]) for item in body["items"]]
    assert ("token", str(user.id)) in actions and ("create", str(user.id)) in actions
    assert body["page"] == 1 and body["total"] == len(body["items"])


@pytest.mark.parametrize("role", ["administrator", "marketer", "operator"])
def test_other_roles_cannot_obtain_tokens(client: TestClient, session: Session, role: str) -> None:
    user, password = make_user(session, role=role)
    response = client.post("/api/v1/token", json={"username": user.email, "password": password})
    assert response.status_code == 403
    assert response.json()["errors"][0]["code"] == "forbidden"


def test_wrong_password_is_401_with_json_errors(client: TestClient, session: Session) -> None:
    user, _ = make_user(session, role="api")
    response = client.post("/api/v1/token", json={"username": user.email, "password": "nope"})
    assert response.status_code == 401
    assert response.json() == {
        "errors": [
            {"status": 401, "code": "unauthorized", "title": "Wrong username or password", "field": None}
        ]
    }
    session.refresh(user)
    assert user.failed_logins == 1


def test_validation_errors_name_the_field(client: TestClient) -> None:
    response = client.post("/api/v1/token", json={"username": "x"})
    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert error["field"] == "password" and error["code"] == "missing"


def test_endpoints_need_a_valid_token(client: TestClient, session: Session) -> None:
    assert client.get("/api/v1/audit-entries").status_code == 401
    bad = client.get("/api/v1/audit-entries", headers={"Authorization": "Bearer not-a-token"})
    assert bad.status_code == 401 and bad.headers["www-authenticate"] == "Bearer"
    user, _ = make_user(session, role="api")
    claims = {"sub": str(user.id), "ver": 1, "aud": "smartcomm-api", "exp": utcnow() - timedelta(minutes=1)}
    expired = jwt.encode(claims, config.effective_secret_key, algorithm="HS256")
    assert (
        client.get("/api/v1/audit-entries", headers={"Authorization": f"Bearer {expired}"}).status_code == 401
    )
    without_end = {name: value for name, value in claims.items() if name != "exp"}
    endless = jwt.encode(without_end, config.effective_secret_key, algorithm="HS256")
    headers = {"Authorization": f"Bearer {endless}"}
    assert client.get("/api/v1/audit-entries", headers=headers).status_code == 401


def test_disabling_the_user_revokes_its_tokens(client: TestClient, session: Session) -> None:
    user, password = make_user(session, role="api")
    headers = {"Authorization": f"Bearer {get_token(client, user.email, password)}"}
    assert client.get("/api/v1/audit-entries", headers=headers).status_code == 200  # now a trusted token
    user_service.set_active(session, Actor.system("tests"), user.id, False)
    session.commit()
    assert client.get("/api/v1/audit-entries", headers=headers).status_code == 401


def test_a_new_role_counts_from_the_next_call(client: TestClient, session: Session) -> None:
    user, password = make_user(session, role="api")
    headers = {"Authorization": f"Bearer {get_token(client, user.email, password)}"}
    assert client.get("/api/v1/audit-entries", headers=headers).status_code == 200
    user_service.update(session, Actor.system("tests"), user.id, UserUpdate(role=Role.ANALYST))
    session.commit()
    assert client.get("/api/v1/audit-entries", headers=headers).status_code == 403


def test_a_checked_token_is_trusted_only_briefly(session: Session) -> None:
    user, _ = make_user(session, role="api")
    tokens = CheckedTokens(trust_seconds=0.05)
    tokens.remember("fresh", user, expires_at=time.time() + 3600)
    tokens.remember("expiring", user, expires_at=time.time() - 1)
    assert tokens.user("fresh") is user and tokens.user("expiring") is None
    time.sleep(0.06)
    assert tokens.user("fresh") is None


def test_query_parameters_are_validated_with_field_paths(client: TestClient, session: Session) -> None:
    user, password = make_user(session, role="api")
    headers = {"Authorization": f"Bearer {get_token(client, user.email, password)}"}
    response = client.get("/api/v1/audit-entries?page=0&since=yesterday", headers=headers)
    assert response.status_code == 422
    assert {e["field"] for e in response.json()["errors"]} == {"page", "since"}


def test_rate_limit_answers_429_with_a_json_body(session: Session) -> None:
    limited = create_app(rate_limit="3/minute")
    with TestClient(limited) as client:
        statuses = [client.get("/api/v1/audit-entries").status_code for _ in range(4)]
        assert statuses == [401, 401, 401, 429]
        response = client.get("/api/v1/audit-entries")
        assert client.get("/login").status_code == 200  # the interface is not limited
    assert response.status_code == 429
    assert response.json()["errors"][0]["code"] == "rate_limited"
    assert int(response.headers["retry-after"]) >= 1


def test_openapi_documents_the_api(client: TestClient) -> None:
    schema = client.get("/api/openapi.json").json()
    assert "/api/v1/token" in schema["paths"] and "/api/v1/audit-entries" in schema["paths"]
    assert not any(path.startswith("/settings") for path in schema["paths"])
    assert client.get("/api/docs").status_code == 200
