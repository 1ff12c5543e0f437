"""The receipts import's bulk writer stores exactly what ReceiptWriter, the receipts write path, stores."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from smartcomm.audit.actor import Actor
from smartcomm.imports import receipt_rows, service
from smartcomm.imports.runner import import_file
from smartcomm.models import Category, Customer, Product, Receipt, ReceiptLine, Store
from smartcomm.receipts.schemas import ReceiptIn
from smartcomm.receipts.service import receipt_service
from tests.imports.conftest import WriteCsv, add_customers, add_field

API = Actor("api", None, "tests")
HEADER = (
    "number;store;customer_external_id;purchased_at;status;total;discount;bonus_earned;bonus_spent;"
    "sku;quantity;price;amount;line_discount;custom.cashier;line.custom.gift\n"
)
FILE = (
    HEADER
    + """R1;S1;C-2;2026-01-10T10:00:00+03:00;paid;;;1;;A;2;100,10;;;Olga;Y
R2;S1;C-1;2026-01-11T10:00:00+00:00;paid;;;;;B;0.333;3.33;;;;
R1;S1;C-2;2026-01-10T10:00:00+03:00;paid;;;1;;B;1;0,35;;0.1;Olga;
R3;S2;C-1;2026-02-01T09:00:00+00:00;returned;500;10;;5;C;1;510;;;Ivan;N
R2;S1;C-1;2026-01-11T10:00:00+00:00;paid;;;;;A;1.5;7.77;;;;
R2;S1;C-1;2026-01-11T10:00:00+00:00;paid;;;;;X;1;0;;;;
R4;S1;C-3;2026-03-01T12:00:00+05:00;cancelled;;;;;A;1;1;;;;
R5;S3;C-3;2026-03-02T12:00:00Z;paid;;;;;B;3;2.5;7;0.5;;
R1;S1;C-2;2026-01-10T10:00:00+03:00;paid;;;1;;C;1;1;;;Olga;Y
R3;S2;C-1;2026-02-01T09:00:00+00:00;returned;500;10;;5;A;2;5;;;Ivan;
R6;S1;C-4;2026-03-03T10:00:00Z;paid;;;;;A;1;3;;;;
R6;S1;C-4;2026-03-03T10:00:00Z;paid;;;;;B;2;4;;;;
R9;S1;C-1;2026-03-04T10:00:00Z;returned;;;;;C;1;9;;;;
R9;S1;C-1;2026-03-04T10:00:00Z;returned;;;;;A;1;1;;;;
"""
)


def receipts_in(text: str) -> list[ReceiptIn]:
    """The file read the plain way: whole receipts, lines in file order, validated by the API schema."""
    grouped: dict[tuple[str, str], dict[str, Any]] = {}
    for row in csv.DictReader(io.StringIO(text), delimiter=";"):
        amounts = ("total", "discount", "bonus_earned", "bonus_spent")
        head = {
            "number": row["number"],
            "store": row["store"],
            "customer_external_id": row["customer_external_id"],
            "purchased_at": row["purchased_at"],
            "status": row["status"],
            **{k: row[k].replace(",", ".") for k in amounts if row[k]},
            "custom": {"cashier": row["custom.cashier"]} if row["custom.cashier"] else {},
            "lines": [],
        }
        receipt = grouped.setdefault((row["store"], row["number"]), head)
        line = {k: row[k].replace(",", ".") for k in ("sku", "quantity", "price", "amount") if row[k]}
        if row["line_discount"]:
            line["discount"] = row["line_discount"]
        line["custom"] = {"gift": row["line.custom.gift"] == "Y"} if row["line.custom.gift"] else {}
        receipt["lines"].append(line)
    return [ReceiptIn.model_validate(receipt) for receipt in grouped.values()]


def stored(session: Session) -> dict[str, Any]:
    """Everything the receipts write path touches, keyed by natural keys instead of ids."""
    session.expire_all()
    stores = dict(session.execute(select(Store.id, Store.code)).all())
    customers = dict(session.execute(select(Customer.id, Customer.external_id)).all())
    receipt_columns = (
        "purchased_at",
        "status",
        "total",
        "discount",
        "bonus_earned",
        "bonus_spent",
        "item_count",
    )
    receipts = {
        r.id: (
            stores[r.store_id],
            r.number,
            customers[r.customer_id],
            *(getattr(r, c) for c in receipt_columns),
            r.custom,
        )
        for r in session.scalars(select(Receipt))
    }
    line_columns = ("position", "purchased_at", "is_purchase", "product_id", "category_id", "sku", "quantity")
    lines = sorted(
        (
            receipts[ln.receipt_id][:2],
            customers[ln.customer_id],
            *(getattr(ln, c) for c in line_columns),
            ln.price,
            ln.amount,
            ln.discount,
            ln.custom,
        )
        for ln in session.scalars(select(ReceiptLine))
    )
    aggregate_columns = (
        "receipt_count",
        "total_amount",
        "average_receipt",
        "first_purchase_at",
        "last_purchase_at",
    )
    aggregates = sorted(
        (c.external_id, *(getattr(c, name) for name in aggregate_columns))
        for c in session.scalars(select(Customer))
    )
    return {"receipts": sorted(receipts.values()), "lines": lines, "customers": aggregates}


@pytest.mark.parametrize(
    ("batch_rows", "held_rows", "part_rows"),
    [(1, 0, 4096), (2, 5, 3), (50_000, 50_000, 3), (50_000, 50_000, 4096)],
    ids=[
        "adjacent-rows-across-batches",
        "receipts-across-batches-spilled",
        "checked-in-parts",
        "one-batch-in-memory",
    ],
)
def test_the_import_stores_what_receipt_writer_stores(
    session: Session, write_csv: WriteCsv, monkeypatch: pytest.MonkeyPatch,
    batch_rows: int, held_rows: int, part_rows: int,
) -> None:  # fmt: skip
    monkeypatch.setattr(service, "BATCH_ROWS", batch_rows)
    # Checked lines beyond `held_rows` go through the spool's file; each batch is checked in parts.
    monkeypatch.setattr(service, "LINES_HELD_IN_MEMORY", held_rows)
    monkeypatch.setattr(receipt_rows, "PART_ROWS", part_rows)
    add_customers(session, "C-1", "C-2", "C-3", "C-4")
    add_field(session, "receipt", "cashier", "string")
    add_field(session, "receipt_line", "gift", "boolean")
    category = Category(classifier_id=1, code="fruit", name="Fruit", path="/", custom={})
    session.add(category)
    session.flush()
    session.add(Product(classifier_id=1, sku="A", name="Apples", category_id=category.id, custom={}))
    # Already stored before the import, both to be replaced by receipts of other customers: R1 (its rows
    # far apart in the file) and R9 (its rows adjacent, as are R6's).
    earlier = [
        {"number": "R1", "store": "S1", "customer_external_id": "C-4", "purchased_at": "2025-12-01T10:00:00Z",
         "lines": [{"sku": "Z", "price": "99"}]},
        {"number": "R9", "store": "S1", "customer_external_id": "C-3", "purchased_at": "2025-12-02T10:00:00Z",
         "lines": [{"sku": "A", "price": "5"}]},
    ]  # fmt: skip
    receipt_service.write(session, API, [ReceiptIn.model_validate(item) for item in earlier])
    session.commit()

    checkpoint = session.begin_nested()
    session.connection()  # emits the SAVEPOINT now, before the import's own sessions write
    summary = import_file("receipts", write_csv(FILE))
    assert (summary.status, summary.imported_rows) == ("done", 14)
    through_import = stored(session)
    checkpoint.rollback()
    assert session.scalar(select(func.count()).select_from(Receipt)) == 2

    receipt_service.write(session, API, receipts_in(FILE))
    through_writer = stored(session)

    assert through_import == through_writer
    assert len(through_writer["receipts"]) == 7 and len(through_writer["lines"]) == 14
