"""Fixtures of the ledger tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from smartcomm.delivery.tracking import links
from smartcomm.personalization.renderer import renderer
from tests.api.conftest import ApiClient, api_client


@pytest.fixture
def api(client: TestClient, session: Session) -> Iterator[ApiClient]:
    yield api_client(client, session)


@pytest.fixture(autouse=True)
def fresh_renderer() -> Iterator[None]:
    """Compiled templates are cached by version id for the life of a process; each test rolls back, so the
    next one may get the same ids for other templates."""
    renderer.forget()
    links.forget()
    yield
    renderer.forget()
    links.forget()
