"""Jobs of mass mailings. Each takes ids (or nothing), re-reads its rows and treats "already done" as
success: collecting resumes from the mailing's checkpoint, and a batch collected twice plans nobody twice."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from huey import crontab

from smartcomm.kit.db import session_scope
from smartcomm.kit.jobs import huey, pause_point
from smartcomm.kit.time import utcnow
from smartcomm.mailings.repository import MailingRepository
from smartcomm.mailings.service import mailing_service

# A collecting mailing whose last batch is older than this has lost its job (a killed worker).
STALLED = timedelta(minutes=2)


@huey.task(name="mailings.collect")
def collect(mailing_id: int) -> int:
    """Record the mailing's frozen audience in the ledger, one batch a transaction, from its checkpoint;
    returns the number of batches recorded."""
    batches = 0
    while True:
        with session_scope() as session:
            more = mailing_service.collect_batch(session, mailing_id)
        if not more:
            return batches
        batches += 1
        pause_point("mailings.batch_collected")


@huey.task(name="mailings.start_due")
def start_due() -> list[int]:
    """Scheduled mailings whose time has come start collecting."""
    with session_scope() as session:
        return mailing_service.start_due(session)


@huey.task(name="mailings.settle")
def settle() -> list[int]:
    """Sending mailings of which nothing waits any more become sent."""
    with session_scope() as session:
        return mailing_service.settle_sending(session)


@huey.task(name="mailings.choose_winners")
def choose_winners() -> list[int]:
    """A/B tests whose test share has had its wait get their winner (which then goes to the rest)."""
    with session_scope() as session:
        return mailing_service.choose_due_winners(session)


@huey.periodic_task(crontab(), name="mailings.every_minute")
def every_minute() -> None:
    # The safety nets: a scheduled mailing whose delayed start was lost, a collect stopped with a killed
    # worker (its checkpoint says where to go on), A/B winners due, and mailings that finished sending.
    start_due.call_local()
    choose_winners.call_local()
    for mailing_id in _stalled():
        collect(mailing_id)
    settle.call_local()


def resume_collecting() -> list[int]:
    """When a worker starts: every collecting mailing goes on from its checkpoint at once (the job of a
    worker that died with it is lost). Should another worker still be collecting one, the row lock and the
    checkpoint keep the two from recording anything twice."""
    with session_scope(read_only=True) as session:
        collecting = MailingRepository(session).ids_with_status("collecting")
    for mailing_id in collecting:
        collect(mailing_id)
    return collecting


def _stalled() -> list[int]:
    with session_scope(read_only=True) as session:
        return MailingRepository(session).stalled_collecting(utcnow() - STALLED)


# The jobs by name (`mailings.service.queue_job` queues by name).
JOBS: dict[str, Any] = {
    "mailings.collect": collect,
    "mailings.start_due": start_due,
    "mailings.settle": settle,
    "mailings.choose_winners": choose_winners,
}
