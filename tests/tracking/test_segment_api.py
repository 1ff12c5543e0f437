"""The Segment-spec intake at /v1: write keys, identify/track/page/alias/batch, dedup and purchases."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from smartcomm.audit.actor import Actor
from smartcomm.models import (
    AuditEntry,
    ContainerItem,
    Customer,
    Event,
    EventSource,
    FieldDefinition,
    Receipt,
    ReceiptLine,
    Store,
    Visitor,
    WebEvent,
)
from smartcomm.settings.schemas import TrackingSettings
from smartcomm.settings.service import settings_service
from tests.events.conftest import make_customer, make_product
from tests.tracking.conftest import add_source, basic

T0 = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)


def at(minutes: float = 0) -> str:
    return (T0 + timedelta(minutes=minutes)).isoformat()


def send(client: TestClient, shop: EventSource, *messages: dict[str, Any]) -> Any:
    return client.post("/v1/batch", json={"batch": list(messages)}, headers=basic(shop.write_key))


def count(session: Session, model: type[Any]) -> int:
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def customer(session: Session, external_id: str) -> Customer:
    return session.scalars(select(Customer).where(Customer.external_id == external_id)).one()


def test_the_write_key_is_required_and_must_belong_to_an_active_source(
    client: TestClient, session: Session, shop: EventSource
) -> None:
    closed = add_source(session, "closed-shop", active=False)
    body = {"userId": "C-1", "event": "Signed Up"}

    missing = client.post("/v1/track", json=body)
    wrong = client.post("/v1/track", json=body, headers=basic("not-a-key"))
    inactive = client.post("/v1/track", json=body, headers=basic(closed.write_key))
    in_body = client.post("/v1/track", json={**body, "writeKey": shop.write_key})

    assert [r.status_code for r in (missing, wrong, inactive)] == [401, 401, 401]
    assert wrong.json()["errors"][0]["title"] == "Unknown or inactive write key"
    assert (in_body.status_code, in_body.json()) == (200, {"success": True})
    assert session.scalars(select(Event.name)).all() == ["Signed Up"]


def test_identify_creates_the_customer_from_traits(
    client: TestClient, session: Session, shop: EventSource
) -> None:
    session.add(FieldDefinition(object="customer", code="shoe_size", name="Shoe size", type="integer"))
    session.flush()
    traits = {
        "email": "Anna@Example.com",
        "phone": "+7 912 345-67-89",
        "firstName": "Anna",
        "lastName": "Petrova",
        "birthday": "1990-05-04T00:00:00.000Z",
        "gender": "female",
        "address": {"city": "Kazan", "state": "Tatarstan"},
        "shoe_size": "38",
        "favourite_colour": "green",
    }
    response = send(client, shop, {"type": "identify", "userId": "C-1", "traits": traits, "timestamp": at()})

    assert response.status_code == 200, response.text
    anna = customer(session, "C-1")
    assert (anna.first_name, anna.last_name, anna.email, anna.phone) == (
        "Anna",
        "Petrova",
        "anna@example.com",
        "+79123456789",
    )
    assert (
        anna.birth_date.isoformat() if anna.birth_date else None,
        anna.gender,
        anna.city,
        anna.region,
    ) == (
        "1990-05-04",
        "f",
        "Kazan",
        "Tatarstan",
    )
    assert anna.custom == {"shoe_size": 38}  # an undefined trait is ignored


def test_invalid_traits_are_refused_naming_the_trait_and_nothing_is_written(
    client: TestClient, session: Session, shop: EventSource
) -> None:
    response = send(
        client,
        shop,
        {"type": "track", "userId": "C-1", "event": "Signed Up"},
        {"type": "identify", "userId": "C-1", "traits": {"birthday": "someday"}},
    )

    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["batch[1].traits.birthday"]
    assert (count(session, Customer), count(session, Event)) == (0, 0)


def test_identify_attaches_the_anonymous_visitors_behaviour(
    client: TestClient, session: Session, shop: EventSource
) -> None:
    send(
        client,
        shop,
        {
            "type": "page",
            "anonymousId": "anon-1",
            "name": "Home",
            "timestamp": at(0),
            "properties": {"url": "https://shop.example/"},
        },
        {"type": "track", "anonymousId": "anon-1", "event": "Newsletter Viewed", "timestamp": at(1)},
    )
    assert session.scalars(select(WebEvent.customer_id)).all() == [None]

    send(client, shop, {"type": "identify", "userId": "C-1", "anonymousId": "anon-1", "timestamp": at(2)})

    anna = customer(session, "C-1")
    assert session.scalars(select(WebEvent.customer_id)).all() == [anna.id]
    assert session.scalars(select(Event.customer_id).where(Event.name == "Newsletter Viewed")).all() == [
        anna.id
    ]
    visitor = session.get(Visitor, "anon-1")
    assert visitor is not None and visitor.customer_id == anna.id


def test_track_stores_a_customer_event_once_per_message_id(
    client: TestClient, session: Session, shop: EventSource
) -> None:
    message = {
        "type": "track",
        "userId": "C-1",
        "event": "Coupon Applied",
        "messageId": "msg-1",
        "properties": {"coupon": "SPRING"},
        "timestamp": at(),
    }
    first = send(client, shop, message)
    again = client.post("/v1/track", json=message, headers=basic(shop.write_key))

    assert (first.status_code, again.status_code) == (200, 200)
    event = session.scalars(select(Event)).one()
    assert (event.name, event.context, event.occurred_at, event.source_id) == (
        "Coupon Applied",
        {"coupon": "SPRING"},
        T0,
        shop.id,
    )
    assert event.customer_id == customer(session, "C-1").id
    summaries = session.scalars(select(AuditEntry).where(AuditEntry.object_type == "event_batch")).all()
    assert [s.changes for s in summaries] == [
        {"track": [None, 1]},
        {"duplicates": [None, 1], "track": [None, 1]},
    ]


def test_pages_open_a_visit_then_count_as_section_views(
    client: TestClient, session: Session, shop: EventSource
) -> None:
    send(
        client,
        shop,
        {
            "type": "page",
            "anonymousId": "a1",
            "name": "Home",
            "timestamp": at(0),
            "properties": {"url": "https://shop.example/"},
        },
        {
            "type": "page",
            "anonymousId": "a1",
            "name": "Sale",
            "timestamp": at(3),
            "properties": {"url": "https://shop.example/sale"},
        },
        {"type": "screen", "anonymousId": "a1", "name": "Cart", "timestamp": at(120)},
    )
    rows = session.execute(select(WebEvent.kind, WebEvent.section, WebEvent.url).order_by(WebEvent.id)).all()
    assert [tuple(row) for row in rows] == [
        ("visit", "Home", "https://shop.example/"),
        ("section_view", "Sale", "https://shop.example/sale"),
        ("visit", "Cart", None),  # two hours later: a new session
    ]


def test_the_purchase_event_becomes_a_receipt_and_updates_the_aggregates(
    client: TestClient, session: Session, shop: EventSource
) -> None:
    make_customer(session, "C-1", first_name="Anna")
    make_product(session, "BAG-1", "Leather bag", "4990.00")
    order = {
        "type": "track",
        "userId": "C-1",
        "event": "Order Completed",
        "messageId": "order-msg",
        "timestamp": at(),
        "properties": {
            "order_id": "W-100",
            "total": 5380.5,
            "discount": 100,
            "products": [
                {"sku": "BAG-1", "quantity": 1, "price": 4990},
                {"product_id": "SOCKS", "quantity": 2, "price": 245.25},
            ],
        },
    }
    assert send(client, shop, order).status_code == 200
    assert send(client, shop, order).status_code == 200  # a repeat changes nothing

    receipt = session.scalars(select(Receipt)).one()
    store = session.get(Store, receipt.store_id)
    assert store is not None and (store.code, store.is_online) == ("web-shop", True)
    assert (receipt.number, receipt.total, receipt.discount, receipt.purchased_at) == (
        "W-100",
        Decimal("5380.50"),
        Decimal("100.00"),
        T0,
    )
    lines = session.execute(
        select(ReceiptLine.sku, ReceiptLine.quantity, ReceiptLine.price).order_by(ReceiptLine.position)
    ).all()
    assert [tuple(line) for line in lines] == [
        ("BAG-1", Decimal("1.000"), Decimal("4990.00")),
        ("SOCKS", Decimal("2.000"), Decimal("245.25")),
    ]
    anna = customer(session, "C-1")
    session.refresh(anna)
    assert (anna.receipt_count, anna.total_amount, anna.last_purchase_at) == (1, Decimal("5380.50"), T0)
    assert session.scalars(select(WebEvent.kind)).all() == ["order_complete"]
    assert session.scalars(select(Event.name)).all() == ["Order Completed"]


def test_the_purchase_event_name_is_a_setting(
    client: TestClient, session: Session, shop: EventSource
) -> None:
    settings_service.update(
        session, Actor.system("tests"), TrackingSettings, {"purchase_event": "Checkout Done"}
    )
    make_customer(session, "C-1")
    send(
        client,
        shop,
        {
            "type": "track",
            "userId": "C-1",
            "event": "Order Completed",
            "properties": {"order_id": "1", "total": 10},
        },
    )
    send(
        client,
        shop,
        {
            "type": "track",
            "userId": "C-1",
            "event": "Checkout Done",
            "properties": {"order_id": "2", "total": 20},
        },
    )
    assert session.scalars(select(Receipt.number)).all() == ["2"]


def test_a_purchase_without_an_order_id_is_refused(
    client: TestClient, session: Session, shop: EventSource
) -> None:
    response = send(
        client,
        shop,
        {
            "type": "track",
            "userId": "C-1",
            "event": "Order Completed",
            "properties": {"products": [{"sku": "A", "quantity": 1}]},
        },
    )
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["batch[0].properties.order_id"]
    assert (count(session, Receipt), count(session, Event), count(session, Customer)) == (0, 0, 0)


def test_a_purchase_with_neither_products_nor_total_is_refused(
    client: TestClient, session: Session, shop: EventSource
) -> None:
    make_customer(session, "C-1")
    order = {"type": "track", "userId": "C-1", "event": "Order Completed", "properties": {"order_id": "7"}}

    refused = send(client, shop, order)
    header_only = send(client, shop, {**order, "properties": {"order_id": "7", "total": 990}})

    assert refused.status_code == 422
    assert [e["field"] for e in refused.json()["errors"]] == ["batch[0].properties.products"]
    assert header_only.status_code == 200
    assert session.scalars(select(Receipt.total)).all() == [Decimal("990.00")]


def test_product_events_fill_the_cart(client: TestClient, session: Session, shop: EventSource) -> None:
    make_customer(session, "C-1")
    make_product(session, "BAG-1", "Leather bag", "4990.00")
    send(
        client,
        shop,
        {"type": "track", "userId": "C-1", "event": "Product Viewed", "properties": {"sku": "BAG-1"}},
        {
            "type": "track",
            "userId": "C-1",
            "event": "Product Added",
            "properties": {"sku": "BAG-1", "quantity": 2, "price": 4500},
        },
    )
    assert session.scalars(select(WebEvent.kind).order_by(WebEvent.id)).all() == [
        "product_view",
        "container_change",
    ]
    item = session.scalars(select(ContainerItem)).one()
    assert (item.quantity, item.price) == (Decimal("2.000"), Decimal("4500.00"))


def test_alias_merges_the_previous_visitor(client: TestClient, session: Session, shop: EventSource) -> None:
    send(client, shop, {"type": "page", "anonymousId": "anon-9", "name": "Home", "timestamp": at()})
    response = client.post(
        "/v1/alias",
        json={"previousId": "anon-9", "userId": "C-9", "timestamp": at(1)},
        headers=basic(shop.write_key),
    )
    assert response.status_code == 200
    assert session.scalars(select(WebEvent.customer_id)).all() == [customer(session, "C-9").id]


def test_gzip_bodies_are_read_and_oversized_ones_refused(
    client: TestClient, session: Session, shop: EventSource
) -> None:
    packed = gzip.compress(
        json.dumps({"batch": [{"type": "track", "userId": "C-1", "event": "Zipped"}]}).encode()
    )
    zipped = client.post(
        "/v1/batch",
        content=packed,
        headers={**basic(shop.write_key), "Content-Encoding": "gzip", "Content-Type": "application/json"},
    )
    huge = send(client, shop, *[{"type": "track", "userId": "C-1", "event": "x" * 90}] * 6000)

    assert zipped.status_code == 200
    assert (huge.status_code, huge.json()["errors"][0]["code"]) == (413, "body_too_large")
    assert session.scalars(select(Event.name)).all() == ["Zipped"]
