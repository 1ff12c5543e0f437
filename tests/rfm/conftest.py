"""A small hand-made base for the RFM tests: customers and receipts placed relative to a fixed "now"."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from sqlalchemy import select
from sqlalchemy.orm import Session

from smartcomm.audit.actor import Actor
from smartcomm.customers.schemas import CustomerIn
from smartcomm.customers.service import customer_service
from smartcomm.models import Customer, CustomerRfm
from smartcomm.receipts.schemas import ReceiptIn
from smartcomm.receipts.service import receipt_service

ACTOR = Actor.system("tests")
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
_numbers = itertools.count(1)


class Shop:
    """Writes customers and receipts through the services, at times counted back from NOW."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def customer(self, external_id: str, **fields: object) -> Customer:
        data = CustomerIn(external_id=external_id, last_name=external_id, **fields)  # type: ignore[arg-type]
        return customer_service.upsert(self.session, ACTOR, data)[0]

    def buy(self, customer: Customer, amount: str, *, days_ago: float = 0, at: datetime | None = None,
            status: str = "paid") -> None:  # fmt: skip
        when = at or NOW - timedelta(days=days_ago)
        receipt = ReceiptIn.model_validate({
            "number": f"R{next(_numbers)}", "store": "S1", "customer_id": customer.id, "purchased_at": when,
            "status": status, "lines": [{"sku": "A", "price": amount}],
        })  # fmt: skip
        receipt_service.write(self.session, ACTOR, [receipt])

    def customer_with(self, external_id: str, *purchases: tuple[float, str]) -> Customer:
        """A customer with paid receipts given as (days ago, amount)."""
        customer = self.customer(external_id)
        for days_ago, amount in purchases:
            self.buy(customer, amount, days_ago=days_ago)
        return customer


def cells_by_customer(session: Session) -> dict[str, str]:
    """Every scored customer's cell as "RFM" digits, by external id."""
    rows = session.execute(
        select(Customer.external_id, CustomerRfm.r, CustomerRfm.f, CustomerRfm.m).join(
            CustomerRfm, CustomerRfm.customer_id == Customer.id
        )
    )
    return {external_id: f"{r}{f}{m}" for external_id, r, f, m in rows}


def money(value: str) -> Decimal:
    return Decimal(value)


@pytest.fixture
def frozen() -> Iterator[time_machine.Coordinates]:
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def shop(session: Session, frozen: time_machine.Coordinates) -> Shop:
    return Shop(session)
