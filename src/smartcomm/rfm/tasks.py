"""Jobs of the RFM analysis: a calculation (on demand or on schedule) and the schedule check."""

from __future__ import annotations

from smartcomm.kit.db import session_scope
from smartcomm.kit.jobs import huey
from smartcomm.rfm.service import rfm_service


@huey.task(name="rfm.calculate")
def calculate(trigger: str = "manual", calculation_id: int | None = None) -> int | None:
    """Run a calculation (the queued one given, or a new one); a failure is recorded on it, then raised."""
    if calculation_id is None:
        with session_scope() as session:
            calculation_id = rfm_service.queue(session, trigger).id
    with session_scope() as session:
        # Committed at once, so that pages polling the calculation see it running.
        if not rfm_service.claim(session, calculation_id):
            return None  # already done, failed, or taken by another worker
    try:
        with session_scope() as session:
            return rfm_service.calculate(session, calculation_id).scored
    except Exception as error:
        with session_scope() as session:
            rfm_service.record_failure(session, calculation_id, f"{type(error).__name__}: {error}")
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
