"""The rebuild schedule: a periodic job every 15 minutes queues the segments whose last build is too old."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from smartcomm.kit.time import utcnow
from smartcomm.models import Segment, SegmentBuild
from smartcomm.segments import tasks
from smartcomm.segments.schemas import SegmentIn
from smartcomm.segments.service import segment_service
from smartcomm.settings.schemas import SegmentSettings
from smartcomm.settings.service import settings_service
from smartcomm.worker import registry
from tests.segments.shop import ACTOR, Shop, build_shop


def built_segment(session: Session, shop: Shop, name: str, hours_ago: float) -> Segment:
    segment = segment_service.create(session, ACTOR, SegmentIn(name=name, rules=shop.segment_rules()))
    segment_service.build(session, segment.id, "manual")
    segment.last_built_at = utcnow() - timedelta(hours=hours_ago)
    session.flush()
    return segment


def test_the_schedule_runs_every_fifteen_minutes() -> None:
    periodic = registry.schedule_segment_builds.s()

    minutes = [m for m in range(60) if periodic.validate_datetime(datetime(2026, 11, 23, 10, m))]

    assert minutes == [0, 15, 30, 45]


def test_segments_older_than_the_interval_are_rebuilt_by_the_schedule(session: Session) -> None:
    shop = build_shop(session)
    settings_service.update(session, ACTOR, SegmentSettings, {"rebuild_interval_hours": 4})
    fresh = built_segment(session, shop, "Fresh", hours_ago=3)
    due = built_segment(session, shop, "Due", hours_ago=5)

    queued = tasks.schedule_builds.call_local()

    assert queued == [due.id]
    statement = select(SegmentBuild.segment_id).where(SegmentBuild.trigger == "schedule")
    assert session.scalars(statement).all() == [due.id]
    assert not segment_service.is_stale(session, fresh)
