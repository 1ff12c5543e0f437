"""Segments keep current as customer data arrives: the first subscriber of the domain events.

Every write path that changes what a customer is or did (profile, consent, receipts, events, web events,
containers) publishes an event; this subscriber re-places the customers it names in their RFM cells and
moves them in or out of every segment, in the dispatcher's transaction (so together with its checkpoint:
exactly once). When the events name too many customers — or a bulk write did not list them — every
segment is rebuilt instead.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from smartcomm.kit.jobs import enqueue_after_commit
from smartcomm.kit.outbox import Event, customers_of, subscriber
from smartcomm.rfm.service import rfm_service
from smartcomm.segments.service import segment_service
from smartcomm.segments.tasks import rebuild_all

# Above this many customers in one batch of events, full rebuilds are cheaper than per-customer refreshes.
PER_CUSTOMER_LIMIT = 5000
CUSTOMER_DATA = frozenset(
    {
        "customer.created",
        "customer.changed",
        "customer.identified",
        "customers.changed",
        "customers.imported",
        "consent.changed",
        "receipt.written",
        "receipts.imported",
        "event.occurred",
        "web_event.occurred",
        "container.changed",
        "order.created",
        "order.status_changed",
        "orders.imported",
        "bonus.changed",
        "points.awarded",
    }
)


@subscriber("segments.refresh", kinds=CUSTOMER_DATA)
def refresh_segments(session: Session, events: Sequence[Event]) -> None:
    customers = customers_of(events)
    if customers is None or len(customers) > PER_CUSTOMER_LIMIT:
        enqueue_after_commit(session, rebuild_all, "data")
        return
    if customers:
        # RFM first: segments may test RFM scores.
        ids = sorted(customers)
        rfm_service.rescore_customers(session, ids)
        segment_service.refresh_customers(session, ids)
