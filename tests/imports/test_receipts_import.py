"""Importing receipts: one row per line, grouped into receipts, upserted by store and number."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from smartcomm.imports import service
from smartcomm.imports.runner import import_file
from smartcomm.models import Customer, Product, Receipt, ReceiptLine, Store
from tests.imports.conftest import WriteCsv, add_customers, add_field, counts

HEADER = (
    "number,store,customer_external_id,purchased_at,status,total,bonus_earned,"
    "sku,quantity,price,amount,line_discount"
)
ROWS = (
    # R1 has three lines, and its last row comes after R2's (rows of a receipt need not be adjacent).
    "R1,S1,C-1,2026-01-10 10:00,,,5,A,2,100.10,,\n"
    'R1,S1,C-1,2026-01-10 10:00,,,5,B,1,"0,35",,\n'
    "R2,S1,C-2,2026-02-01T09:00:00+00:00,paid,150,,A,1,100,,\n"
    "R2,S1,C-2,2026-02-01T09:00:00+00:00,paid,150,,C,0.5,99.99,60,\n"
    "R1,S1,C-1,2026-01-10 10:00,,,5,A,1.5,10,,1.01\n"
    "R3,S1,C-1,2026-03-01T12:00:00Z,cancelled,,,A,1,999,,\n"
)


def receipt(session: Session, number: str) -> Receipt:
    found = session.scalar(select(Receipt).where(Receipt.number == number))
    assert found is not None
    return found


def lines_of(session: Session, receipt_id: int) -> list[tuple[int, str, Decimal, Decimal, Decimal, Decimal]]:
    statement = select(ReceiptLine).where(ReceiptLine.receipt_id == receipt_id).order_by(ReceiptLine.position)
    return [
        (ln.position, ln.sku, ln.quantity, ln.price, ln.amount, ln.discount)
        for ln in session.scalars(statement)
    ]


def test_rows_become_receipts_with_lines_and_aggregates(session: Session, write_csv: WriteCsv) -> None:
    buyers = add_customers(session, "C-1", "C-2")
    session.add(Product(classifier_id=1, sku="A", name="Apples", category_id=None, custom={}))
    session.commit()
    summary = import_file("receipts", write_csv(HEADER + "\n" + ROWS))

    assert (summary.status, summary.total_rows, summary.imported_rows, summary.error_rows) == (
        "done",
        6,
        6,
        0,
    )
    r1 = receipt(session, "R1")
    assert lines_of(session, r1.id) == [
        (1, "A", Decimal("2.000"), Decimal("100.10"), Decimal("200.20"), Decimal("0.00")),
        (2, "B", Decimal("1.000"), Decimal("0.35"), Decimal("0.35"), Decimal("0.00")),
        (3, "A", Decimal("1.500"), Decimal("10.00"), Decimal("13.99"), Decimal("1.01")),
    ]
    assert (r1.total, r1.item_count, r1.bonus_earned, r1.status) == (
        Decimal("214.54"),
        Decimal("4.500"),
        Decimal("5.00"),
        "paid",
    )
    # Without an offset the time is in the project time zone (Europe/Moscow, UTC+3).
    assert r1.purchased_at == datetime(2026, 1, 10, 7, 0, tzinfo=UTC)
    r2 = receipt(session, "R2")
    assert r2.total == Decimal("150.00") and lines_of(session, r2.id)[1][4] == Decimal("60.00")
    apples = session.scalar(select(Product.id).where(Product.sku == "A"))
    assert {ln.product_id for ln in session.scalars(select(ReceiptLine).where(ReceiptLine.sku == "A"))} == {
        apples
    }
    assert session.scalar(select(Store.name).where(Store.code == "S1")) == "S1"

    first, second = (session.get(Customer, buyers[c].id) for c in ("C-1", "C-2"))
    assert first is not None and second is not None
    session.refresh(first)
    session.refresh(second)
    # The cancelled receipt R3 is stored but is not a purchase.
    assert (first.receipt_count, first.total_amount) == (1, Decimal("214.54"))
    assert (second.receipt_count, second.total_amount, second.last_purchase_at) == (
        1,
        Decimal("150.00"),
        datetime(2026, 2, 1, 9, 0, tzinfo=UTC),
    )
    cancelled = receipt(session, "R3")
    assert [
        ln.is_purchase
        for ln in session.scalars(select(ReceiptLine).where(ReceiptLine.receipt_id == cancelled.id))
    ] == [False]


def aggregates(session: Session) -> dict[str, tuple[object, ...]]:
    session.expire_all()
    return {
        c.external_id: (
            c.receipt_count,
            c.total_amount,
            c.average_receipt,
            c.first_purchase_at,
            c.last_purchase_at,
        )
        for c in session.scalars(select(Customer))
    }


@pytest.mark.parametrize("batch_rows", [1, 50_000])
def test_importing_the_same_file_again_replaces_instead_of_duplicating(
    session: Session, write_csv: WriteCsv, monkeypatch: pytest.MonkeyPatch, batch_rows: int
) -> None:
    monkeypatch.setattr(service, "BATCH_ROWS", batch_rows)
    add_customers(session, "C-1", "C-2")
    path = write_csv(HEADER + "\n" + ROWS)
    import_file("receipts", path)
    before = counts(session)
    first_ids = {r.number: r.id for r in session.scalars(select(Receipt))}
    first_aggregates = aggregates(session)

    again = import_file("receipts", path)

    assert again.status == "done" and again.imported_rows == 6
    assert aggregates(session) == first_aggregates
    after = counts(session)
    assert {k: v for k, v in after.items() if k != "audit"} == {
        k: v for k, v in before.items() if k != "audit"
    }
    assert {r.number: r.id for r in session.scalars(select(Receipt))} == first_ids
    assert [line[1] for line in lines_of(session, first_ids["R1"])] == ["A", "B", "A"]
    buyer = session.scalar(select(Customer).where(Customer.external_id == "C-1"))
    assert buyer is not None and (buyer.receipt_count, buyer.total_amount) == (1, Decimal("214.54"))


def test_a_receipt_moved_to_another_customer_updates_both(session: Session, write_csv: WriteCsv) -> None:
    add_customers(session, "C-1", "C-2")
    import_file("receipts", write_csv(HEADER + "\nR9,S1,C-1,2026-01-10 10:00,,,,A,1,10,,\n"))
    import_file("receipts", write_csv(HEADER + "\nR9,S1,C-2,2026-01-10 10:00,,,,A,1,12,,\n"))

    totals = dict(session.execute(select(Customer.external_id, Customer.total_amount)).all())
    assert totals == {"C-1": Decimal("0.00"), "C-2": Decimal("12.00")}


@pytest.mark.parametrize("batch_rows", [2, 50_000])
def test_one_bad_row_rejects_the_file_and_nothing_is_written(
    session: Session, write_csv: WriteCsv, monkeypatch: pytest.MonkeyPatch, batch_rows: int
) -> None:
    monkeypatch.setattr(service, "BATCH_ROWS", batch_rows)  # the bad row is in the last batch
    add_customers(session, "C-1", "C-2")
    before = counts(session)
    bad = ROWS + "R4,S2,NOBODY,2026-01-10 10:00,,,,A,1,1.005,,\n"

    summary = import_file("receipts", write_csv(HEADER + "\n" + bad))

    assert (summary.status, summary.imported_rows, summary.error_rows, summary.total_rows) == (
        "rejected",
        0,
        1,
        7,
    )
    assert [(e.row, e.column, e.message) for e in summary.errors] == [
        (8, "customer_external_id", "no customer with this external id"),
        (8, "price", "at most 2 decimal places"),
    ]
    assert counts(session) == before


@pytest.mark.parametrize("batch_rows", [1, 50_000])
def test_valid_rows_only_skips_whole_receipts_with_a_bad_line(
    session: Session, write_csv: WriteCsv, monkeypatch: pytest.MonkeyPatch, batch_rows: int
) -> None:
    monkeypatch.setattr(service, "BATCH_ROWS", batch_rows)
    add_customers(session, "C-1", "C-2")
    # The second line of R2 has a negative price: all of R2 stays out, the rest goes in.
    bad = ROWS.replace("C,0.5,99.99,60", "C,0.5,-1,60")
    summary = import_file("receipts", write_csv(HEADER + "\n" + bad), valid_rows_only=True)

    assert (summary.status, summary.total_rows, summary.imported_rows, summary.error_rows) == (
        "done",
        6,
        4,
        2,
    )
    assert [(e.row, e.column, e.message) for e in summary.errors] == [
        (4, "number", "not imported: row 5 of the same receipt has an error"),
        (5, "price", "must not be negative"),
    ]
    assert sorted(session.scalars(select(Receipt.number))) == ["R1", "R3"]


def test_rows_of_one_receipt_must_agree(session: Session, write_csv: WriteCsv) -> None:
    add_customers(session, "C-1")
    rows = "R1,S1,C-1,2026-01-10 10:00,,,,A,1,10,,\nR1,S1,C-1,2026-01-11 10:00,,,,B,1,10,,\n"
    summary = import_file("receipts", write_csv(HEADER + "\n" + rows))

    assert summary.status == "rejected"
    assert [(e.row, e.column) for e in summary.errors] == [(3, "number")]
    assert "differ from an earlier row" in summary.errors[0].message


def test_custom_fields_of_receipts_and_lines(session: Session, write_csv: WriteCsv) -> None:
    add_customers(session, "C-1")
    add_field(session, "receipt", "cashier", "string")
    add_field(session, "receipt_line", "gift", "boolean")
    text = (
        "number;store;customer_external_id;purchased_at;sku;price;custom.cashier;line.custom.gift\n"
        "R1;S1;C-1;2026-01-10;A;10,5;Olga;Y\n"
        "R1;S1;C-1;2026-01-10;B;1;Olga;\n"
    )
    summary = import_file("receipts", write_csv(text))

    assert summary.status == "done"
    stored = receipt(session, "R1")
    assert (stored.custom, stored.total) == ({"cashier": "Olga"}, Decimal("11.50"))
    customs = [ln.custom for ln in session.scalars(select(ReceiptLine).order_by(ReceiptLine.position))]
    assert customs == [{"gift": True}, {}]
