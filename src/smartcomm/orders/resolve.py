"""Customers named by an order: by their external id, or by the platform's id."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from smartcomm.customers.repository import CustomerRepository, chunks
from smartcomm.models import Customer
from smartcomm.orders.schemas import OrderIn


def customer_ids(session: Session, items: Sequence[OrderIn]) -> dict[str, int]:
    """'external id' -> id, and '#<platform id>' -> id for the orders that name a platform id."""
    external = [item.customer_external_id for item in items if item.customer_external_id]
    found = CustomerRepository(session).ids_by_external_ids(external)
    platform = [item.customer_id for item in items if item.customer_id is not None]
    for part in chunks(platform):
        for (customer_id,) in session.execute(select(Customer.id).where(Customer.id.in_(part))):
            found[f"#{customer_id}"] = customer_id
    return found
