"""Catalogue triggers: the catalogue publishes `product.changed` when prices or stock change, and the
campaigns on low stock and price changes enter the customers who have the product in a cart or saw it."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from sqlalchemy import select
from sqlalchemy.orm import Session

from smartcomm.campaigns import engine
from smartcomm.catalog.schemas import ProductIn
from smartcomm.catalog.service import catalog_service
from smartcomm.containers.service import ItemChange, container_service
from smartcomm.kit.time import utcnow
from smartcomm.models import Campaign, Container, Customer, DomainEvent, Product, WebEvent
from tests.campaigns.helpers import ACTOR, active_campaign, edge, graph, journeys, node
from tests.campaigns.scheduled import contexts, entered
from tests.events.conftest import make_customer, make_product
from tests.tracker.conftest import cart_id


@pytest.fixture
def customers(session: Session) -> list[Customer]:
    return [
        make_customer(session, f"K-{n}", first_name=name) for n, name in enumerate(("Anna", "Boris", "Carl"))
    ]


@pytest.fixture
def bag(session: Session) -> Product:
    product = make_product(session, "BAG-1", "Leather bag", "4990.00")
    product.stock = Decimal("20")
    session.flush()
    return product


def campaign_on(session: Session, kind: str, **settings: Any) -> Campaign:
    body = graph(
        [node("t", kind, **settings), node("w", "action.wait", amount=1, unit="days")], [edge("t", "w")]
    )
    return active_campaign(session, body, reentry_minutes=0)


def change(session: Session, product: Product, **values: str) -> None:
    """The catalogue API's write of the product (its domain event is dispatched at once in tests)."""
    item = ProductIn.model_validate({"sku": product.sku, "name": product.name, **values})
    catalog_service.upsert_products(session, ACTOR, [item])
    session.commit()


def into(session: Session, container_id: int, customer: Customer, product: Product) -> None:
    item = ItemChange(product.id, Decimal(1), None)
    container_service.apply(session, customer.id, container_id, "add", [item], utcnow())
    session.flush()


def into_cart(session: Session, customer: Customer, product: Product) -> None:
    into(session, cart_id(session), customer, product)


def viewed(session: Session, customer: Customer, product: Product, price: str, days_ago: int) -> None:
    session.add(
        WebEvent(
            kind="product_view", customer_id=customer.id, product_id=product.id,
            occurred_at=utcnow() - timedelta(days=days_ago), snapshot={"sku": product.sku, "price": price},
            context={},
        )
    )  # fmt: skip
    session.flush()


def container_id(session: Session, code: str) -> int:
    found = session.scalar(select(Container.id).where(Container.code == code))
    if found is None:
        container = Container(code=code, name=code.title())
        session.add(container)
        session.flush()
        found = container.id
    return found


def finish_journeys() -> None:
    with time_machine.travel(utcnow() + timedelta(days=2), tick=False):
        engine.advance()


# --- the catalogue's event -----------------------------------------------------------------------------


def test_the_catalogue_publishes_price_and_stock_changes_of_stored_products(
    session: Session, bag: Product
) -> None:
    new = ProductIn.model_validate({"sku": "NEW-1", "name": "New", "price": "10.00"})
    same = ProductIn.model_validate({"sku": bag.sku, "name": "Leather bag, brown", "price": "4990.00"})
    catalog_service.upsert_products(session, ACTOR, [new, same])
    session.commit()
    assert published(session) == []  # a new product and an unchanged price: nothing to tell

    change(session, bag, price="4400", stock="3")

    [payload] = published(session)
    assert payload == {
        "product_ids": [bag.id],
        "fields": ["price", "stock"],
        "changes": [{"product_id": bag.id, "price": ["4990.00", "4400.00"], "stock": ["20", "3"]}],
    }


def published(session: Session) -> list[dict[str, Any]]:
    statement = (
        select(DomainEvent.payload).where(DomainEvent.kind == "product.changed").order_by(DomainEvent.id)
    )
    return list(session.scalars(statement))


# --- low stock -----------------------------------------------------------------------------------------


def test_low_stock_enters_the_customers_with_the_product_in_the_cart_once(
    session: Session, customers: list[Customer], bag: Product
) -> None:
    anna, boris, carl = customers
    into_cart(session, anna, bag)
    into_cart(session, boris, bag)
    into(session, container_id(session, "wishlist"), carl, bag)  # not the cart
    campaign = campaign_on(session, "trigger.low_stock", threshold="5")

    change(session, bag, stock="6")
    assert entered(session, campaign) == []
    change(session, bag, stock="3")
    assert sorted(customer_id for customer_id, _ in entered(session, campaign)) == [anna.id, boris.id]
    finish_journeys()
    change(session, bag, stock="2")  # lower still: the same cart items, told already

    assert len(journeys(session, campaign)) == 2
    assert all(occurrence.startswith(f"low_stock:{bag.id}:") for _, occurrence in entered(session, campaign))
    assert contexts(session, campaign)[anna.id] == {"product_id": bag.id, "sku": "BAG-1", "stock": "3.000"}


# --- prices --------------------------------------------------------------------------------------------


def test_a_viewed_product_that_got_cheaper_than_the_customer_saw_enters_them(
    session: Session, customers: list[Customer], bag: Product
) -> None:
    anna, boris, carl = customers
    viewed(session, anna, bag, "4990.00", days_ago=3)
    viewed(session, boris, bag, "4000.00", days_ago=3)  # saw it cheaper than it is now
    viewed(session, carl, bag, "4990.00", days_ago=30)  # too long ago
    campaign = campaign_on(session, "trigger.viewed_price_changed", drop_percent=10, days=14)

    change(session, bag, price="4600.00")  # 7.8 % below what anna saw: not enough
    assert entered(session, campaign) == []
    change(session, bag, price="4400.00")

    assert entered(session, campaign) == [(anna.id, f"viewed_price:{bag.id}:4400.00")]
    assert contexts(session, campaign)[anna.id] == {
        "product_id": bag.id, "old_price": "4990.00", "new_price": "4400.00",
    }  # fmt: skip


def test_a_price_change_enters_those_with_the_product_in_the_cart_or_seen_lately(
    session: Session, customers: list[Customer], bag: Product
) -> None:
    anna, boris, carl = customers
    into_cart(session, anna, bag)
    viewed(session, boris, bag, "4990.00", days_ago=3)
    viewed(session, carl, bag, "4990.00", days_ago=30)
    campaign = campaign_on(session, "trigger.product_price_changed", direction="down", change_percent=5)

    change(session, bag, price="5490.00")  # up: not this campaign's direction
    change(session, bag, price="5300.00")  # down by 3.5 %: too little
    assert entered(session, campaign) == []
    change(session, bag, price="4490.00")

    assert entered(session, campaign) == [
        (anna.id, f"price:{bag.id}:4490.00"),
        (boris.id, f"price:{bag.id}:4490.00"),
    ]
    assert contexts(session, campaign)[boris.id] == {
        "product_id": bag.id, "old_price": "5300.00", "new_price": "4490.00",
    }  # fmt: skip
