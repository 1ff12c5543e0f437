"""What orders publish: one `order.created` per batch with every new order, one `order.status_changed`
per action with every change (never for a new order's first statuses), in the transaction of the write."""

from __future__ import annotations

from sqlalchemy.orm import Session

from smartcomm.models import Customer
from tests.api.conftest import ApiClient
from tests.orders.conftest import order_body
from tests.outbox.conftest import latest_event_id, published


def test_a_batch_publishes_one_created_event_with_every_order(
    api: ApiClient, session: Session, anna: Customer, boris: Customer
) -> None:
    mark = latest_event_id(session)
    batch = [order_body("W-1"), order_body("W-2", "C-2", statuses={"delivery": "assembling"})]
    ids = api.post("/api/v1/orders/batch", json={"orders": batch}).json()["ids"]

    [event] = published(session, after=mark)
    assert (event.kind, event.customer_id) == ("order.created", None)
    assert event.payload == {
        "customer_ids": sorted([anna.id, boris.id]),
        "orders": [
            {
                "id": ids[0],
                "customer_id": anna.id,
                "number": "W-1",
                "store_id": event.payload["orders"][0]["store_id"],
                "total": "2100.00",
                "created_at": "2026-05-01T07:30:00+00:00",
                "general": "new",
                "delivery": None,
                "payment": "awaiting_payment",
            },
            {
                "id": ids[1],
                "customer_id": boris.id,
                "number": "W-2",
                "store_id": event.payload["orders"][0]["store_id"],
                "total": "2100.00",
                "created_at": "2026-05-01T07:30:00+00:00",
                "general": None,
                "delivery": "assembling",
                "payment": None,
            },
        ],
    }
    assert isinstance(event.payload["orders"][0]["store_id"], int)


def test_status_changes_publish_their_changes(api: ApiClient, session: Session, anna: Customer) -> None:
    [order_id] = api.post("/api/v1/orders", json=order_body()).json()["ids"]
    mark = latest_event_id(session)

    api.post("/api/v1/orders", json=order_body(statuses={"general": "confirmed", "payment": "paid"}))
    api.post("/api/v1/orders", json=order_body(statuses={"general": "confirmed", "payment": "paid"}))
    api.patch("/api/v1/orders/W-1001/status", json={"dimension": "delivery", "code": "shipped"})

    replaced, patched = published(session, after=mark)  # the same order again publishes nothing
    assert (replaced.kind, patched.kind) == ("order.status_changed", "order.status_changed")
    changes = replaced.payload["changes"]
    assert replaced.payload["customer_ids"] == [anna.id]
    assert [(c["order_id"], c["customer_id"], c["dimension"], c["from"], c["to"]) for c in changes] == [
        (order_id, anna.id, "general", "new", "confirmed"),
        (order_id, anna.id, "payment", "awaiting_payment", "paid"),
    ]
    assert changes[0]["changed_at"].endswith("+00:00")
    [change] = patched.payload["changes"]
    assert (change["dimension"], change["from"], change["to"]) == ("delivery", None, "shipped")


def test_a_refused_write_publishes_nothing(api: ApiClient, session: Session, anna: Customer) -> None:
    mark = latest_event_id(session)
    api.post("/api/v1/orders/batch", json={"orders": [order_body("W-1"), order_body("W-2", "NOBODY")]})
    api.patch("/api/v1/orders/W-1/status", json={"dimension": "delivery", "code": "shipped"})
    assert published(session, after=mark) == []
