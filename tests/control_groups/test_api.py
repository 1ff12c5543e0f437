"""The global control group over the API: settings, draws with a seed, the report and a customer's stays."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from smartcomm.control_groups.draws import draw_key
from smartcomm.models import GlobalControlMember
from tests.api.conftest import ApiClient, api_client
from tests.control_groups.helpers import make_base, open_members


@pytest.fixture
def api(client: TestClient, session: Session) -> Iterator[ApiClient]:
    yield api_client(client, session)


def test_switching_on_drawing_with_a_seed_and_reading_back(api: ApiClient, session: Session) -> None:
    ids = make_base(session, 100)
    changed = api.patch("/api/v1/global-control", json={"enabled": True, "percent": 5}, key="on-1")
    assert changed.status_code == 200, changed.text
    assert changed.json()["members"] == 5 and changed.json()["settings"]["enabled"] is True

    drawn = api.post("/api/v1/global-control/draws", json={"seed": 99}, key="draw-1")

    assert drawn.status_code == 201, drawn.text
    assert (drawn.json()["seed"], drawn.json()["size"]) == (99, 5)
    assert open_members(session) == sorted(sorted(ids, key=lambda i: (draw_key(99, i), i))[:5])
    assert len(api.get("/api/v1/global-control/draws").json()) == 2
    stays = api.get(f"/api/v1/customers/G-{ids.index(open_members(session)[0]) + 1}/global-control").json()
    assert stays[0]["left_at"] is None
    report = api.get("/api/v1/global-control/report", params={"from": "2026-01-01", "to": "2026-12-31"})
    ever = set(session.scalars(select(GlobalControlMember.customer_id)))
    # Both draws fell in the period: every customer held out at some moment of it is in the group.
    assert report.status_code == 200 and report.json()["group"]["recipients"] == len(ever)


def test_a_refused_setting_names_its_field_and_changes_nothing(api: ApiClient, session: Session) -> None:
    response = api.patch("/api/v1/global-control", json={"enabled": True, "percent": 80}, key="bad-1")
    assert response.status_code == 422
    assert "percent" in response.text
    assert api.get("/api/v1/global-control").json()["settings"]["enabled"] is False


def test_drawing_while_measurement_is_off_is_a_conflict(api: ApiClient) -> None:
    assert api.post("/api/v1/global-control/draws", json={}, key="draw-off").status_code == 409
