"""Jobs of the send ledger. Each takes ids (or nothing), re-reads its rows and treats "already done" as
success; the periodic safety nets are declared in `worker.registry`."""

from __future__ import annotations

from typing import Any

from smartcomm.config import config
from smartcomm.delivery import cascade, simulation
from smartcomm.delivery import confirmation as _confirmation  # noqa: F401 (registers the double opt-in check)
from smartcomm.delivery.dispatch import Dispatcher
from smartcomm.kit.db import session_scope
from smartcomm.kit.jobs import Lane, huey

# Sending a mass of messages keeps dispatchers busy for minutes. They hold at most all of a worker's
# threads but two: one for the campaigns' journey walker, one for short jobs (a receipt's triggers).
_senders = Lane(config.worker_threads - 2, lambda: queue_dispatch())


@huey.task(name="delivery.dispatch")
def dispatch() -> int:
    """Send every due message, batch after batch (woken after a commit that planned messages, when a
    retry is due, and every minute for messages deferred to a window)."""
    return _senders.run(lambda: Dispatcher().run())


def queue_dispatch() -> None:
    dispatch()


@huey.task(name="delivery.cascade_check")
def cascade_check(viber_ids: list[int]) -> int:
    """The cascade timeout of these Viber messages has passed: release or cancel their SMS legs."""
    with session_scope() as session:
        return cascade.check(session, viber_ids)


@huey.task(name="delivery.cascades_due")
def cascades_due() -> int:
    """Every waiting SMS leg looked at (the safety net behind receipts and delayed checks)."""
    with session_scope() as session:
        return cascade.check_due(session)


@huey.task(name="delivery.simulate")
def simulate(message_ids: list[int]) -> int:
    """The sandbox's simulated recipients open and click some of these messages."""
    with session_scope() as session:
        return simulation.simulate_audience(session, message_ids)


# The jobs by name (`delivery.service.queue_job` queues by name).
JOBS: dict[str, Any] = {
    "delivery.dispatch": dispatch,
    "delivery.cascade_check": cascade_check,
    "delivery.cascades_due": cascades_due,
    "delivery.simulate": simulate,
}
