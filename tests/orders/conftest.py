"""Orders test helpers: the module switched on, customers, products and order bodies."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from smartcomm.audit.actor import Actor
from smartcomm.models import Customer
from smartcomm.orders.service import order_service
from tests.api.conftest import ApiClient, api_client
from tests.delivery.helpers import make_customer

ACTOR = Actor.system("tests")


def enable_orders(session: Session, enabled: bool = True) -> None:
    order_service.set_enabled(session, ACTOR, enabled)
    session.flush()


@pytest.fixture
def orders_on(session: Session) -> None:
    enable_orders(session)


@pytest.fixture
def api(client: TestClient, session: Session, orders_on: None) -> Iterator[ApiClient]:
    yield api_client(client, session)


@pytest.fixture
def anna(session: Session) -> Customer:
    return make_customer(session, external_id="C-1", first_name="Anna", last_name="Smirnova")


@pytest.fixture
def boris(session: Session) -> Customer:
    return make_customer(session, external_id="C-2", first_name="Boris", last_name="Orlov")


def order_body(number: str = "W-1001", customer: str = "C-1", **values: Any) -> dict[str, Any]:
    """A two-line courier order paid by card, awaiting payment."""
    body: dict[str, Any] = {
        "number": number,
        "customer_external_id": customer,
        "store": "web",
        "created_at": "2026-05-01T10:30:00+03:00",
        "statuses": {"general": "new", "payment": "awaiting_payment"},
        "delivery_cost": "300",
        "delivery": {"type": "courier", "carrier": "CDEK", "city": "Kazan", "street": "Baumana 1"},
        "payment": {"type": "card", "provider": "YooKassa"},
        "lines": [
            {"sku": "COF-250", "name": "Coffee 250 g", "quantity": "2", "price": "450.00"},
            {"sku": "MUG", "price": "990", "discount": "90", "bonus_redeemed": "100", "weight": "0.350"},
        ],
    }
    return body | values


def count(session: Session, model: type) -> int:
    return int(session.scalar(select(func.count()).select_from(model)) or 0)
