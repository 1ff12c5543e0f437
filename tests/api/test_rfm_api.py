"""The RFM analysis over the REST API: calculations, the latest thresholds and cells, a customer's cell."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import time_machine
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from smartcomm.models import RfmCalculation
from tests.api.conftest import ApiClient
from tests.rfm.conftest import NOW, Shop
from tests.rfm.test_calculation import ten_customers


@pytest.fixture
def shop(session: Session) -> Iterator[Shop]:
    with time_machine.travel(NOW, tick=False):
        yield Shop(session)


def test_start_a_calculation_and_read_its_results(shop: Shop, api: ApiClient, session: Session) -> None:
    ten_customers(shop)
    session.commit()
    assert api.get("/api/v1/rfm/calculations/latest").status_code == 404
    started = api.post("/api/v1/rfm/calculations")
    assert started.status_code == 202
    assert started.json()["status"] == "queued"  # the job runs once the request has committed

    latest = api.get("/api/v1/rfm/calculations/latest").json()
    assert (latest["id"], latest["status"], latest["scored"]) == (started.json()["id"], "done", 10)
    assert (latest["best"], latest["lost"], latest["period_days"], latest["base_segment_id"]) == (
        1,
        2,
        365,
        None,
    )
    assert latest["cells"]["111"] == 2 and sum(latest["cells"].values()) == 10
    assert latest["thresholds"]["r"][0] == {"score": 1, "min": 200, "max": 300}
    assert latest["thresholds"]["m"][-1] == {"score": 5, "min": "3000.00", "max": "5000.00"}
    assert [item["score"] for item in latest["thresholds"]["f"]] == [1, 2, 3, 5]

    listed = api.get("/api/v1/rfm/calculations").json()
    assert (listed["total"], listed["items"][0]["trigger"]) == (1, "manual")


def test_a_customer_cell(shop: Shop, api: ApiClient, session: Session) -> None:
    ten_customers(shop)
    api.post("/api/v1/rfm/calculations")
    found = api.get("/api/v1/customers/J/rfm").json()
    letters = ("scored", "r", "f", "m", "cell", "recency_days", "frequency", "monetary")
    assert {k: found[k] for k in letters} == {
        "scored": True, "r": 5, "f": 5, "m": 5, "cell": "555", "recency_days": 0, "frequency": 8,
        "monetary": "3000.00",
    }  # fmt: skip
    assert api.get("/api/v1/customers/K/rfm").json() == {
        "external_id": "K", "scored": False, "r": None, "f": None, "m": None, "cell": None,
        "recency_days": None, "frequency": None, "monetary": None, "calculation_id": None, "updated_at": None,
    }  # fmt: skip
    missing = api.get("/api/v1/customers/NOBODY/rfm")
    assert missing.status_code == 404


def test_a_second_start_while_one_runs_returns_it(shop: Shop, api: ApiClient, session: Session) -> None:
    running = RfmCalculation(trigger="schedule", status="running", started_at=NOW, period_days=365)
    session.add(running)
    session.commit()
    again = api.post("/api/v1/rfm/calculations")
    assert (again.status_code, again.json()["id"], again.json()["status"]) == (202, running.id, "running")
    assert session.scalar(select(func.count()).select_from(RfmCalculation)) == 1
