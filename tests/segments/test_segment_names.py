"""Segment names are unique without regard to case over the API too: a duplicate is a 409 naming `name`."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from smartcomm.models import AuditEntry, Segment
from tests.api.conftest import ApiClient, api_client
from tests.segments.shop import Shop, build_shop

URL = "/api/v1/segments"


@pytest.fixture
def api(client: TestClient, session: Session) -> Iterator[ApiClient]:
    yield api_client(client, session)


@pytest.fixture
def shop(session: Session) -> Shop:
    made = build_shop(session)
    session.commit()
    return made


def counts(session: Session) -> tuple[int, int]:
    segments = session.scalar(select(func.count()).select_from(Segment))
    history = session.scalar(
        select(func.count()).select_from(AuditEntry).where(AuditEntry.object_type == "segment")
    )
    return int(segments or 0), int(history or 0)


def test_creating_a_duplicate_name_answers_409_naming_the_field(
    api: ApiClient, session: Session, shop: Shop
) -> None:
    assert api.post(URL, json={"name": "Любители молочного", "rules": shop.rules()}).status_code == 201
    before = counts(session)

    response = api.post(URL, json={"name": "ЛЮБИТЕЛИ молочного ", "rules": shop.rules()})

    assert response.status_code == 409
    (error,) = response.json()["errors"]
    assert (error["field"], error["code"], error["status"]) == ("name", "duplicate", 409)
    assert "already exists" in error["title"]
    assert counts(session) == before


def test_renaming_onto_another_name_is_refused_and_keeping_ones_own_is_not(
    api: ApiClient, session: Session, shop: Shop
) -> None:
    first = api.post(URL, json={"name": "Dairy lovers", "rules": shop.rules()}).json()["id"]
    second = api.post(URL, json={"name": "Sleepers", "rules": shop.rules()}).json()["id"]

    refused = api.patch(f"{URL}/{second}", json={"name": "dairy lovers"})
    kept = api.patch(f"{URL}/{first}", json={"name": "DAIRY LOVERS", "description": "Twice in 90 days"})

    assert refused.status_code == 409 and refused.json()["errors"][0]["field"] == "name"
    assert api.get(f"{URL}/{second}").json()["name"] == "Sleepers"
    assert kept.status_code == 200 and kept.json()["name"] == "DAIRY LOVERS"
