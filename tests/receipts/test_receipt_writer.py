"""Receipts: idempotent upsert by (store, number), lines, and the customer aggregates kept current."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from smartcomm.audit.actor import Actor
from smartcomm.customers.schemas import CustomerIn
from smartcomm.customers.service import customer_service
from smartcomm.kit.errors import InvalidInput
from smartcomm.models import Customer, Receipt, ReceiptLine, Store
from smartcomm.receipts.schemas import ReceiptIn
from smartcomm.receipts.service import receipt_service

API = Actor("api", None, "tests")


def customer(session: Session, external_id: str = "C-1") -> Customer:
    created, _ = customer_service.upsert(session, API, CustomerIn(external_id=external_id, first_name="Ivan"))
    return created


def receipt(number: str, when: str, lines: list[tuple[str, str, str]], **values: object) -> ReceiptIn:
    data = {
        "number": number,
        "store": "S1",
        "customer_external_id": "C-1",
        "purchased_at": when,
        "lines": [{"sku": sku, "quantity": qty, "price": price} for sku, qty, price in lines],
    }
    return ReceiptIn.model_validate(data | values)


def test_receipts_update_the_customer_aggregates(session: Session) -> None:
    buyer = customer(session)
    receipt_service.write(
        session,
        API,
        [
            receipt("R1", "2026-01-10T10:00:00+03:00", [("A", "2", "100.10"), ("B", "1", "0.35")]),
            receipt("R2", "2026-03-01T09:00:00+00:00", [("A", "1", "50")]),
        ],
    )
    session.refresh(buyer)
    assert buyer.receipt_count == 2
    assert buyer.total_amount == Decimal("250.55")
    assert buyer.average_receipt == Decimal("125.28")
    assert buyer.first_purchase_at == datetime(2026, 1, 10, 7, 0, tzinfo=UTC)
    assert buyer.last_purchase_at == datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def test_resending_a_receipt_replaces_it_instead_of_duplicating(session: Session) -> None:
    buyer = customer(session)
    first = receipt_service.write(
        session, API, [receipt("R1", "2026-01-10T10:00:00+03:00", [("A", "2", "10")])]
    )
    again = receipt_service.write(
        session, API, [receipt("R1", "2026-01-10T10:00:00+03:00", [("B", "1", "7.5")])]
    )

    assert (first.created, again.created, again.replaced) == (1, 0, 1)
    assert first.ids == again.ids
    assert session.scalar(select(func.count()).select_from(Receipt)) == 1
    assert [line.sku for line in session.scalars(select(ReceiptLine))] == ["B"]
    session.refresh(buyer)
    assert (buyer.receipt_count, buyer.total_amount) == (1, Decimal("7.50"))


def test_same_number_in_another_store_is_another_receipt(session: Session) -> None:
    customer(session)
    receipt_service.write(session, API, [receipt("R1", "2026-01-10T10:00:00Z", [("A", "1", "1")])])
    receipt_service.write(
        session, API, [receipt("R1", "2026-01-10T10:00:00Z", [("A", "1", "1")], store="S2")]
    )
    assert session.scalar(select(func.count()).select_from(Receipt)) == 2
    assert {s.code for s in session.scalars(select(Store))} >= {"S1", "S2"}


def test_cancelled_receipts_do_not_count_as_purchases(session: Session) -> None:
    buyer = customer(session)
    receipt_service.write(
        session,
        API,
        [
            receipt("R1", "2026-01-10T10:00:00Z", [("A", "1", "10")]),
            receipt("R2", "2026-02-10T10:00:00Z", [("A", "1", "99")], status="cancelled"),
        ],
    )
    session.refresh(buyer)
    assert (buyer.receipt_count, buyer.total_amount) == (1, Decimal("10.00"))
    cancelled_line = session.scalars(select(ReceiptLine).where(ReceiptLine.price == Decimal("99"))).one()
    assert cancelled_line.is_purchase is False


def test_unknown_customer_rejects_the_batch_and_writes_nothing(session: Session) -> None:
    customer(session)
    batch = [
        receipt("R1", "2026-01-10T10:00:00Z", [("A", "1", "10")]),
        receipt("R2", "2026-01-10T10:00:00Z", [("A", "1", "10")], customer_external_id="NOPE"),
    ]
    with pytest.raises(InvalidInput) as raised:
        receipt_service.write(session, API, batch)
    assert [e.field for e in raised.value.errors] == ["receipts[1].customer_external_id"]
    assert session.scalar(select(func.count()).select_from(Receipt)) == 0


def test_total_defaults_to_the_sum_of_lines(session: Session) -> None:
    customer(session)
    result = receipt_service.write(
        session, API, [receipt("R9", "2026-01-10T10:00:00Z", [("A", "3", "1.10")])]
    )
    stored, lines = receipt_service.get(session, result.ids[0])
    assert stored.total == Decimal("3.30") and stored.item_count == Decimal("3.000")
    assert lines[0].amount == Decimal("3.30")
