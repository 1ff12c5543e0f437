"""Idempotency-Key on API writes: one write per key, the stored answer replayed, misuse refused."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from smartcomm.api.deps import ApiGuard
from smartcomm.api.idempotency import IdempotentRoute
from smartcomm.intake.tasks import purge_idempotency
from smartcomm.kit.time import utcnow
from smartcomm.models import AuditEntry, Customer, Event, IdempotencyRecord, Receipt
from tests.api.conftest import ApiClient, api_client

RECEIPT = {
    "number": "R1",
    "store": "S1",
    "customer_external_id": "C-1",
    "purchased_at": "2026-01-10T10:00:00Z",
    "lines": [{"sku": "A", "quantity": "2", "price": "10.10"}],
}


def count(session: Session, model: type, *conditions: object) -> int:
    return int(session.scalar(select(func.count()).select_from(model).where(*conditions)) or 0)


def audit_rows(session: Session, object_type: str) -> int:
    return count(session, AuditEntry, AuditEntry.object_type == object_type)


def test_a_repeated_write_is_answered_from_the_first_without_running_again(
    api: ApiClient, session: Session
) -> None:
    first = api.put("/api/v1/customers/C-1", json={"first_name": "Ivan"}, key="order-42")
    again = api.put("/api/v1/customers/C-1", json={"first_name": "Ivan"}, key="order-42")

    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true" and "idempotent-replayed" not in first.headers
    assert count(session, Customer) == 1 and audit_rows(session, "customer") == 1
    assert count(session, IdempotencyRecord) == 1

    receipts = [
        api.post("/api/v1/receipts/batch", json={"receipts": [RECEIPT]}, key="batch-1") for _ in range(3)
    ]
    # Without the key the second call would answer "replaced": 1; with it, every answer is the first one.
    assert [r.json()["created"] for r in receipts] == [1, 1, 1]
    assert count(session, Receipt) == 1 and audit_rows(session, "receipt_batch") == 1
    assert api.get("/api/v1/customers/C-1").json()["receipt_count"] == 1


def test_the_body_is_compared_as_json(api: ApiClient, session: Session) -> None:
    api.client.put(
        "/api/v1/customers/C-1",
        content='{"first_name": "Ivan", "city": "Kazan"}',
        headers={
            "Authorization": f"Bearer {api.token}",
            "Idempotency-Key": "k",
            "Content-Type": "application/json",
        },
    )
    again = api.client.put(
        "/api/v1/customers/C-1",
        content='{"city":"Kazan","first_name":"Ivan"}',
        headers={
            "Authorization": f"Bearer {api.token}",
            "Idempotency-Key": "k",
            "Content-Type": "application/json",
        },
    )
    assert again.headers["idempotent-replayed"] == "true"
    assert audit_rows(session, "customer") == 1


def test_an_answer_without_a_body_is_replayed_too(api: ApiClient, session: Session) -> None:
    api.put("/api/v1/customers/C-1", json={"first_name": "Ivan"})
    contacts = {"push_tokens": [{"token": "fcm-token-0001", "platform": "android"}]}
    first = api.post("/api/v1/customers/C-1/contacts", json=contacts, key="push-1")
    again = api.post("/api/v1/customers/C-1/contacts", json=contacts, key="push-1")
    assert (first.status_code, again.status_code, again.content) == (204, 204, b"")
    assert again.headers["idempotent-replayed"] == "true"
    assert audit_rows(session, "customer") == 2  # the create, then one contacts change


def test_the_same_key_for_another_request_is_refused(api: ApiClient, session: Session) -> None:
    api.put("/api/v1/customers/C-1", json={"first_name": "Ivan"}, key="k-1")
    other_body = api.put("/api/v1/customers/C-1", json={"first_name": "Oleg"}, key="k-1")
    other_path = api.put("/api/v1/customers/C-2", json={"first_name": "Ivan"}, key="k-1")

    for response in (other_body, other_path):
        assert response.status_code == 422
        [error] = response.json()["errors"]
        assert (error["code"], error["field"]) == ("idempotency_key_reused", "Idempotency-Key")
    assert api.get("/api/v1/customers/C-1").json()["first_name"] == "Ivan"
    assert count(session, Customer) == 1


def test_a_failed_request_keeps_nothing_and_frees_its_key(api: ApiClient, session: Session) -> None:
    refused = api.post("/api/v1/receipts/batch", json={"receipts": [RECEIPT]}, key="retry-me")
    assert refused.status_code == 422  # the customer does not exist yet
    invalid = api.put("/api/v1/customers/C-1", json={"gender": "x"}, key="retry-me-too")
    assert invalid.status_code == 422
    assert count(session, IdempotencyRecord) == 0

    api.put("/api/v1/customers/C-1", json={"first_name": "Ivan"})
    accepted = api.post("/api/v1/receipts/batch", json={"receipts": [RECEIPT]}, key="retry-me")
    assert accepted.status_code == 200 and "idempotent-replayed" not in accepted.headers
    assert count(session, Receipt) == 1


def test_keys_belong_to_their_api_user(client: TestClient, api: ApiClient, session: Session) -> None:
    other = api_client(client, session, name="Second shop")
    api.put("/api/v1/customers/C-1", json={"first_name": "Ivan"}, key="shared")
    theirs = other.put("/api/v1/customers/C-1", json={"first_name": "Ivan"}, key="shared")
    assert theirs.status_code == 200 and "idempotent-replayed" not in theirs.headers
    stored = session.scalars(select(IdempotencyRecord.key).order_by(IdempotencyRecord.key)).all()
    assert sorted(stored) == sorted([f"{api.user.id}:shared", f"{other.user.id}:shared"])
    anonymous = client.put(
        "/api/v1/customers/C-1", json={"first_name": "Ivan"}, headers={"Idempotency-Key": "shared"}
    )
    assert anonymous.status_code == 401


def test_keys_are_limited_to_200_characters(api: ApiClient, session: Session) -> None:
    response = api.put("/api/v1/customers/C-1", json={"first_name": "Ivan"}, key="k" * 201)
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["Idempotency-Key"]
    assert count(session, Customer) == 0


def test_answers_expire_after_a_day(api: ApiClient, session: Session) -> None:
    api.put("/api/v1/customers/C-1", json={"first_name": "Ivan"}, key="old")
    api.put("/api/v1/customers/C-2", json={"first_name": "Anna"}, key="new")
    record = session.get(IdempotencyRecord, f"{api.user.id}:old")
    assert record is not None
    record.created_at = utcnow() - timedelta(hours=25)
    session.commit()

    again = api.put("/api/v1/customers/C-1", json={"first_name": "Ivan"}, key="old")
    assert again.status_code == 200 and "idempotent-replayed" not in again.headers  # ran again: now an update
    session.expire_all()
    session.get_one(IdempotencyRecord, f"{api.user.id}:old").created_at = utcnow() - timedelta(hours=25)
    session.commit()
    assert purge_idempotency.call_local() == 1
    assert session.scalars(select(IdempotencyRecord.key)).all() == [f"{api.user.id}:new"]


def test_every_api_write_that_needs_a_token_takes_a_key(app: FastAPI) -> None:
    writes = [
        context
        for context in iter_route_contexts(app.routes)
        if isinstance(context.original_route, APIRoute)
        and str(context.path).startswith("/api/v1/")
        and (context.methods or set()) & {"POST", "PUT", "PATCH", "DELETE"}
    ]
    guarded = [c for c in writes if any(isinstance(d.call, ApiGuard) for d in _all_dependencies(c.dependant))]
    assert len(guarded) >= 10
    assert [str(c.path) for c in guarded if not isinstance(c.original_route, IdempotentRoute)] == []


def _all_dependencies(dependant: Dependant) -> Iterator[Dependant]:
    for dependency in dependant.dependencies:
        yield dependency
        yield from _all_dependencies(dependency)


def test_events_sent_with_a_key_are_answered_from_the_first_request(api: ApiClient, session: Session) -> None:
    api.put("/api/v1/customers/C-1", json={"first_name": "Ivan"})
    body = {"events": [{"name": "app_opened", "customer_external_id": "C-1"}]}  # no message_id

    first = api.post("/api/v1/events", json=body, key="events-1")
    again = api.post("/api/v1/events", json=body, key="events-1")

    assert first.json() == again.json() == {"accepted": 1, "duplicates": 0}
    assert again.headers["idempotent-replayed"] == "true"
    assert count(session, Event) == 1 and audit_rows(session, "event_batch") == 1
