"""What analytics.js sends lands as web events, cart changes and receipts; its start-up and CORS."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from smartcomm.models import (
    ContainerItem,
    ContainerState,
    Customer,
    Event,
    EventSource,
    Product,
    Receipt,
    WebEvent,
)
from tests.tracker.conftest import T0, cart_id
from tests.tracking.conftest import add_source, basic

ORIGIN = {"Origin": "https://shop.example"}


def send(client: TestClient, shop: EventSource, *messages: dict[str, Any]) -> Any:
    response = client.post("/v1/batch", json={"batch": list(messages)}, headers=basic(shop.write_key))
    assert response.status_code == 200, response.text
    return response


def track(event: str, properties: dict[str, Any], **values: Any) -> dict[str, Any]:
    return {"type": "track", "userId": "C-1", "event": event, "properties": properties, **values}


def cart(session: Session) -> dict[str, Decimal]:
    statement = select(Product.sku, ContainerItem.quantity).join(
        Product, Product.id == ContainerItem.product_id
    )
    return dict(session.execute(statement.where(ContainerItem.container_id == cart_id(session))).all())


def web_events(session: Session) -> list[tuple[Any, ...]]:
    statement = select(WebEvent.kind, WebEvent.container_action, WebEvent.quantity, WebEvent.message_id)
    return [tuple(row) for row in session.execute(statement.order_by(WebEvent.id))]


def test_category_views_become_web_events(
    client: TestClient, session: Session, shop: EventSource, anna: Customer, bag: Product
) -> None:
    send(
        client,
        shop,
        track("Product List Viewed", {"category_id": "bags", "list_id": "bags"}),
        track("Category Viewed", {"category": "bags"}),
        track("Product List Viewed", {"list_id": "search"}),  # names no category: the event alone
    )
    views = session.execute(select(WebEvent.kind, WebEvent.category_id, WebEvent.customer_id)).all()
    assert [tuple(v) for v in views] == [("category_view", bag.category_id, anna.id)] * 2
    assert session.scalar(select(func.count()).select_from(Event)) == 3


def test_cart_viewed_makes_the_cart_what_the_page_shows(
    client: TestClient, session: Session, shop: EventSource, anna: Customer, bag: Product, socks: Product
) -> None:
    send(
        client,
        shop,
        track("Product Added", {"sku": "BAG-1", "quantity": 1}),
        track("Product Added", {"sku": "SOCKS", "quantity": 3}),
    )
    viewed = {
        "products": [{"sku": "BAG-1", "quantity": 2, "price": 4500}, {"product_id": "BAG-1", "quantity": 1}]
    }
    send(client, shop, track("Cart Viewed", viewed, messageId="view-1"))

    assert cart(session) == {"BAG-1": Decimal("3.000")}  # bags added up, socks gone
    assert web_events(session)[2:] == [
        ("container_change", "set", 3.0, "view-1"),
        ("container_change", "remove", None, "view-1/1"),
    ]
    changed_at = session.scalars(select(ContainerState.changed_at)).one()

    send(client, shop, track("Cart Viewed", {"products": [{"sku": "BAG-1", "quantity": 3}]}))
    assert len(web_events(session)) == 4  # the cart matched: nothing changed, its last change stays
    assert session.scalars(select(ContainerState.changed_at)).one() == changed_at

    send(client, shop, track("Cart Viewed", {"products": []}))
    assert cart(session) == {}
    assert web_events(session)[-1][:2] == ("container_change", "clear")


def test_product_removed_takes_away_the_quantity_or_the_product(
    client: TestClient, session: Session, shop: EventSource, anna: Customer, bag: Product, socks: Product
) -> None:
    send(
        client,
        shop,
        track("Product Added", {"sku": "BAG-1", "quantity": 3}),
        track("Product Added", {"sku": "SOCKS"}),
        track("Product Removed", {"sku": "BAG-1", "quantity": 1}),
        track("Product Removed", {"sku": "SOCKS"}),
    )
    assert cart(session) == {"BAG-1": Decimal("2.000")}


def test_an_order_becomes_a_receipt_and_empties_the_cart(
    client: TestClient, session: Session, shop: EventSource, anna: Customer, bag: Product
) -> None:
    send(client, shop, track("Product Added", {"sku": "BAG-1", "quantity": 2}, timestamp=T0.isoformat()))
    order = {"order_id": "W-1", "total": 9980, "products": [{"sku": "BAG-1", "quantity": 2, "price": 4990}]}
    send(client, shop, track("Order Completed", order))

    assert session.scalars(select(Receipt.number)).all() == ["W-1"]
    assert cart(session) == {}
    assert session.scalars(select(ContainerState.item_count)).one() == 0
    assert [row[0] for row in web_events(session)] == ["container_change", "order_complete"]


def test_the_short_paths_of_analytics_js_are_the_intake(
    client: TestClient, session: Session, shop: EventSource
) -> None:
    body = {"writeKey": shop.write_key, "anonymousId": "a-1"}
    answers = [
        client.post("/v1/t", content=_text({**body, "event": "Signed Up"}), headers=ORIGIN),
        client.post("/v1/p", content=_text({**body, "name": "Home"}), headers=ORIGIN),
        client.post("/v1/i", content=_text({**body, "userId": "C-9", "traits": {"firstName": "Ivan"}})),
        client.post("/v1/g", content=_text({**body, "groupId": "g-1"})),
        client.post(
            "/v1/b", content=_text({"writeKey": shop.write_key, "batch": [{**body, "type": "page"}]})
        ),
    ]
    assert [a.status_code for a in answers] == [200] * 5
    assert answers[0].headers["access-control-allow-origin"] == "*"
    assert session.scalars(select(Event.name)).all() == ["Signed Up"]
    assert session.scalars(select(Customer.first_name).where(Customer.external_id == "C-9")).one() == "Ivan"
    assert sorted(session.scalars(select(WebEvent.kind))) == ["section_view", "visit"]


def test_a_short_path_with_a_wrong_write_key_writes_nothing(client: TestClient, session: Session) -> None:
    refused = client.post("/v1/t", content=_text({"writeKey": "nope", "anonymousId": "a", "event": "X"}))
    group = client.post("/v1/g", content=_text({"writeKey": "nope", "anonymousId": "a"}))
    assert (refused.status_code, group.status_code) == (401, 401)
    assert session.scalar(select(func.count()).select_from(Event)) == 0


def test_the_project_settings_point_analytics_js_at_this_server(
    client: TestClient, session: Session, shop: EventSource
) -> None:
    closed = add_source(session, "closed", active=False)
    answer = client.get(f"/v1/projects/{shop.write_key}/settings", headers=ORIGIN)

    assert answer.status_code == 200
    assert answer.headers["access-control-allow-origin"] == "*"
    destination = answer.json()["integrations"]
    assert list(destination) == ["Segment.io"]  # nothing else to load
    assert {k: destination["Segment.io"][k] for k in ("apiKey", "apiHost", "protocol")} == {
        "apiKey": shop.write_key,
        "apiHost": "testserver/v1",
        "protocol": "http",
    }
    assert answer.json()["metrics"] == {"sampleRate": 0}
    assert client.get(f"/v1/projects/{closed.write_key}/settings").status_code == 401
    assert client.get("/v1/projects/unknown/settings").status_code == 401


def test_cross_origin_checks_are_answered_for_the_tracker_only(client: TestClient) -> None:
    asked = {
        **ORIGIN,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization",
    }
    tracker = client.options("/v1/t", headers=asked)
    api = client.options("/api/v1/customers", headers=asked)
    page = client.get("/login", headers=ORIGIN)

    assert tracker.status_code == 204
    assert tracker.headers["access-control-allow-origin"] == "*"
    assert "Authorization" in tracker.headers["access-control-allow-headers"]
    assert "access-control-allow-credentials" not in tracker.headers
    assert "access-control-allow-origin" not in api.headers
    assert "access-control-allow-origin" not in page.headers


def test_the_library_and_its_lazy_parts_are_served(client: TestClient) -> None:
    library = client.get("/vendor/analytics-next/standalone.js")
    loader = client.get("/static/smartcomm-tracker.js")
    popups = client.get("/static/smartcomm-popups.js")
    assert [library.status_code, loader.status_code, popups.status_code] == [200, 200, 200]
    assert "analytics-next/bundles" in library.text


def _text(body: dict[str, Any]) -> str:
    """analytics.js posts its JSON as text/plain (a simple request)."""
    return json.dumps(body)


def test_a_browser_batch_leaves_out_only_the_refused_calls(
    client: TestClient, session: Session, shop: EventSource, bag: Product
) -> None:
    batch = [
        {"type": "identify", "userId": "C-5", "anonymousId": "a-5", "traits": {"birthday": "someday"}},
        {"type": "page", "anonymousId": "a-5", "name": "Home"},
        {"type": "track", "userId": "C-6", "event": "Order Completed", "properties": {"total": 5}},  # no id
        {"type": "track", "userId": "C-6", "event": "Product Added", "properties": {"sku": "BAG-1"}},
        {"type": "track", "userId": ["not", "an", "id"], "event": "Odd"},  # malformed
    ]
    answer = client.post("/v1/b", content=json.dumps({"writeKey": shop.write_key, "batch": batch}))

    assert answer.status_code == 200, answer.text
    assert session.scalars(select(Customer.external_id)).all() == ["C-6"]  # C-5's traits were refused
    assert session.scalars(select(Event.name)).all() == ["Product Added"]
    assert sorted(session.scalars(select(WebEvent.kind))) == ["container_change", "visit"]
    assert cart(session) == {"BAG-1": Decimal("1.000")}
    not_a_list = client.post("/v1/b", content=json.dumps({"writeKey": shop.write_key, "batch": {}}))
    assert (not_a_list.status_code, not_a_list.json()["errors"][0]["field"]) == (422, "batch")
    assert client.post("/v1/b", content=json.dumps({"writeKey": "nope", "batch": batch})).status_code == 401


def test_a_cart_filled_before_signing_in_becomes_the_customers(
    client: TestClient, session: Session, shop: EventSource, anna: Customer, bag: Product, socks: Product
) -> None:
    def anonymous(event: str, properties: dict[str, Any], minutes: int) -> dict[str, Any]:
        moment = (T0.replace(minute=minutes)).isoformat()
        return {
            "type": "track",
            "anonymousId": "a-1",
            "event": event,
            "properties": properties,
            "timestamp": moment,
        }

    send(
        client,
        shop,
        anonymous("Product Added", {"sku": "BAG-1", "quantity": 2, "price": 4500}, 1),
        anonymous("Product Added", {"sku": "SOCKS"}, 2),
        anonymous("Product Removed", {"sku": "SOCKS"}, 3),
    )
    assert cart(session) == {}  # nobody's cart yet

    send(
        client, shop, {"type": "identify", "userId": "C-1", "anonymousId": "a-1", "timestamp": T0.isoformat()}
    )
    assert cart(session) == {"BAG-1": Decimal("2.000")}
    item = session.scalars(select(ContainerItem)).one()
    assert (item.customer_id, item.price) == (anna.id, Decimal("4500.00"))
    assert session.scalars(select(ContainerState.changed_at)).one() == T0.replace(minute=3)

    send(client, shop, {"type": "identify", "userId": "C-1", "anonymousId": "a-1"})  # once is enough
    assert cart(session) == {"BAG-1": Decimal("2.000")}
