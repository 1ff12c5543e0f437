"""Orders over the REST API: created and replaced by number, statuses changed per dimension with their
history, field paths on bad input with nothing written, and the module switch."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from smartcomm.models import AuditEntry, Customer, Order, OrderLine, OrderStatusChange
from tests.api.conftest import ApiClient
from tests.orders.conftest import count, order_body


def test_an_order_is_created_with_its_lines_and_read_back(api: ApiClient, anna: Customer) -> None:
    written = api.post("/api/v1/orders", json=order_body())
    assert written.status_code == 200, written.text
    assert (written.json()["created"], written.json()["replaced"]) == (1, 0)

    order = api.get("/api/v1/orders/W-1001").json()
    assert (order["customer_id"], order["store"], order["created_at"][:19]) == (
        anna.id,
        "web",
        "2026-05-01T07:30:00",
    )
    assert order["statuses"] == {"general": "new", "delivery": None, "payment": "awaiting_payment"}
    # 2 × 450 + (990 − 90) + 300 delivery; nothing paid in bonus at the order level.
    assert (order["total"], order["cash_part"], order["bonus_part"]) == ("2100.00", "2100.00", "0.00")
    assert order["delivery"]["type"] == "courier" and order["payment"]["provider"] == "YooKassa"
    lines = [(ln["position"], ln["sku"], ln["amount"], ln["cash_part"]) for ln in order["lines"]]
    assert lines == [(1, "COF-250", "900.00", "900.00"), (2, "MUG", "900.00", "800.00")]
    assert order["lines"][1]["weight"] == "0.350"
    assert [(h["dimension"], h["from"], h["to"]) for h in order["history"]] == [
        ("general", None, "new"),
        ("payment", None, "awaiting_payment"),
    ]


def test_sending_an_order_again_replaces_it_and_records_only_real_status_changes(
    api: ApiClient, session: Session, anna: Customer
) -> None:
    first = api.post("/api/v1/orders", json=order_body())
    again = api.post("/api/v1/orders", json=order_body())
    paid = order_body(statuses={"general": "new", "payment": "paid"}, lines=[{"sku": "MUG", "price": "5"}])
    replaced = api.post("/api/v1/orders", json=paid | {"total": "5"})

    assert first.json()["ids"] == again.json()["ids"] == replaced.json()["ids"]
    assert (again.json()["created"], again.json()["replaced"]) == (0, 1)
    assert (count(session, Order), count(session, OrderLine)) == (1, 1)
    history = api.get("/api/v1/orders/W-1001").json()["history"]
    assert [(h["dimension"], h["from"], h["to"]) for h in history] == [
        ("general", None, "new"),
        ("payment", None, "awaiting_payment"),
        ("payment", "awaiting_payment", "paid"),
    ]


def test_a_status_change_is_kept_in_the_history_and_the_same_status_again_changes_nothing(
    api: ApiClient, session: Session, anna: Customer
) -> None:
    api.post("/api/v1/orders", json=order_body())

    shipped = api.patch("/api/v1/orders/W-1001/status", json={"dimension": "delivery", "code": "shipped"})
    repeated = api.patch("/api/v1/orders/W-1001/status", json={"dimension": "delivery", "code": "shipped"})
    cancelled = api.post("/api/v1/orders/W-1001/cancel")

    assert shipped.status_code == repeated.status_code == cancelled.status_code == 200
    assert cancelled.json()["statuses"] == {
        "general": "cancelled",
        "delivery": "shipped",
        "payment": "awaiting_payment",
    }
    assert cancelled.json()["in_analytics"] is False  # "cancelled" is left out of analytics
    assert count(session, OrderStatusChange) == 4
    assert [(h["from"], h["to"]) for h in cancelled.json()["history"][2:]] == [
        (None, "shipped"),
        ("new", "cancelled"),
    ]
    audited = session.scalars(
        select(AuditEntry.changes).where(AuditEntry.object_type == "order", AuditEntry.action == "update")
    ).all()
    assert audited == [{"status.delivery": [None, "shipped"]}, {"status.general": ["new", "cancelled"]}]


def test_a_batch_and_a_customers_orders(api: ApiClient, anna: Customer, boris: Customer) -> None:
    orders = [
        order_body("W-1", created_at="2026-05-01T10:00:00Z"),
        order_body("W-2", "C-2"),
        order_body("W-3", created_at="2026-06-01T10:00:00Z", statuses={}),
    ]
    written = api.post("/api/v1/orders/batch", json={"orders": orders})
    assert written.status_code == 200, written.text
    assert written.json()["created"] == 3

    page = api.get("/api/v1/customers/C-1/orders").json()
    assert [order["number"] for order in page["items"]] == ["W-3", "W-1"]  # newest first
    assert page["total"] == 2 and len(page["items"][0]["lines"]) == 2
    assert api.get("/api/v1/customers/NOBODY/orders").status_code == 404


def test_bad_input_names_the_field_and_writes_nothing(
    api: ApiClient, session: Session, anna: Customer
) -> None:
    unknown_status = api.post("/api/v1/orders", json=order_body(statuses={"payment": "settled"}))
    nobody = api.post("/api/v1/orders", json=order_body(customer="NOBODY"))
    negative = api.post(
        "/api/v1/orders/batch",
        json={"orders": [order_body("W-1"), order_body("W-2", lines=[{"sku": "A", "price": "-1"}])]},
    )
    bad_type = api.post("/api/v1/orders", json=order_body(delivery={"type": "drone"}))
    naive = api.post("/api/v1/orders", json=order_body(created_at="2026-05-01T10:30:00"))
    bad_change = api.patch("/api/v1/orders/W-1001/status", json={"dimension": "mood", "code": "x"})

    assert [e["field"] for e in unknown_status.json()["errors"]] == ["statuses.payment"]
    assert [e["field"] for e in nobody.json()["errors"]] == ["customer_external_id"]
    assert [e["field"] for e in negative.json()["errors"]] == ["orders[1].lines[0].price"]
    assert [e["field"] for e in bad_type.json()["errors"]] == ["delivery.type"]
    assert [e["field"] for e in naive.json()["errors"]] == ["created_at"]
    assert [e["field"] for e in bad_change.json()["errors"]] == ["dimension"]
    for response in (unknown_status, nobody, negative, bad_type, naive, bad_change):
        assert response.status_code == 422
    assert (count(session, Order), count(session, OrderLine), count(session, OrderStatusChange)) == (0, 0, 0)
    assert (
        session.scalar(select(AuditEntry.id).where(AuditEntry.object_type.in_(("order", "order_batch"))))
        is None
    )


def test_an_unknown_status_code_in_a_change_names_the_code(
    api: ApiClient, session: Session, anna: Customer
) -> None:
    api.post("/api/v1/orders", json=order_body())
    refused = api.patch("/api/v1/orders/W-1001/status", json={"dimension": "delivery", "code": "paid"})
    missing = api.patch("/api/v1/orders/NOPE/status", json={"dimension": "delivery", "code": "shipped"})
    assert refused.status_code == 422 and [e["field"] for e in refused.json()["errors"]] == ["code"]
    assert missing.status_code == 404
    assert count(session, OrderStatusChange) == 2  # the two of the creation


def test_hostile_json_gets_4xx_never_5xx(api: ApiClient, session: Session, anna: Customer) -> None:
    bodies = [
        "[]",
        '{"number": null}',
        '{"number": "W\\u0000", "customer_external_id": "C-1", "created_at": "2026-05-01T10:00:00Z"}',
        order_body(total="1e400"),
        order_body(total="NaN"),
        order_body(lines=[{"sku": "A", "price": "1", "quantity": 10**30}]),
        order_body(customer_id=2**70, customer_external_id=None),
        order_body(extra="field"),
        order_body(statuses={"general": "x" * 65}),
        order_body(lines="not a list"),
        order_body(number="x" * 65),
    ]
    for body in bodies:
        if isinstance(body, str):
            response = api.post("/api/v1/orders", content=body, headers={"Content-Type": "application/json"})
        else:
            response = api.post("/api/v1/orders", json=body)
        assert 400 <= response.status_code < 500, (body, response.text)
    assert api.get("/api/v1/orders/%00").status_code in (404, 422)
    assert count(session, Order) == 0


def test_every_orders_endpoint_answers_409_while_orders_are_off(
    api: ApiClient, session: Session, anna: Customer
) -> None:
    from tests.orders.conftest import enable_orders

    enable_orders(session, False)
    answers = [
        api.post("/api/v1/orders", json=order_body()),
        api.post("/api/v1/orders/batch", json={"orders": [order_body()]}),
        api.get("/api/v1/orders/W-1001"),
        api.patch("/api/v1/orders/W-1001/status", json={"dimension": "general", "code": "new"}),
        api.get("/api/v1/customers/C-1/orders"),
    ]
    assert {response.status_code for response in answers} == {409}
    assert {response.json()["errors"][0]["code"] for response in answers} == {"orders_disabled"}
    assert "Settings → Order statuses" in answers[0].json()["errors"][0]["title"]
    assert count(session, Order) == 0
    # The dictionary can be prepared before the module is turned on.
    assert api.get("/api/v1/order-statuses").status_code == 200


def test_the_status_dictionary(api: ApiClient, session: Session, anna: Customer) -> None:
    api.post("/api/v1/orders", json=order_body())
    created = api.post(
        "/api/v1/order-statuses",
        json={"dimension": "delivery", "code": "returned", "name": "Returned", "include_in_analytics": False},
    )
    assert created.status_code == 201, created.text
    assert (created.json()["position"], created.json()["orders"]) == (5, 0)
    duplicate = api.post(
        "/api/v1/order-statuses", json={"dimension": "delivery", "code": "returned", "name": "Again"}
    )
    assert duplicate.status_code == 409 and duplicate.json()["errors"][0]["field"] == "code"
    bad_code = api.post(
        "/api/v1/order-statuses", json={"dimension": "delivery", "code": "Not OK", "name": "x"}
    )
    assert bad_code.status_code == 422 and bad_code.json()["errors"][0]["field"] == "code"

    statuses = api.get("/api/v1/order-statuses", params={"dimension": "general"}).json()
    assert [s["code"] for s in statuses] == ["new", "confirmed", "in_progress", "completed", "cancelled"]
    new = statuses[0]
    assert new["orders"] == 1

    in_use = api.request("DELETE", f"/api/v1/order-statuses/{new['id']}")
    assert in_use.status_code == 409 and "cannot be deleted" in in_use.json()["errors"][0]["title"]
    # Leaving "new" out of analytics takes the order out of the metrics at once.
    changed = api.patch(
        f"/api/v1/order-statuses/{new['id']}", json={"include_in_analytics": False, "code": "fresh"}
    )
    assert (changed.json()["code"], changed.json()["orders"]) == ("fresh", 1)
    order = api.get("/api/v1/orders/W-1001").json()
    assert (order["statuses"]["general"], order["in_analytics"]) == ("fresh", False)
    assert order["history"][0]["to"] == "new"  # the history keeps the code of its time
    assert api.request("DELETE", f"/api/v1/order-statuses/{created.json()['id']}").status_code == 204
    assert session.get(Order, order["id"]).total == Decimal("2100.00")


def test_a_write_sent_again_with_its_idempotency_key_is_answered_without_running_again(
    api: ApiClient, session: Session, anna: Customer
) -> None:
    first = api.post("/api/v1/orders", json=order_body(), key="W-1001-v1")
    again = api.post("/api/v1/orders", json=order_body(), key="W-1001-v1")
    other = api.post("/api/v1/orders", json=order_body(number="W-2"), key="W-1001-v1")

    assert first.json() == again.json() and again.headers["Idempotent-Replayed"] == "true"
    assert other.status_code == 422  # the same key with another request
    written = select(AuditEntry.id).where(AuditEntry.object_type == "order")
    assert len(session.scalars(written).all()) == 1
