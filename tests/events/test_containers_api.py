"""Containers over the API: add, remove, set and clear products of a customer's list."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import time_machine
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from smartcomm.kit.time import utcnow
from smartcomm.models import AuditEntry, Container, ContainerItem, ContainerState
from tests.events.conftest import make_customer, make_product

URL = "/api/v1/customers/C-1/containers"


def change(client: TestClient, headers: dict[str, str], code: str, body: dict[str, Any]) -> Any:
    return client.post(f"{URL}/{code}", json=body, headers=headers)


def test_adding_removing_and_clearing_products_updates_the_list_and_its_time(
    client: TestClient, session: Session, api_headers: dict[str, str]
) -> None:
    anna = make_customer(session, "C-1")
    make_product(session, "BAG-1", "Leather bag", "4990.00")
    make_product(session, "HAT-1", "Hat", "990.00")
    # Times just ahead of now, so the API token stays valid.
    start = utcnow().replace(microsecond=0) + timedelta(minutes=1)
    with time_machine.travel(start, tick=False):
        added = change(
            client,
            api_headers,
            "cart",
            {
                "action": "add",
                "items": [
                    {"sku": "BAG-1", "quantity": 1, "price": "4500"},
                    {"sku": "HAT-1"},
                ],
            },
        )
        change(client, api_headers, "cart", {"action": "add", "items": [{"sku": "BAG-1", "quantity": 2}]})
    with time_machine.travel(start + timedelta(minutes=5), tick=False):
        removed = change(client, api_headers, "cart", {"action": "remove", "items": [{"sku": "HAT-1"}]})

    assert added.status_code == 200, added.text
    assert [(i["sku"], i["quantity"]) for i in added.json()["items"]] == [
        ("BAG-1", "1.000"),
        ("HAT-1", "1.000"),
    ]
    cart = removed.json()
    assert datetime.fromisoformat(cart["changed_at"]) == start + timedelta(minutes=5)
    assert cart["item_count"] == 1
    assert [(i["sku"], i["name"], i["price"], i["quantity"]) for i in cart["items"]] == [
        ("BAG-1", "Leather bag", "4500.00", "3.000"),
    ]
    history = session.scalars(
        select(AuditEntry)
        .where(AuditEntry.object_type == "customer", AuditEntry.object_id == str(anna.id))
        .order_by(AuditEntry.id)
    ).all()
    assert history[-1].changes == {"containers.cart": [{"BAG-1": "3", "HAT-1": "1"}, {"BAG-1": "3"}]}

    with time_machine.travel(start + timedelta(minutes=9), tick=False):
        cleared = change(client, api_headers, "cart", {"action": "clear"})
    assert (cleared.json()["items"], cleared.json()["item_count"]) == ([], 0)
    state = session.get(ContainerState, (anna.id, cart_id(session)))
    assert state is not None and state.changed_at == start + timedelta(minutes=9)


def cart_id(session: Session) -> int:
    return session.scalars(select(Container.id).where(Container.code == "cart")).one()


def test_set_replaces_the_quantity_and_zero_removes_the_product(
    client: TestClient, session: Session, api_headers: dict[str, str]
) -> None:
    make_customer(session, "C-1")
    make_product(session, "BAG-1", "Leather bag", "4990.00")
    change(client, api_headers, "wishlist", {"action": "set", "items": [{"sku": "BAG-1", "quantity": 5}]})
    five = client.get(URL, headers=api_headers).json()
    change(client, api_headers, "wishlist", {"action": "set", "items": [{"sku": "BAG-1", "quantity": 0}]})
    none = client.get(URL, headers=api_headers).json()

    assert [(c["code"], [(i["sku"], i["quantity"], i["price"]) for i in c["items"]]) for c in five] == [
        ("wishlist", [("BAG-1", "5.000", "4990.00")]),
    ]
    assert [(c["code"], c["item_count"], c["items"]) for c in none] == [("wishlist", 0, [])]


def test_unknown_products_and_containers_are_refused_and_nothing_changes(
    client: TestClient, session: Session, api_headers: dict[str, str]
) -> None:
    make_customer(session, "C-1")
    make_product(session, "BAG-1", "Leather bag", "4990.00")
    unknown_sku = change(
        client,
        api_headers,
        "cart",
        {
            "action": "add",
            "items": [
                {"sku": "BAG-1"},
                {"sku": "NOPE"},
            ],
        },
    )
    unknown_container = change(client, api_headers, "basket", {"action": "add", "items": [{"sku": "BAG-1"}]})
    no_items = change(client, api_headers, "cart", {"action": "add", "items": []})
    unknown_customer = client.post(
        "/api/v1/customers/NOBODY/containers/cart", json={"action": "clear"}, headers=api_headers
    )

    assert unknown_sku.status_code == 422
    assert [e["field"] for e in unknown_sku.json()["errors"]] == ["items[1].sku"]
    assert unknown_container.status_code == 404
    assert (no_items.status_code, no_items.json()["errors"][0]["field"]) == (422, "items")
    assert unknown_customer.status_code == 404
    assert session.scalar(select(func.count()).select_from(ContainerItem)) == 0
    assert session.scalar(select(func.count()).select_from(ContainerState)) == 0
