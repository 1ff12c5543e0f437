"""Publishing: `Event` as a subscriber receives it, `publish` recording one in the writer's transaction,
and the session hooks (registered on the Session class when this module is imported) that insert a
transaction's events just before it commits and queue their dispatch once it has committed."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import event, func, insert
from sqlalchemy.engine import Row
from sqlalchemy.orm import Session, SessionTransaction
from sqlalchemy.sql import Executable

from smartcomm.kit.jobs import queue_unless_pending
from smartcomm.kit.outbox.sql import _is_postgres, events_table
from smartcomm.kit.time import ensure_utc, utcnow

logger = logging.getLogger("smartcomm.kit.outbox")  # the package's logger, as before it was split

# A bulk write above this many customers records their number instead of their ids: its subscribers treat
# the base as changed (segments, for instance, rebuild instead of refreshing customer by customer).
CUSTOMER_IDS_LIMIT = 5000
CUSTOMER_IDS = "customer_ids"
MANY_CUSTOMERS = "many_customers"
CUSTOMER_COUNT = "customer_count"

_PENDING = "outbox_pending_events"
_DISPATCH_DUE = "outbox_dispatch_due"


@dataclass(frozen=True, slots=True)
class Event:
    """One published event, as a subscriber receives it."""

    id: int
    kind: str
    customer_id: int | None
    payload: Mapping[str, Any]
    occurred_at: datetime

    @property
    def customers(self) -> set[int] | None:
        """The customers the event is about (none for a system event); None when there were too many to
        list (`many_customers`)."""
        if self.payload.get(MANY_CUSTOMERS):
            return None
        found = set(self.payload.get(CUSTOMER_IDS, ()))
        if self.customer_id is not None:
            found.add(self.customer_id)
        return found


def customers_of(events: Iterable[Event]) -> set[int] | None:
    """Every customer these events are about; None when any of them did not list its customers."""
    found: set[int] = set()
    for each in events:
        customers = each.customers
        if customers is None:
            return None
        found |= customers
    return found


def _event(row: Row[Any]) -> Event:
    return Event(row.id, row.kind, row.customer_id, row.payload or {}, ensure_utc(row.occurred_at))


# --- publishing ----------------------------------------------------------------------------------------


def publish(
    session: Session,
    kind: str,
    *,
    customer_id: int | None = None,
    customer_ids: Iterable[int | None] | None = None,
    payload: Mapping[str, Any] | None = None,
) -> None:
    """Record an event in the session's transaction; it is written just before the commit, and the
    dispatcher is queued after it (once per transaction). `customer_ids` is for a bulk write: one event for
    the batch (None entries are skipped; above CUSTOMER_IDS_LIMIT only their number is kept)."""
    body = dict(payload or {})
    if customer_ids is not None:
        body.update(_customer_list(customer_ids))
    session.info.setdefault(_PENDING, []).append({"kind": kind, "customer_id": customer_id, "payload": body})


def _customer_list(customer_ids: Iterable[int | None]) -> dict[str, Any]:
    ids = sorted({customer_id for customer_id in customer_ids if customer_id is not None})
    if len(ids) > CUSTOMER_IDS_LIMIT:
        return {MANY_CUSTOMERS: True, CUSTOMER_COUNT: len(ids)}
    return {CUSTOMER_IDS: ids}


def _write_pending(session: Session) -> None:
    """Before a commit: the transaction's own changes first, then its events, in one insert."""
    if session.in_nested_transaction():
        return  # a savepoint is released: the events go with the transaction's own commit
    pending = session.info.pop(_PENDING, None)
    if not pending:
        return
    session.flush()
    statement: Executable = insert(events_table())
    if _is_postgres(session):
        statement = insert(events_table()).values(occurred_at=func.clock_timestamp())
    else:
        now = utcnow()
        pending = [row | {"occurred_at": now} for row in pending]
    session.execute(statement, pending[0] if len(pending) == 1 else pending)
    session.info[_DISPATCH_DUE] = sorted({row["kind"] for row in pending})


def _queue_dispatch(session: Session) -> None:
    kinds = session.info.pop(_DISPATCH_DUE, None)
    if not kinds:
        return
    # Imported here, not above: the dispatcher imports this module (it hands subscribers its Events).
    from smartcomm.kit.outbox.dispatch import _dispatch_key, dispatch_events

    try:
        # One waiting dispatch per set of kinds: it reads the events when it starts, these among them.
        queue_unless_pending(_dispatch_key(kinds), lambda: dispatch_events(kinds=kinds))
    except Exception:  # the events are committed: the periodic dispatch takes them if the queue failed
        logger.exception("could not queue the dispatch of domain events")


def _drop_pending(session: Session, previous: SessionTransaction) -> None:
    if not previous.nested:
        session.info.pop(_PENDING, None)
        session.info.pop(_DISPATCH_DUE, None)


# On the class, once, like kit.db's after-commit callbacks.
event.listen(Session, "before_commit", _write_pending)
event.listen(Session, "after_commit", _queue_dispatch)
event.listen(Session, "after_soft_rollback", _drop_pending)
