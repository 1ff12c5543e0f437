"""Receipts over the REST API: idempotent by store and number, exact aggregates, field paths."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from smartcomm.models import AuditEntry, Receipt, ReceiptLine
from tests.api.conftest import ApiClient

RECEIPTS = [
    {
        "number": "R1",
        "store": "S1",
        "customer_external_id": "C-1",
        "purchased_at": "2026-01-10T10:00:00+03:00",
        "lines": [
            {"sku": "A", "quantity": "2", "price": "100.10"},
            {"sku": "B", "quantity": "1", "price": "0.35"},
        ],
    },
    {
        "number": "R2",
        "store": "S1",
        "customer_external_id": "C-1",
        "purchased_at": "2026-03-01T09:00:00Z",
        "lines": [{"sku": "A", "quantity": "1", "price": "50"}],
    },
]


def count(session: Session, model: type) -> int:
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_sending_receipts_again_replaces_them_and_keeps_aggregates_exact(
    api: ApiClient, session: Session
) -> None:
    api.put("/api/v1/customers/C-1", json={"first_name": "Ivan"})
    first = api.post("/api/v1/receipts/batch", json={"receipts": RECEIPTS})
    again = api.post("/api/v1/receipts/batch", json={"receipts": RECEIPTS})

    assert first.status_code == again.status_code == 200
    assert (first.json()["created"], first.json()["replaced"]) == (2, 0)
    assert (again.json()["created"], again.json()["replaced"]) == (0, 2)
    assert first.json()["ids"] == again.json()["ids"]
    assert (count(session, Receipt), count(session, ReceiptLine)) == (2, 3)
    customer = api.get("/api/v1/customers/C-1").json()
    assert customer["receipt_count"] == 2
    assert customer["total_amount"] == "250.55" and Decimal(customer["total_amount"]) == Decimal("250.55")
    assert customer["average_receipt"] == "125.28"
    assert customer["first_purchase_at"].startswith("2026-01-10T07:00:00")


def test_one_receipt_and_its_lines(api: ApiClient, session: Session) -> None:
    api.put("/api/v1/customers/C-1", json={"first_name": "Ivan"})
    written = api.post("/api/v1/receipts", json=RECEIPTS[0])
    assert written.status_code == 200, written.text
    [receipt_id] = written.json()["ids"]

    receipt = api.get(f"/api/v1/receipts/{receipt_id}").json()
    assert (receipt["number"], receipt["total"], receipt["item_count"], receipt["status"]) == (
        "R1",
        "200.55",
        "3.000",
        "paid",
    )
    assert [(ln["position"], ln["sku"], ln["amount"]) for ln in receipt["lines"]] == [
        (1, "A", "200.20"),
        (2, "B", "0.35"),
    ]
    assert api.get("/api/v1/receipts/999999").status_code == 404


def test_a_refused_receipt_names_its_field_and_writes_nothing(api: ApiClient, session: Session) -> None:
    single = api.post("/api/v1/receipts", json=RECEIPTS[0] | {"customer_external_id": "NOBODY"})
    assert single.status_code == 422
    assert [e["field"] for e in single.json()["errors"]] == ["customer_external_id"]

    api.put("/api/v1/customers/C-1", json={"first_name": "Ivan"})
    bad_line = RECEIPTS[1] | {"lines": [{"sku": "A", "price": "-1"}]}
    batch = api.post("/api/v1/receipts/batch", json={"receipts": [RECEIPTS[0], bad_line]})
    assert batch.status_code == 422
    assert [e["field"] for e in batch.json()["errors"]] == ["receipts[1].lines[0].price"]
    assert (count(session, Receipt), count(session, ReceiptLine)) == (0, 0)
    assert session.scalar(select(func.count()).where(AuditEntry.object_type == "receipt_batch")) == 0


def test_a_receipt_with_neither_lines_nor_total_is_refused_naming_lines(
    api: ApiClient, session: Session
) -> None:
    api.put("/api/v1/customers/C-1", json={"first_name": "Ivan"})
    empty = {key: value for key, value in RECEIPTS[0].items() if key != "lines"}

    alone = api.post("/api/v1/receipts", json={**empty, "lines": []})
    in_batch = api.post("/api/v1/receipts/batch", json={"receipts": [RECEIPTS[1], empty]})

    assert alone.status_code == in_batch.status_code == 422
    assert [(e["field"], e["code"]) for e in alone.json()["errors"]] == [("lines", "lines_or_total")]
    assert [e["field"] for e in in_batch.json()["errors"]] == ["receipts[1].lines"]
    assert count(session, Receipt) == 0


def test_a_receipt_of_its_header_only_counts_with_the_total_it_gives(
    api: ApiClient, session: Session
) -> None:
    api.put("/api/v1/customers/C-1", json={"first_name": "Ivan"})
    header = {key: value for key, value in RECEIPTS[0].items() if key != "lines"}

    response = api.post("/api/v1/receipts", json={**header, "total": "1250.00"})

    assert response.status_code == 200, response.text
    stored = api.get(f"/api/v1/receipts/{response.json()['ids'][0]}").json()
    assert (stored["total"], stored["item_count"], stored["lines"]) == ("1250.00", "0.000", [])
    customer = api.get("/api/v1/customers/C-1").json()
    assert (customer["receipt_count"], customer["total_amount"]) == (1, "1250.00")
