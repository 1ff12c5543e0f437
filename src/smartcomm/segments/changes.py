"""Keeping segments current as customer data arrives.

Every write path that changes what a customer is or did (profile, consent, receipts, events, web events,
containers) reports the customer ids here. Once the transaction commits, one job re-evaluates those
customers' segment memberships; a change touching very many customers rebuilds the segments instead.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.orm import Session

from smartcomm.kit.db import on_commit

PENDING_KEY = "segments_changed_customers"
# Above this many customers in one transaction, full rebuilds are cheaper than per-customer refreshes.
PER_CUSTOMER_LIMIT = 5000


def customers_changed(session: Session, customer_ids: Iterable[int | None]) -> None:
    """Re-evaluate these customers' segments after the current transaction commits."""
    ids = {customer_id for customer_id in customer_ids if customer_id is not None}
    if not ids:
        return
    pending: set[int] | None = session.info.get(PENDING_KEY)
    if pending is None:
        pending = session.info[PENDING_KEY] = set()
        on_commit(session, lambda: _enqueue(session.info.pop(PENDING_KEY, set())))
    pending.update(ids)


def _enqueue(customer_ids: set[int]) -> None:
    from smartcomm.segments.tasks import rebuild_all, refresh_customers

    if len(customer_ids) > PER_CUSTOMER_LIMIT:
        rebuild_all("data")
    elif customer_ids:
        refresh_customers(sorted(customer_ids))
