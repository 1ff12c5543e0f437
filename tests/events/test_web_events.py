"""Web events: sessions, snapshots, the reference tracker's field names, and the identification merge."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from smartcomm.containers.service import container_service
from smartcomm.events.schemas import WebEventIn
from smartcomm.events.web_events import web_event_service
from smartcomm.kit.errors import InvalidInput
from smartcomm.models import Event, Visitor, WebEvent, WebSession
from tests.events.conftest import make_customer, make_product

T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def at(minutes: float = 0, days: float = 0) -> str:
    return (T0 + timedelta(minutes=minutes, days=days)).isoformat()


def write(session: Session, *events: dict[str, Any]) -> int:
    items = [WebEventIn.model_validate(event) for event in events]
    return web_event_service.write(session, items, path="web_events")


def web_events(session: Session) -> list[WebEvent]:
    return list(session.scalars(select(WebEvent).order_by(WebEvent.occurred_at, WebEvent.id)))


def sessions(session: Session) -> list[WebSession]:
    return list(session.scalars(select(WebSession).order_by(WebSession.started_at)))


def test_a_visit_starts_a_session_that_later_events_continue(session: Session) -> None:
    make_product(session, "BAG-1", "Leather bag", "4990.00")
    write(
        session,
        {"kind": "visit", "visitor_id": "v1", "occurred_at": at(0), "url": "https://shop.example/"},
        {"kind": "product_view", "visitor_id": "v1", "occurred_at": at(5), "sku": "BAG-1"},
        {"kind": "section_view", "visitor_id": "v1", "occurred_at": at(20), "section": "promo_spring"},
        # 90 minutes later without a visit: the old session has ended, a new one starts.
        {"kind": "product_view", "visitor_id": "v1", "occurred_at": at(110), "sku": "BAG-1"},
        {"kind": "visit", "visitor_id": "v2", "occurred_at": at(1)},
    )

    first, other, late = sessions(session)
    assert (first.visitor_id, first.event_count, first.started_at, first.last_event_at) == (
        "v1",
        3,
        T0,
        T0 + timedelta(minutes=20),
    )
    assert (other.visitor_id, other.event_count) == ("v2", 1)
    assert (late.visitor_id, late.event_count, late.started_at) == ("v1", 1, T0 + timedelta(minutes=110))
    assert [e.session_id for e in web_events(session) if e.visitor_id == "v1"] == [first.id] * 3 + [late.id]
    visitor = session.get(Visitor, "v1")
    assert visitor is not None
    assert (visitor.first_seen_at, visitor.last_seen_at, visitor.customer_id) == (
        T0,
        T0 + timedelta(minutes=110),
        None,
    )


def test_sessions_with_a_key_are_continued_across_requests(session: Session) -> None:
    write(session, {"kind": "visit", "visitor_id": "v1", "session": "S-1", "occurred_at": at(0)})
    write(
        session,
        {
            "kind": "section_view",
            "visitor_id": "v1",
            "session": "S-1",
            "occurred_at": at(3),
            "section": "sale",
        },
    )
    write(session, {"kind": "section_view", "visitor_id": "v1", "occurred_at": at(4), "section": "sale"})

    [only] = sessions(session)
    assert (only.key, only.event_count, only.last_event_at) == ("S-1", 3, T0 + timedelta(minutes=4))


def test_the_snapshot_keeps_the_product_as_it_was_when_viewed(session: Session) -> None:
    bag = make_product(session, "BAG-1", "Leather bag", "4990.00", category=("bags", "Bags"))
    write(session, {"kind": "product_view", "visitor_id": "v1", "sku": "BAG-1", "occurred_at": at(0)})
    bag.price = Decimal("3990.00")
    bag.name = "Leather bag (sale)"
    session.flush()
    write(session, {"kind": "product_view", "visitor_id": "v1", "sku": "BAG-1", "occurred_at": at(5)})
    write(session, {"kind": "category_view", "visitor_id": "v1", "category": "bags", "occurred_at": at(6)})

    before, after, category = web_events(session)
    assert before.snapshot == {
        "sku": "BAG-1",
        "name": "Leather bag",
        "price": "4990.00",
        "category": {"code": "bags", "name": "Bags"},
    }
    assert (after.snapshot["price"], after.snapshot["name"]) == ("3990.00", "Leather bag (sale)")
    assert before.product_id == bag.id and before.category_id == bag.category_id
    assert category.snapshot == {"code": "bags", "name": "Bags"}


def test_the_reference_tracker_field_names_are_accepted(
    client: TestClient, session: Session, api_headers: dict[str, str]
) -> None:
    anna = make_customer(session, "C-1")
    make_product(session, "BAG-1", "Leather bag", "4990.00")
    body = {
        "web_events": [
            {
                "name": "user_visit",
                "client_id": "C-1",
                "date": at(0),
                "source_id": "online-store",
                "session_id": 77,
            },
            {
                "name": "product_view",
                "client_id": "C-1",
                "date": at(1),
                "session_id": 77,
                "product_id": "BAG-1",
                "price": 4500,
            },
        ]
    }
    response = client.post("/api/v1/web-events", json=body, headers=api_headers)

    assert response.status_code == 200, response.text
    assert response.json() == {"accepted": 2, "duplicates": 0}
    visit, view = web_events(session)
    assert (visit.kind, visit.customer_id, view.kind, view.snapshot["sku"]) == (
        "visit",
        anna.id,
        "product_view",
        "BAG-1",
    )
    assert view.context == {"price": "4500"}
    [only] = sessions(session)
    assert (only.key, only.customer_id, only.event_count) == ("77", anna.id, 2)
    listed = client.get("/api/v1/customers/C-1/web-events", headers=api_headers).json()
    assert [e["kind"] for e in listed["items"]] == ["product_view", "visit"]
    listed_sessions = client.get("/api/v1/customers/C-1/web-sessions", headers=api_headers).json()
    assert [s["key"] for s in listed_sessions["items"]] == ["77"]


def test_logging_in_attaches_the_last_60_days_of_anonymous_behaviour(session: Session) -> None:
    anna = make_customer(session, "C-1")
    write(
        session,
        {"kind": "visit", "visitor_id": "v1", "occurred_at": at(days=-61)},
        {"kind": "visit", "visitor_id": "v1", "occurred_at": at(days=-59)},
        {"kind": "visit", "visitor_id": "v1", "occurred_at": at(days=-1)},
        {"kind": "visit", "visitor_id": "someone-else", "occurred_at": at(days=-1)},
    )
    session.add(
        Event(visitor_id="v1", name="Product Clicked", occurred_at=T0 - timedelta(days=2), context={})
    )
    session.flush()

    write(session, {"kind": "login", "visitor_id": "v1", "customer_external_id": "C-1", "occurred_at": at(0)})
    write(session, {"kind": "section_view", "visitor_id": "v1", "section": "sale", "occurred_at": at(1)})

    owners = [(e.visitor_id, (T0 - e.occurred_at).days, e.customer_id) for e in web_events(session)]
    assert owners == [
        ("v1", 61, None),
        ("v1", 59, anna.id),
        ("v1", 1, anna.id),
        ("someone-else", 1, None),
        ("v1", 0, anna.id),
        ("v1", -1, anna.id),
    ]
    session_owners = [(s.started_at, s.customer_id) for s in sessions(session) if s.visitor_id == "v1"]
    assert [customer for _, customer in session_owners] == [None, anna.id, anna.id, anna.id]
    assert session.scalars(select(Event.customer_id).where(Event.visitor_id == "v1")).all() == [anna.id]
    visitor = session.get(Visitor, "v1")
    assert visitor is not None and (visitor.customer_id, visitor.identified_at) == (anna.id, T0)


def test_container_changes_from_the_site_update_the_customers_list(session: Session) -> None:
    anna = make_customer(session, "C-1")
    bag = make_product(session, "BAG-1", "Leather bag", "4990.00")
    make_product(session, "HAT-1", "Hat", "990.00")
    change = {"kind": "container_change", "customer_external_id": "C-1", "container": "cart"}
    write(
        session,
        {**change, "sku": "BAG-1", "quantity": 2, "price": "4500", "occurred_at": at(0)},
        {**change, "sku": "HAT-1", "occurred_at": at(1)},
        {**change, "sku": "HAT-1", "container_action": "remove", "occurred_at": at(2)},
    )
    [cart] = container_service.for_customer(session, anna.id)
    assert (cart.code, cart.item_count, cart.changed_at) == ("cart", 1, T0 + timedelta(minutes=2))
    assert [(i.sku, i.quantity, i.price) for i in cart.items] == [
        ("BAG-1", Decimal("2.000"), Decimal("4500.00"))
    ]
    assert bag.id == web_events(session)[0].product_id

    write(session, {**change, "container_action": "clear", "occurred_at": at(10)})
    [cleared] = container_service.for_customer(session, anna.id)
    assert (cleared.item_count, cleared.items, cleared.changed_at) == (0, [], T0 + timedelta(minutes=10))


def test_repeated_message_ids_are_stored_once(session: Session) -> None:
    view = {"kind": "visit", "visitor_id": "v1", "occurred_at": at(0), "message_id": "w-1"}
    assert write(session, view, view) == 1
    assert write(session, view) == 0
    assert session.scalar(select(func.count()).select_from(WebEvent)) == 1
    assert sessions(session)[0].event_count == 1


def test_incomplete_web_events_are_refused_naming_the_field(session: Session) -> None:
    with pytest.raises(InvalidInput) as refused:
        write(
            session,
            {"kind": "product_view", "visitor_id": "v1"},
            {"kind": "container_change", "visitor_id": "v1", "sku": "X", "container": "basket"},
            {"kind": "visit"},
            {"kind": "visit", "customer_external_id": "NOBODY"},
        )
    assert [e.field for e in refused.value.errors] == [
        "web_events[0].sku",
        "web_events[1].container",
        "web_events[2].visitor_id",
        "web_events[3].customer_external_id",
    ]
    assert session.scalar(select(func.count()).select_from(WebEvent)) == 0
    assert session.scalar(select(func.count()).select_from(Visitor)) == 0
