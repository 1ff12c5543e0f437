"""Helpers for import tests: CSV files in a temporary folder, customers and custom fields, table counts."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from smartcomm.audit.actor import Actor
from smartcomm.customers.schemas import CustomerIn
from smartcomm.customers.service import customer_service
from smartcomm.models import (
    AuditEntry,
    Category,
    Customer,
    FieldDefinition,
    Product,
    Receipt,
    ReceiptLine,
    Store,
)

TABLES = {
    "customers": Customer,
    "receipts": Receipt,
    "receipt_lines": ReceiptLine,
    "products": Product,
    "categories": Category,
    "stores": Store,
    "audit": AuditEntry,
}
TESTS = Actor.system("tests")

WriteCsv = Callable[..., Path]


@pytest.fixture
def write_csv(tmp_path: Path) -> WriteCsv:
    """write_csv("a,b\\n1,2\\n") -> path of a new file holding that text (UTF-8 unless told otherwise)."""
    counter = iter(range(1, 1000))

    def write(text: str, *, name: str | None = None, bom: bool = False) -> Path:
        path = tmp_path / (name or f"file{next(counter)}.csv")
        path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode())
        return path

    return write


def counts(session: Session) -> dict[str, int]:
    """Rows in every table an import may touch."""
    return {
        name: int(session.scalar(select(func.count()).select_from(model)) or 0)
        for name, model in TABLES.items()
    }


def add_customers(session: Session, *external_ids: str) -> dict[str, Customer]:
    created = {}
    for external_id in external_ids:
        customer, _ = customer_service.upsert(session, TESTS, CustomerIn(external_id=external_id))
        created[external_id] = customer
    session.commit()
    return created


def add_field(session: Session, obj: str, code: str, type_: str) -> None:
    session.add(FieldDefinition(object=obj, code=code, name=code.title(), type=type_))
    session.commit()
