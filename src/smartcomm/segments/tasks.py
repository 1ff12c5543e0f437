"""Jobs of segments: builds (on demand, after a rules change, on schedule) and per-customer refreshes."""

from __future__ import annotations

from smartcomm.kit.db import session_scope
from smartcomm.kit.jobs import huey
from smartcomm.rfm.service import rfm_service
from smartcomm.segments import build_jobs
from smartcomm.segments.service import segment_service


@huey.task(name="segments.build")
def build_segment(segment_id: int, trigger: str = "manual") -> int | None:
    """Build one segment as a leased job (`segments.build_jobs`); a failure is recorded on its build."""
    return build_jobs.run(segment_id, trigger)


@huey.task(name="segments.refresh_customers")
def refresh_customers(customer_ids: list[int]) -> int:
    """After new receipts or events: re-place these customers' RFM cells, then move them in or out of every
    segment (RFM first, since segments may test RFM scores); returns the number of segment changes."""
    with session_scope() as session:
        rfm_service.rescore_customers(session, customer_ids)
        changes = segment_service.refresh_customers(session, customer_ids)
    return sum(d.entered + d.exited for d in changes.values())


@huey.task(name="segments.schedule")
def schedule_builds() -> list[int]:
    """Queue a build for every segment whose last build is older than the rebuild interval."""
    with session_scope(read_only=True) as session:
        due = segment_service.due_for_rebuild(session)
    for segment_id in due:
        build_segment(segment_id, "schedule")
    return due


@huey.task(name="segments.rebuild_all")
def rebuild_all(trigger: str = "data") -> int:
    """Queue a build of every segment (after a large import), in dependency order."""
    with session_scope(read_only=True) as session:
        ids = [segment.id for segment in segment_service.in_dependency_order(session)]
    for segment_id in ids:
        build_segment(segment_id, trigger)
    return len(ids)
