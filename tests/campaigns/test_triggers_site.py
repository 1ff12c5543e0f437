"""Site triggers through the tracker's intake (the Segment-compatible `/v1/batch` a shop's snippet calls):
visits, pages, products and categories viewed, products put into containers, web events — and a
visitor's anonymous history, attached when it identifies, entering nobody."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from smartcomm.containers.schemas import ContainerChangeIn
from smartcomm.containers.service import container_service
from smartcomm.customers.service import customer_service
from smartcomm.events.schemas import WebEventIn
from smartcomm.events.web_events import web_event_service
from smartcomm.kit.time import utcnow
from smartcomm.models import EventSource
from tests.campaigns.helpers import ACTOR, journeys
from tests.campaigns.trigger_helpers import (
    Catalogue,
    campaign_on,
    catalogue_fixture,  # noqa: F401 (the fixture `catalogue`)
    context_of,
    entered,
    fresh_watch_list,  # noqa: F401 (fixture)
    hand_over_again,
    mark,
)
from tests.delivery.helpers import make_customer
from tests.tracking.conftest import add_source, basic

START = utcnow() - timedelta(hours=2)


@pytest.fixture
def shop(session: Session) -> EventSource:
    source = add_source(session)
    session.commit()
    return source


def at(minutes: float) -> str:
    return (START + timedelta(minutes=minutes)).isoformat()


def send(client: TestClient, source: EventSource, *messages: dict[str, Any]) -> None:
    response = client.post("/v1/batch", json={"batch": list(messages)}, headers=basic(source.write_key))
    assert response.status_code == 200, response.text


def page(who: dict[str, str], name: str, url: str, minute: float) -> dict[str, Any]:
    return {"type": "page", **who, "name": name, "properties": {"url": url}, "timestamp": at(minute)}


def track(who: dict[str, str], event: str, minute: float, **properties: Any) -> dict[str, Any]:
    return {"type": "track", **who, "event": event, "properties": properties, "timestamp": at(minute)}


def customer_id(session: Session, external_id: str) -> int:
    return customer_service.get_by_external_id(session, external_id).id


ANNA, BORIS = {"userId": "C-1"}, {"userId": "C-2"}


def test_a_visit_enters_once_per_session_and_only_from_the_chosen_source(
    client: TestClient, session: Session, shop: EventSource
) -> None:
    app = add_source(session, "mobile-app")
    session.commit()
    anywhere = campaign_on(session, "trigger.visited_site")
    from_app = campaign_on(session, "trigger.visited_site", source_id=app.id)
    before = mark(session)

    send(
        client,
        shop,
        page(ANNA, "Home", "https://shop.example/", 0),
        page(ANNA, "Sale", "https://shop.example/sale", 2),
    )
    send(client, app, page(BORIS, "Home", "app://home", 5))

    anna, boris = customer_id(session, "C-1"), customer_id(session, "C-2")
    assert (entered(session, anywhere), entered(session, from_app)) == ([anna, boris], [boris])
    hand_over_again(session, "web_event.occurred", after=before)
    assert entered(session, anywhere) == [anna, boris]


def test_a_page_view_by_address_or_section_name(
    client: TestClient, session: Session, shop: EventSource
) -> None:
    by_address = campaign_on(session, "trigger.viewed_page", url_contains="/PROMO/")
    by_name = campaign_on(session, "trigger.viewed_page", section="autumn promo")
    before = mark(session)

    send(
        client,
        shop,
        page(ANNA, "Home", "https://shop.example/", 0),
        page(ANNA, "Autumn promo", "https://shop.example/promo/autumn", 1),
        page(BORIS, "Home", "https://shop.example/", 2),
    )

    anna = customer_id(session, "C-1")
    assert (entered(session, by_address), entered(session, by_name)) == ([anna], [anna])
    assert context_of(session, by_address)["url"] == "https://shop.example/promo/autumn"
    hand_over_again(session, "web_event.occurred", after=before)
    assert (entered(session, by_address), entered(session, by_name)) == ([anna], [anna])


def test_a_product_view_by_product_or_category(
    client: TestClient, session: Session, shop: EventSource, catalogue: Catalogue
) -> None:
    any_product = campaign_on(session, "trigger.viewed_product")
    coffee = campaign_on(session, "trigger.viewed_product", skus=["COF-250"])
    drinks = campaign_on(session, "trigger.viewed_product", product_category_id=catalogue.drinks)
    before = mark(session)

    send(
        client,
        shop,
        track(ANNA, "Product Viewed", 0, sku="COF-250"),
        track(BORIS, "Product Viewed", 1, sku="MUG"),
        page(BORIS, "Coffee", "https://shop.example/cof", 2),
    )

    anna, boris = customer_id(session, "C-1"), customer_id(session, "C-2")
    assert entered(session, any_product) == [anna, boris]
    assert (entered(session, coffee), entered(session, drinks)) == ([anna], [anna])
    product = context_of(session, coffee)["product"]
    assert (product["sku"], product["name"], product["price"]) == ("COF-250", "Coffee 250 g", "450.00")
    hand_over_again(session, "web_event.occurred", after=before)
    assert (entered(session, coffee), entered(session, drinks)) == ([anna], [anna])


def test_a_category_view_counts_its_subcategories(
    client: TestClient, session: Session, shop: EventSource, catalogue: Catalogue
) -> None:
    any_category = campaign_on(session, "trigger.viewed_category")
    drinks = campaign_on(session, "trigger.viewed_category", product_category_id=catalogue.drinks)
    coffee = campaign_on(session, "trigger.viewed_category", product_category_id=catalogue.coffee_category)
    before = mark(session)

    send(client, shop, track(ANNA, "Category Viewed", 0, category="coffee"))
    send(client, shop, track(BORIS, "Category Viewed", 1, category="drinks"))

    anna, boris = customer_id(session, "C-1"), customer_id(session, "C-2")
    assert entered(session, any_category) == [anna, boris]
    assert (entered(session, drinks), entered(session, coffee)) == ([anna, boris], [anna])
    hand_over_again(session, "web_event.occurred", after=before)
    assert entered(session, any_category) == [anna, boris]


def test_a_product_put_into_a_container(
    client: TestClient, session: Session, shop: EventSource, catalogue: Catalogue
) -> None:
    cart = campaign_on(session, "trigger.added_to_container")
    cart_tea = campaign_on(session, "trigger.added_to_container", skus=["TEA-100"])
    wishlist = campaign_on(session, "trigger.added_to_container", container="wishlist")
    before = mark(session)

    send(client, shop, track(ANNA, "Product Added", 0, sku="COF-250", quantity=2))
    send(client, shop, track(BORIS, "Product Added to Wishlist", 1, sku="MUG"))

    anna, boris = customer_id(session, "C-1"), customer_id(session, "C-2")
    assert (entered(session, cart), entered(session, cart_tea), entered(session, wishlist)) == (
        [anna],
        [],
        [boris],
    )
    context = context_of(session, cart)
    assert (context["container"], context["product"]["name"]) == ("cart", "Coffee 250 g")
    hand_over_again(session, "container.changed", after=before)
    assert entered(session, cart) == [anna]


def test_taking_a_product_out_of_a_container_enters_nobody(session: Session, catalogue: Catalogue) -> None:
    anna = make_customer(session)
    campaign = campaign_on(session, "trigger.added_to_container", container="wishlist")
    for action, quantity in (("remove", None), ("set", "0")):
        change = ContainerChangeIn.model_validate(
            {"action": action, "items": [{"sku": "MUG", "quantity": quantity}]}
        )
        container_service.change(session, ACTOR, anna, "wishlist", change)
        session.commit()

    assert entered(session, campaign) == []


def test_a_web_event_of_the_chosen_kinds_and_source(
    client: TestClient, session: Session, shop: EventSource
) -> None:
    app = add_source(session, "mobile-app")
    session.commit()
    pages_in_shop = campaign_on(
        session, "trigger.web_event_occurred", kinds=["visit", "section_view"], source_id=shop.id
    )
    before = mark(session)

    send(client, shop, page(ANNA, "Home", "https://shop.example/", 0))
    send(client, app, page(BORIS, "Home", "app://home", 1))
    send(client, shop, track(BORIS, "Product Viewed", 2, sku="MUG"))

    assert entered(session, pages_in_shop) == [customer_id(session, "C-1")]
    assert context_of(session, pages_in_shop)["kind"] == "visit"
    hand_over_again(session, "web_event.occurred", after=before)
    assert entered(session, pages_in_shop) == [customer_id(session, "C-1")]


def test_a_visitors_history_attached_when_it_identifies_enters_nobody(
    client: TestClient, session: Session, shop: EventSource, catalogue: Catalogue
) -> None:
    views = campaign_on(session, "trigger.viewed_product")
    visits = campaign_on(session, "trigger.visited_site")
    visitor = {"anonymousId": "anon-7"}

    send(
        client,
        shop,
        page(visitor, "Home", "https://shop.example/", 0),
        track(visitor, "Product Viewed", 1, sku="MUG"),
    )
    send(client, shop, {"type": "identify", "userId": "C-1", "anonymousId": "anon-7", "timestamp": at(2)})
    assert (entered(session, views), entered(session, visits)) == ([], [])

    send(client, shop, track(visitor, "Product Viewed", 3, sku="COF-250"))  # known now: the customer's own

    assert entered(session, views) == [customer_id(session, "C-1")]
    assert context_of(session, views)["product"]["sku"] == "COF-250"
    assert entered(session, visits) == []


def test_a_view_before_a_login_in_the_same_batch_enters_nobody(
    session: Session, catalogue: Catalogue
) -> None:
    anna, boris = make_customer(session), make_customer(session)
    views = campaign_on(session, "trigger.viewed_product")
    items = [
        {"kind": "product_view", "visitor_id": "v-1", "sku": "MUG", "occurred_at": at(0)},
        {"kind": "login", "visitor_id": "v-1", "customer_id": anna.id, "occurred_at": at(1)},
        {"kind": "product_view", "visitor_id": "v-1", "sku": "TEA-100", "occurred_at": at(2)},
        {"kind": "product_view", "customer_id": boris.id, "sku": "MUG", "occurred_at": at(0)},
    ]
    web_event_service.record(session, ACTOR, [WebEventIn.model_validate(item) for item in items])
    session.commit()

    assert sorted(entered(session, views)) == sorted([anna.id, boris.id])
    mine = [j for j in journeys(session, views) if j.customer_id == anna.id]
    assert [j.context["product"]["sku"] for j in mine] == ["TEA-100"]
