"""Jobs of the RFM analysis: a calculation (on demand or on schedule), the schedule check, and the reaper of
calculations whose worker died."""

from __future__ import annotations

import logging

from smartcomm.kit.db import session_scope
from smartcomm.kit.jobs import huey
from smartcomm.kit.leases import Heartbeat, LeaseLost, this_process
from smartcomm.rfm.service import rfm_service

logger = logging.getLogger(__name__)


@huey.task(name="rfm.calculate")
def calculate(trigger: str = "manual", calculation_id: int | None = None) -> int | None:
    """Run a calculation (the queued one given, or a new one); a failure is recorded on it, then raised.

    The calculation is claimed for this process and its lease renewed while it runs (see `kit.leases`).
    """
    if calculation_id is None:
        with session_scope() as session:
            calculation_id = rfm_service.queue(session, trigger).id
    owner = this_process()
    with session_scope() as session:
        # Committed at once, so that pages polling the calculation see it running.
        if not rfm_service.claim(session, calculation_id, owner):
            return None  # already done, failed, or taken by another worker
    try:
        with Heartbeat(lambda: _renew(calculation_id, owner)), session_scope() as session:
            return rfm_service.calculate(session, calculation_id, owner).scored
    except LeaseLost:
        logger.warning("RFM calculation %s stopped: it was marked interrupted", calculation_id)
        return None
    except Exception as error:
        with session_scope() as session:
            rfm_service.record_failure(session, calculation_id, f"{type(error).__name__}: {error}", owner)
        raise


@huey.task(name="rfm.schedule")
def schedule() -> int | None:
    """Start a calculation when the last one is older than 24 h ÷ runs per day; returns its id."""
    with session_scope() as session:
        if not rfm_service.due(session):
            return None
        calculation_id = rfm_service.queue(session, "schedule").id
    calculate("schedule", calculation_id)
    return calculation_id


def reap() -> list[int]:
    """Mark failed ("interrupted") every running calculation whose process is gone; returns their ids."""
    with session_scope(read_only=True) as session:
        gone = rfm_service.gone_claims(session)
    reaped = []
    for claim in gone:
        with session_scope() as session:
            if rfm_service.interrupt(session, claim):
                reaped.append(claim.id)
    return reaped


def _renew(calculation_id: int, owner: str) -> bool:
    with session_scope() as session:
        return rfm_service.renew(session, calculation_id, owner)
