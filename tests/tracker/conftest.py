"""Customers, products, carts and orders at chosen times for the site tracker tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from smartcomm.containers.service import ItemChange, container_service
from smartcomm.models import Container, Customer, EventSource, Product, Receipt, Store, WebEvent
from smartcomm.models.containers import CART_CODE
from tests.events.conftest import make_customer, make_product
from tests.tracking.conftest import add_source

T0 = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)


def at(minutes: float = 0) -> datetime:
    return T0 + timedelta(minutes=minutes)


def cart_id(session: Session) -> int:
    return session.scalars(select(Container.id).where(Container.code == CART_CODE)).one()


def put_in_cart(
    session: Session,
    customer: Customer,
    product: Product,
    quantity: str,
    minutes: float,
    price: str | None = None,
) -> None:
    """Add the product to the customer's cart at T0 + minutes (as the tracker's container writes do)."""
    change = ItemChange(product.id, Decimal(quantity), Decimal(price) if price is not None else None)
    container_service.apply(session, customer.id, cart_id(session), "add", [change], at(minutes))


def purchase(session: Session, customer: Customer, minutes: float, number: str = "R-1") -> None:
    """A receipt from the till (not the tracker) at T0 + minutes."""
    store = session.scalars(select(Store).where(Store.code == "till")).first()
    if store is None:
        store = Store(code="till", name="Till", is_online=False)
        session.add(store)
        session.flush()
    session.add(
        Receipt(
            number=number,
            store_id=store.id,
            customer_id=customer.id,
            purchased_at=at(minutes),
            total=Decimal("100.00"),
            custom={},
        )
    )
    session.flush()


def web_event(session: Session, customer: Customer, kind: str, minutes: float, **values: object) -> None:
    session.add(
        WebEvent(
            kind=kind, customer_id=customer.id, occurred_at=at(minutes), snapshot={}, context={}, **values
        )
    )
    session.flush()


@pytest.fixture
def anna(session: Session) -> Customer:
    return make_customer(session, "C-1", first_name="Anna")


@pytest.fixture
def boris(session: Session) -> Customer:
    return make_customer(session, "C-2", first_name="Boris")


@pytest.fixture
def bag(session: Session) -> Product:
    return make_product(session, "BAG-1", "Leather bag", "4990.00", category=("bags", "Bags"))


@pytest.fixture
def socks(session: Session) -> Product:
    return make_product(session, "SOCKS", "Wool socks", "245.25")


@pytest.fixture
def shop(session: Session) -> EventSource:
    return add_source(session)
