"""Abandoned carts and lost views: the one query behind the profile and the campaign triggers."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from sqlalchemy.orm import Session

from smartcomm.audit.actor import Actor
from smartcomm.containers.abandoned import abandoned_between, abandoned_cart, viewed_without_cart
from smartcomm.containers.service import container_service
from smartcomm.models import Customer, Order, Product
from smartcomm.settings.schemas import TrackingSettings
from smartcomm.settings.service import settings_service
from tests.tracker.conftest import at, cart_id, purchase, put_in_cart, web_event


def rows(session: Session, start: float, end: float) -> list[tuple[object, ...]]:
    statement = abandoned_between(session, at(start), at(end)).order_by("customer_id")
    return [tuple(row) for row in session.execute(statement)]


def test_a_cart_is_abandoned_once_it_has_not_changed_for_an_hour(
    session: Session, anna: Customer, bag: Product, socks: Product
) -> None:
    put_in_cart(session, anna, bag, "1", 0, price="4500.00")
    put_in_cart(session, anna, socks, "2", 10)  # no price of its own: the catalogue's

    assert abandoned_cart(session, anna.id, at(69)) is None  # 59 minutes after the last change
    cart = abandoned_cart(session, anna.id, at(71))

    assert cart is not None
    assert (cart.last_activity, cart.abandoned_at, cart.expires_at) == (
        at(10),
        at(70),
        at(70) + timedelta(days=30),
    )
    assert [(i.sku, i.name, i.price, i.quantity, i.amount) for i in cart.items] == [
        ("BAG-1", "Leather bag", Decimal("4500.00"), Decimal("1.000"), Decimal("4500.00")),
        ("SOCKS", "Wool socks", Decimal("245.25"), Decimal("2.000"), Decimal("490.50")),
    ]
    assert (cart.total, cart.item_count) == (Decimal("4990.50"), 2)


def test_carts_that_became_abandoned_in_a_window_are_found_once(
    session: Session, anna: Customer, boris: Customer, bag: Product
) -> None:
    put_in_cart(session, anna, bag, "1", 0)  # abandoned at 60
    put_in_cart(session, boris, bag, "3", 30)  # abandoned at 90

    assert rows(session, 0, 60) == []
    assert rows(session, 60, 90) == [(anna.id, at(60), 1, Decimal("4990.00"))]
    assert rows(session, 90, 120) == [(boris.id, at(90), 1, Decimal("14970.00"))]
    assert rows(session, 0, 200) == [
        (anna.id, at(60), 1, Decimal("4990.00")),
        (boris.id, at(90), 1, Decimal("14970.00")),
    ]


def test_an_order_after_the_last_change_means_the_cart_was_not_abandoned(
    session: Session, anna: Customer, boris: Customer, bag: Product
) -> None:
    put_in_cart(session, anna, bag, "1", 0)
    put_in_cart(session, boris, bag, "1", 0)
    purchase(session, anna, 30)  # a receipt from the till
    web_event(session, boris, "order_complete", 100)  # an order on the site, after the cart was abandoned

    assert abandoned_cart(session, anna.id, at(90)) is None
    assert rows(session, 0, 90) == [(boris.id, at(60), 1, Decimal("4990.00"))]  # not ordered yet at 90
    assert abandoned_cart(session, boris.id, at(120)) is None  # the order ends it on the profile
    assert rows(session, 0, 120) == []


def test_an_order_of_the_orders_module_counts_too(session: Session, anna: Customer, bag: Product) -> None:
    put_in_cart(session, anna, bag, "1", 0)
    session.add(Order(number="O-1", customer_id=anna.id, created_at=at(20), total=Decimal("4990.00")))
    session.flush()

    assert abandoned_cart(session, anna.id, at(90)) is None
    assert rows(session, 0, 90) == []


def test_an_order_before_the_last_change_does_not_count(
    session: Session, anna: Customer, bag: Product
) -> None:
    purchase(session, anna, -10)
    web_event(session, anna, "order_complete", -5)
    put_in_cart(session, anna, bag, "1", 0)

    assert abandoned_cart(session, anna.id, at(61)) is not None


def test_an_abandoned_cart_expires_after_the_retention_time(
    session: Session, anna: Customer, bag: Product
) -> None:
    put_in_cart(session, anna, bag, "1", 0)
    thirty_days = 30 * 24 * 60

    assert abandoned_cart(session, anna.id, at(60 + thirty_days - 1)) is not None
    assert abandoned_cart(session, anna.id, at(60 + thirty_days)) is None
    assert rows(session, 0, 60 + thirty_days) == []  # expired by the window's end


def test_an_emptied_cart_is_not_abandoned(session: Session, anna: Customer, bag: Product) -> None:
    put_in_cart(session, anna, bag, "1", 0)
    container_service.apply(session, anna.id, cart_id(session), "clear", [], at(5))

    assert abandoned_cart(session, anna.id, at(120)) is None
    assert rows(session, 0, 200) == []


def test_the_times_are_settings(session: Session, anna: Customer, bag: Product) -> None:
    values = {"abandoned_cart_minutes": 15, "abandoned_cart_keep_days": 1}
    settings_service.update(session, Actor.system("tests"), TrackingSettings, values)
    put_in_cart(session, anna, bag, "1", 0)

    assert abandoned_cart(session, anna.id, at(14)) is None
    assert abandoned_cart(session, anna.id, at(16)) is not None
    assert abandoned_cart(session, anna.id, at(15 + 24 * 60)) is None
    assert rows(session, 0, 30) == [(anna.id, at(15), 1, Decimal("4990.00"))]


def test_lost_views_are_views_without_a_cart_or_an_order_since(
    session: Session, anna: Customer, boris: Customer, bag: Product, socks: Product
) -> None:
    bags = bag.category_id
    web_event(session, anna, "product_view", 0, product_id=bag.id, category_id=bags)
    web_event(session, anna, "product_view", 5, product_id=bag.id, category_id=bags)  # the last view counts
    web_event(session, anna, "product_view", 6, product_id=socks.id)
    web_event(session, anna, "category_view", 7, category_id=bags)
    # Socks went into the cart after their view; Boris bought after his view.
    web_event(
        session,
        anna,
        "container_change",
        8,
        product_id=socks.id,
        container_code="cart",
        container_action="add",
    )
    web_event(session, boris, "product_view", 1, product_id=bag.id, category_id=bags)
    purchase(session, boris, 2)

    def lost(kind: str) -> list[tuple[object, ...]]:
        statement = viewed_without_cart(session, at(0), at(60), kind).order_by("customer_id", "viewed_at")  # type: ignore[arg-type]
        return [tuple(row) for row in session.execute(statement)]

    assert lost("product") == [(anna.id, bag.id, bags, at(5))]
    assert lost("category") == [(anna.id, None, bags, at(7))]
    assert lost("any") == [(anna.id, bag.id, bags, at(5)), (anna.id, None, bags, at(7))]
    # Putting a bag in the cart ends both lost views (the category's: one of its products went in).
    web_event(
        session,
        anna,
        "container_change",
        9,
        product_id=bag.id,
        category_id=bags,
        container_code="cart",
        container_action="add",
    )
    assert lost("any") == []
