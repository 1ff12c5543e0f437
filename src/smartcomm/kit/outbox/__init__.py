"""The domain-event outbox: write paths record what happened; subscribers act on it, each exactly once.

Publishing. A write path calls `publish(session, kind, customer_id=…, customer_ids=…, payload=…)` in the
transaction of its change. Nothing is written at once: the events of a transaction are inserted together
just before it commits, after its own changes (so that on PostgreSQL an event id is never held open by a
long transaction, see "gaps" below), and once it has committed the dispatcher job is queued, once per
transaction — unless a dispatch of the same kinds waits on the queue already and has not started: that one
reads these events too, so a burst of small transactions does not bury the job queue in dispatches.
A rolled-back transaction publishes nothing. A bulk write publishes ONE event for its batch
with the customers' ids (`customer_ids`); above `CUSTOMER_IDS_LIMIT` customers the event carries the
`many_customers` marker and their number instead. Payloads are JSON values (dates as ISO strings, money as
decimal strings); `docs/architecture.md` ("Domain events") lists every kind with its payload.

Subscribing. A domain declares `@subscriber("segments.refresh", kinds={"receipt.written", …})` on a
function `(session, events) -> None` in a module named in `SUBSCRIBER_MODULES` (imported by name when
events are first dispatched, so that this module depends on no domain). The function does its work in the
session it is given and does not commit: the dispatcher advances the subscriber's checkpoint in the same
transaction and commits both together, so a crash before that commit leaves both undone and the events
are handed over again — each subscriber's effect happens exactly once. A subscriber that raises has its
transaction rolled back, its failure recorded on its checkpoint (logged, retried after a growing pause)
and does not hold back the others.

Dispatching (`events.dispatch`). For each subscriber: claim its checkpoint row (`FOR UPDATE SKIP LOCKED`
on PostgreSQL; on SQLite the write transaction itself excludes every other writer), read the events after
it in id order, at most `SCAN_EVENTS` at a time, hand over those of its kinds (at most `BATCH_EVENTS`),
advance past them, commit; repeat while there is more. A dispatcher that finds the row claimed leaves it:
the holder looks again for new events after it lets go, so no wake-up is lost (and the dispatcher looks
again itself a little later, in case the holder was a worker killed meanwhile). The dispatch a commit
queues names the kinds it published and serves their subscribers only; a subscriber none of whose kinds
came gets no transaction until IDLE_ADVANCE events passed it or the dispatch of every minute moves it on.

Gaps. On PostgreSQL ids are taken when rows are inserted but become visible when their transaction
commits, so a higher id may be seen before a lower one. A checkpoint therefore advances only over ids it
has seen, or past a missing id once the event that follows it is older than
`SMARTCOMM_OUTBOX_GAP_SECONDS` (the missing id then belonged to a transaction that rolled back: writers
insert their events last, just before committing). Event times come from the database's clock on
PostgreSQL, so the clocks of web and worker machines do not matter. A subscriber that has handled nothing
yet starts at the first event there is. SQLite serialises its writers, so no gap is ever seen there; the
same code runs.

Retention. `events.purge` deletes events older than `SMARTCOMM_OUTBOX_RETENTION_DAYS` that every
subscriber has passed.

Modules. `events`: `Event`, `publish` and the session hooks that write and queue (registered when the
package is imported). `registry`: `@subscriber`, `subscribers()` and `SUBSCRIBER_MODULES`. `dispatch`: the
dispatcher's turns and rounds, and the jobs `events.dispatch` and `events.purge`. `window`: the gap rule
and the batch of a turn. `sql`: the tables, the database's clock and the queries.
"""

from __future__ import annotations

from smartcomm.kit.outbox.dispatch import dispatch_events, purge_events
from smartcomm.kit.outbox.events import (
    CUSTOMER_COUNT,
    CUSTOMER_IDS,
    CUSTOMER_IDS_LIMIT,
    MANY_CUSTOMERS,
    Event,
    customers_of,
    publish,
)
from smartcomm.kit.outbox.registry import SUBSCRIBER_MODULES, Handler, Subscriber, subscriber, subscribers
from smartcomm.kit.outbox.sql import checkpoints_table, database_now, events_table

__all__ = [
    "CUSTOMER_COUNT",
    "CUSTOMER_IDS",
    "CUSTOMER_IDS_LIMIT",
    "MANY_CUSTOMERS",
    "SUBSCRIBER_MODULES",
    "Event",
    "Handler",
    "Subscriber",
    "checkpoints_table",
    "customers_of",
    "database_now",
    "dispatch_events",
    "events_table",
    "publish",
    "purge_events",
    "subscriber",
    "subscribers",
]
