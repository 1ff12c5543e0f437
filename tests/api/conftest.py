"""An authenticated REST API client for the API tests."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from smartcomm.models import User
from tests.factories import make_user


class ApiClient:
    """Sends requests with the bearer token of one API user."""

    def __init__(self, client: TestClient, user: User, token: str) -> None:
        self.client, self.user, self.token = client, user, token

    def request(self, method: str, url: str, *, key: str | None = None, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.token}", **kwargs.pop("headers", {})}
        if key is not None:
            headers["Idempotency-Key"] = key
        return self.client.request(method, url, headers=headers, **kwargs)

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", url, **kwargs)

    def put(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("PUT", url, **kwargs)

    def patch(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("PATCH", url, **kwargs)


def api_client(client: TestClient, session: Session, name: str = "ERP link") -> ApiClient:
    user, password = make_user(session, role="api", full_name=name)
    response = client.post("/api/v1/token", json={"username": user.email, "password": password})
    assert response.status_code == 200, response.text
    return ApiClient(client, user, response.json()["access_token"])


@pytest.fixture
def api(client: TestClient, session: Session) -> Iterator[ApiClient]:
    yield api_client(client, session)
