"""POST /api/v1/events: customer and system events in one set-based insert, deduplicated by message_id."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from smartcomm.kit.time import utcnow
from smartcomm.models import AuditEntry, Event, EventSource
from smartcomm.models.events import SYSTEM_SOURCE_CODE
from tests.events.conftest import make_customer


def count_events(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(Event)) or 0)


def event_batches(session: Session) -> list[AuditEntry]:
    return list(session.scalars(select(AuditEntry).where(AuditEntry.object_type == "event_batch")))


def add_source(session: Session, code: str, *, active: bool = True) -> EventSource:
    source = EventSource(code=code, name=code.title(), is_active=active, write_key=f"key-{code}")
    session.add(source)
    session.flush()
    return source


def test_customer_and_system_events_are_stored_in_one_batch(
    client: TestClient, session: Session, api_headers: dict[str, str]
) -> None:
    anna = make_customer(session, "C-1")
    app_source = add_source(session, "mobile-app")
    body = {
        "events": [
            {
                "name": "called_call_centre",
                "customer_external_id": "C-1",
                "occurred_at": "2026-03-01T10:00:00+03:00",
                "context": {"topic": "delivery"},
                "source": "mobile-app",
            },
            {"name": "survey_done", "customer_id": anna.id},
            {"name": "back_in_stock", "context": {"sku": "BAG-1"}},
        ]
    }
    before = utcnow()
    response = client.post("/api/v1/events", json=body, headers=api_headers)

    assert response.status_code == 200, response.text
    assert response.json() == {"accepted": 3, "duplicates": 0}
    stored = {e.name: e for e in session.scalars(select(Event))}
    system_source = session.scalars(select(EventSource).where(EventSource.code == SYSTEM_SOURCE_CODE)).one()
    called = stored["called_call_centre"]
    assert (called.customer_id, called.source_id) == (anna.id, app_source.id)
    assert called.occurred_at == datetime(2026, 3, 1, 7, 0, tzinfo=UTC)
    assert called.context == {"topic": "delivery"}
    assert (stored["survey_done"].customer_id, stored["survey_done"].source_id) == (anna.id, system_source.id)
    assert stored["survey_done"].occurred_at >= before
    assert stored["back_in_stock"].customer_id is None  # a system event concerns everyone
    [audit] = event_batches(session)
    assert audit.changes == {"accepted": [None, 3], "duplicates": [None, 0]}


def test_a_repeated_message_id_is_ignored(
    client: TestClient, session: Session, api_headers: dict[str, str]
) -> None:
    make_customer(session, "C-1")
    first = {"name": "visit_shop", "customer_external_id": "C-1", "message_id": "m-1"}
    batch = {"events": [first, {**first, "name": "again"}, {"name": "other", "message_id": "m-2"}]}
    response = client.post("/api/v1/events", json=batch, headers=api_headers)
    assert response.json() == {"accepted": 2, "duplicates": 1}

    again = client.post("/api/v1/events", json={"events": [first]}, headers=api_headers)

    assert again.status_code == 200
    assert again.json() == {"accepted": 0, "duplicates": 1}
    assert count_events(session) == 2
    assert session.scalars(select(Event.name).where(Event.message_id == "m-1")).all() == ["visit_shop"]


def test_an_unknown_customer_rejects_the_batch_naming_the_event(
    client: TestClient, session: Session, api_headers: dict[str, str]
) -> None:
    make_customer(session, "C-1")
    body = {
        "events": [
            {"name": "ok", "customer_external_id": "C-1"},
            {"name": "ghost", "customer_external_id": "NOBODY"},
            {"name": "ghost by id", "customer_id": 987654},
        ]
    }
    response = client.post("/api/v1/events", json=body, headers=api_headers)

    assert response.status_code == 422
    fields = [error["field"] for error in response.json()["errors"]]
    assert fields == ["events[1].customer_external_id", "events[2].customer_id"]
    assert count_events(session) == 0
    assert event_batches(session) == []


def test_times_without_an_offset_and_unknown_or_inactive_sources_are_refused(
    client: TestClient, session: Session, api_headers: dict[str, str]
) -> None:
    add_source(session, "old-site", active=False)
    naive = client.post(
        "/api/v1/events",
        json={"events": [{"name": "x", "occurred_at": "2026-03-01T10:00:00"}]},
        headers=api_headers,
    )
    sources = client.post(
        "/api/v1/events",
        json={"events": [{"name": "x", "source": "nowhere"}, {"name": "y", "source": "old-site"}]},
        headers=api_headers,
    )

    assert naive.status_code == 422
    assert naive.json()["errors"][0]["field"] == "events[0].occurred_at"
    assert sources.status_code == 422
    assert [(e["field"], e["code"]) for e in sources.json()["errors"]] == [
        ("events[0].source", "unknown"),
        ("events[1].source", "inactive"),
    ]
    assert count_events(session) == 0


def test_a_batch_holds_one_to_a_thousand_events(client: TestClient, api_headers: dict[str, str]) -> None:
    empty = client.post("/api/v1/events", json={"events": []}, headers=api_headers)
    too_many = client.post("/api/v1/events", json={"events": [{"name": "x"}] * 1001}, headers=api_headers)
    assert (empty.status_code, too_many.status_code) == (422, 422)
    assert empty.json()["errors"][0]["field"] == "events"


def test_a_customers_events_are_read_newest_first_page_by_page(
    client: TestClient, session: Session, api_headers: dict[str, str]
) -> None:
    make_customer(session, "C-1")
    make_customer(session, "C-2")
    start = datetime(2026, 1, 1, tzinfo=UTC)
    events = [
        {
            "name": f"e{day}",
            "customer_external_id": "C-1",
            "occurred_at": (start + timedelta(days=day)).isoformat(),
        }
        for day in range(3)
    ]
    events.append({"name": "not mine", "customer_external_id": "C-2"})
    client.post("/api/v1/events", json={"events": events}, headers=api_headers)

    first = client.get("/api/v1/customers/C-1/events?size=2", headers=api_headers).json()
    second = client.get("/api/v1/customers/C-1/events?size=2&page=2", headers=api_headers).json()

    assert [e["name"] for e in first["items"]] == ["e2", "e1"]
    assert [e["name"] for e in second["items"]] == ["e0"]
    assert (first["total"], first["pages"]) == (3, 2)
    assert first["items"][0]["source"] == SYSTEM_SOURCE_CODE
    missing = client.get("/api/v1/customers/NOBODY/events", headers=api_headers)
    assert missing.status_code == 404
