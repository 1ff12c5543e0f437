"""Worker builds as leased jobs: the claimed build row, its failure, and the reaper that builds a segment
again when its worker died (killing a real worker: tests/worker/test_interrupted_jobs.py)."""

from __future__ import annotations

import socket
import subprocess
import sys
from datetime import timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from smartcomm.kit.db import Database
from smartcomm.kit.leases import Owner, this_process
from smartcomm.kit.pagination import PageParams
from smartcomm.kit.time import utcnow
from smartcomm.models import Segment, SegmentBuild
from smartcomm.segments import build_jobs, tasks
from smartcomm.segments.build_jobs import MAX_RESUMES, BuildJobRepository
from smartcomm.segments.schemas import SegmentIn
from smartcomm.segments.service import segment_service
from tests.segments.shop import ACTOR, MATCHING, Shop, build_shop


def saved(session: Session, shop: Shop, name: str = "Dairy lovers") -> Segment:
    segment = segment_service.create(session, ACTOR, SegmentIn(name=name, rules=shop.segment_rules()))
    session.commit()  # its build runs right after (in unit tests, in this process)
    return segment


def builds(session: Session, segment_id: int) -> list[tuple[str, str | None, int]]:
    session.expire_all()
    statement = select(SegmentBuild).where(SegmentBuild.segment_id == segment_id).order_by(SegmentBuild.id)
    return [(b.status, b.error, b.members) for b in session.scalars(statement)]


def gone_owner() -> str:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return str(Owner(socket.gethostname(), process.pid, "1"))


def running_build(session: Session, segment: Segment, owner: str, beat_ago: timedelta = timedelta(0)) -> int:
    build_id = BuildJobRepository(session).start(segment.id, "manual", owner, utcnow() - beat_ago)
    segment.last_build_status = "running"
    session.commit()
    assert build_id is not None
    return build_id


def test_a_worker_build_claims_its_row_first_and_records_the_outcome_on_it(session: Session) -> None:
    shop = build_shop(session)
    segment = saved(session, shop)
    [(status, error, members)] = builds(session, segment.id)
    assert (status, error, members) == ("done", None, len(MATCHING))
    build = session.scalars(select(SegmentBuild).where(SegmentBuild.segment_id == segment.id)).one()
    assert build.lease_owner == this_process() and build.duration_ms is not None
    assert (segment.last_build_status, segment.member_count) == ("done", len(MATCHING))


def test_a_failed_worker_build_is_recorded_on_its_own_row(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    shop = build_shop(session)
    segment = saved(session, shop)

    def broken(*args: object) -> None:
        raise RuntimeError("the disk is full")

    monkeypatch.setattr("smartcomm.segments.service.apply_full", broken)
    with pytest.raises(RuntimeError):
        tasks.build_segment.call_local(segment.id, "manual")

    assert builds(session, segment.id)[-1][:2] == ("failed", "RuntimeError: the disk is full")
    session.refresh(segment)
    assert (segment.last_build_status, segment.member_count) == ("failed", len(MATCHING))


def test_the_reaper_builds_again_a_segment_whose_build_lost_its_process(session: Session) -> None:
    shop = build_shop(session)
    segment = saved(session, shop)
    dead = running_build(session, segment, gone_owner())
    alive = running_build(session, saved(session, shop, "Another"), this_process(), timedelta(hours=1))

    assert build_jobs.reap() == [dead]

    assert builds(session, segment.id) == [
        ("done", None, len(MATCHING)),
        ("failed", "interrupted", 0),
        ("done", None, len(MATCHING)),  # queued again by the reaper (run at once in unit tests)
    ]
    session.refresh(segment)
    assert segment.last_build_status == "done"
    assert session.get(SegmentBuild, alive).status == "running"  # type: ignore[union-attr]


def test_a_segment_interrupted_again_and_again_is_left_failed(session: Session) -> None:
    shop = build_shop(session)
    segment = saved(session, shop)
    for _ in range(MAX_RESUMES - 1):  # interrupted builds whose rebuilds were interrupted too
        build_id = running_build(session, segment, gone_owner())
        earlier = update(SegmentBuild).where(SegmentBuild.id == build_id)
        session.execute(earlier.values(status="failed", error="interrupted"))
    running_build(session, segment, gone_owner())

    assert len(build_jobs.reap()) == 1

    statuses = [status for status, _error, _members in builds(session, segment.id)]
    assert statuses == ["done"] + ["failed"] * MAX_RESUMES  # no build queued after the last one
    session.refresh(segment)
    assert (segment.last_build_status, segment.last_build_error) == ("failed", "interrupted")


def test_a_build_found_interrupted_before_it_ends_rolls_back(
    live_database: Database, backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if backend == "sqlite":
        pytest.skip("on SQLite the reaper's write waits for the build's write transaction to end")
    with live_database.session() as session:
        shop = build_shop(session)
        session.commit()  # before the segment exists: the refresh of the shop's customers places nobody
        segment = Segment(name="Dairy lovers", rules=shop.rules())
        session.add(segment)
        session.commit()
        segment_id = segment.id

    def judged_gone(name: str) -> None:
        with live_database.session() as other:  # another connection, as another worker's reaper
            [claim] = BuildJobRepository(other).claims()
            assert BuildJobRepository(other).interrupt(claim, utcnow()) is not None
            other.commit()

    monkeypatch.setattr(build_jobs, "pause_point", judged_gone)
    assert tasks.build_segment.call_local(segment_id, "manual") is None

    with live_database.session() as session:
        assert builds(session, segment_id) == [("failed", "interrupted", 0)]
        assert segment_service.members(session, segment_id, PageParams(page=1, size=10)).total == 0
        assert session.get(Segment, segment_id).member_count == 0  # type: ignore[union-attr]
