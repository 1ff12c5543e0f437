"""Jobs of attribution: the rebuild of a period, and of receipts written since a moment."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, datetime

from smartcomm.attribution.service import attribution_service
from smartcomm.kit.db import session_scope
from smartcomm.kit.jobs import huey
from smartcomm.kit.time import end_of_day, start_of_day
from smartcomm.settings.schemas import GeneralSettings
from smartcomm.settings.service import settings_service

logger = logging.getLogger(__name__)


def rebuild_period(first: date, last: date, progress: Callable[[int], None] | None = None) -> int:
    """Attribute again the receipts purchased from `first` to `last` (project time zone, both included),
    committing each batch; returns how many receipts. Safe to run again after an interruption."""
    with session_scope() as session:
        zone = settings_service.read(session, GeneralSettings).time_zone

        def committed(done: int) -> None:
            session.commit()
            if progress is not None:
                progress(done)

        start, end = start_of_day(first, zone), end_of_day(last, zone)
        done = attribution_service.rebuild(session, start, end, after_batch=committed)
    logger.info("attribution rebuilt for %s receipts from %s to %s", done, first, last)
    return done


@huey.task(name="attribution.rebuild")
def rebuild(first: str, last: str) -> int:
    """The rebuild of a period by name, dates as YYYY-MM-DD."""
    return rebuild_period(date.fromisoformat(first), date.fromisoformat(last))


@huey.task(name="attribution.rebuild_updated")
def rebuild_updated(since: str) -> int:
    """Attribute again the receipts written since a moment (ISO 8601): a bulk import's."""
    with session_scope() as session:
        return attribution_service.rebuild_updated(
            session, datetime.fromisoformat(since), after_batch=lambda _: session.commit()
        )
