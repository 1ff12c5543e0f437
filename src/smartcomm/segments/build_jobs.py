"""Segment builds run by workers, as leased jobs (see `kit.leases`).

A worker's build first commits its build row as running, naming its process. The build itself is one
transaction — the rules' statement, the entered/exited diff, the segment's figures — that writes the
build row last, and only while the row still names this process. A build whose process is gone is
marked failed "interrupted" by the reaper and queued again (a build is idempotent: it compares the
rules' answer with the stored membership), up to MAX_RESUMES interrupted builds in a row.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from smartcomm.kit.db import session_scope
from smartcomm.kit.jobs import enqueue_after_commit, pause_point
from smartcomm.kit.leases import INTERRUPTED, Claim, Heartbeat, LeaseLost, this_process
from smartcomm.kit.time import ensure_utc, utcnow
from smartcomm.models import Segment, SegmentBuild
from smartcomm.segments.service import segment_service

logger = logging.getLogger(__name__)

# A segment whose builds were interrupted this many times in a row (a build that kills its worker,
# say by exhausting memory) is left failed instead of being built again.
MAX_RESUMES = 3


class BuildJobRepository:
    """The SQL of build rows as leased jobs, and of the build state shown on their segment."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def start(self, segment_id: int, trigger: str, owner: str, now: datetime) -> int | None:
        """A new running build of the segment, run by `owner`; None when the segment is gone."""
        if self.session.get(Segment, segment_id) is None:
            return None
        build = SegmentBuild(
            segment_id=segment_id, trigger=trigger, status="running", started_at=now,
            lease_owner=owner, lease_heartbeat_at=now,
        )  # fmt: skip
        self.session.add(build)
        self.session.flush()
        return build.id

    def renew(self, build_id: int, owner: str, now: datetime, **values: Any) -> bool:
        """Renew the lease of a build `owner` still runs, writing `values` with it; False when it no
        longer does (it was found interrupted), and then nothing is written."""
        statement = (
            update(SegmentBuild)
            .where(
                SegmentBuild.id == build_id,
                SegmentBuild.status == "running",
                SegmentBuild.lease_owner == owner,
            )
            .values(lease_heartbeat_at=now, **values)
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(self.session.execute(statement), "rowcount", 0))

    def claims(self) -> list[Claim]:
        """The running builds with their owners and heartbeats."""
        statement = select(SegmentBuild.id, SegmentBuild.lease_owner, SegmentBuild.lease_heartbeat_at).where(
            SegmentBuild.status == "running"
        )
        return [Claim(*row) for row in self.session.execute(statement)]

    def interrupt(self, claim: Claim, now: datetime) -> SegmentBuild | None:
        """Mark failed ("interrupted") a build whose process is gone, unless it moved on meanwhile."""
        statement = (
            update(SegmentBuild)
            .where(
                SegmentBuild.id == claim.id,
                SegmentBuild.status == "running",
                SegmentBuild.lease_owner.is_not_distinct_from(claim.owner),
                SegmentBuild.lease_heartbeat_at.is_not_distinct_from(claim.heartbeat_at),
            )
            .values(status="failed", error=INTERRUPTED, finished_at=now)
            .execution_options(synchronize_session=False)
        )
        if not getattr(self.session.execute(statement), "rowcount", 0):
            return None
        return self.session.get(SegmentBuild, claim.id)

    def interrupted_in_a_row(self, segment_id: int) -> int:
        """How many of the segment's latest builds were interrupted, counting back to another outcome."""
        statement = (
            select(SegmentBuild.status, SegmentBuild.error)
            .where(SegmentBuild.segment_id == segment_id)
            .order_by(SegmentBuild.started_at.desc(), SegmentBuild.id.desc())
            .limit(MAX_RESUMES + 1)
        )
        count = 0
        for status, error in self.session.execute(statement):
            if (status, error) != ("failed", INTERRUPTED):
                break
            count += 1
        return count

    def set_segment_state(self, segment_id: int, status: str, error: str | None = None) -> None:
        """The build state shown on the segment (its figures stay those of its last good build)."""
        values: dict[str, Any] = {"last_build_status": status}
        if error is not None:
            values["last_build_error"] = error
        self.session.execute(
            update(Segment)
            .where(Segment.id == segment_id)
            .values(values)
            .execution_options(synchronize_session=False)
        )


def run(segment_id: int, trigger: str) -> int | None:
    """Build one segment as a leased job; returns its member count, or None when the segment is gone
    or the build was found interrupted meanwhile (then nothing of it was written)."""
    owner = this_process()
    with session_scope() as session:
        build_id = BuildJobRepository(session).start(segment_id, trigger, owner, utcnow())
    if build_id is None:
        return None
    try:
        with Heartbeat(lambda: _renew(build_id, owner)), session_scope() as session:
            return _build(session, segment_id, trigger, build_id, owner)
    except LeaseLost:
        logger.warning("build %s of segment %s stopped: it was marked interrupted", build_id, segment_id)
        return None
    except Exception as error:
        _fail(build_id, owner, segment_id, f"{type(error).__name__}: {error}")
        raise


def reap() -> list[int]:
    """Mark failed ("interrupted") every running build whose process is gone and queue its segment's
    build again; returns the ids of the builds marked."""
    with session_scope(read_only=True) as session:
        gone = [claim for claim in BuildJobRepository(session).claims() if claim.is_gone()]
    return [claim.id for claim in gone if _interrupt(claim)]


def _build(session: Session, segment_id: int, trigger: str, build_id: int, owner: str) -> int:
    figures = segment_service.build(session, segment_id, trigger, record=False)
    pause_point("segments.build")
    outcome = {
        "status": "done", "finished_at": figures.finished_at, "duration_ms": figures.duration_ms,
        "members": figures.members, "entered": figures.entered, "exited": figures.exited,
    }  # fmt: skip
    if not BuildJobRepository(session).renew(build_id, owner, utcnow(), **outcome):
        raise LeaseLost(f"build {build_id} was marked interrupted; this run stopped")
    return figures.members


def _renew(build_id: int, owner: str) -> bool:
    with session_scope() as session:
        return BuildJobRepository(session).renew(build_id, owner, utcnow())


def _fail(build_id: int, owner: str, segment_id: int, error: str) -> None:
    """Keep a failed build visible (its transaction was rolled back), unless it was found interrupted."""
    with session_scope() as session:
        repository, now = BuildJobRepository(session), utcnow()
        build = session.get(SegmentBuild, build_id)
        started = ensure_utc(build.started_at) if build is not None else now
        duration = max(0, int((now - started).total_seconds() * 1000))
        values = {"status": "failed", "error": error[:4000], "finished_at": now, "duration_ms": duration}
        if repository.renew(build_id, owner, now, **values):
            repository.set_segment_state(segment_id, "failed", error[:4000])


def _interrupt(claim: Claim) -> bool:
    from smartcomm.segments.tasks import build_segment  # the task module imports this one

    with session_scope() as session:
        repository = BuildJobRepository(session)
        build = repository.interrupt(claim, utcnow())
        if build is None:
            return False
        if repository.interrupted_in_a_row(build.segment_id) >= MAX_RESUMES:
            repository.set_segment_state(build.segment_id, "failed", INTERRUPTED)
            return True
        repository.set_segment_state(build.segment_id, "running")  # queued again
        enqueue_after_commit(session, build_segment, build.segment_id, build.trigger)
    return True
