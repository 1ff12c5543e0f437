"""Imports every domain's jobs so that a consumer knows them, and declares the periodic schedule."""

from __future__ import annotations

from huey import crontab

from smartcomm.audiences import tasks as audience_tasks  # noqa: F401 (registers audiences.import)
from smartcomm.auth import tasks as auth_tasks
from smartcomm.imports import tasks as import_tasks  # noqa: F401 (registers imports.run)
from smartcomm.intake import tasks as intake_tasks
from smartcomm.kit.jobs import huey
from smartcomm.rfm import tasks as rfm_tasks
from smartcomm.segments import tasks as segment_tasks


@huey.periodic_task(crontab(minute="5"), name="users.expire_hourly")
def expire_users_hourly() -> None:
    auth_tasks.expire_users.call_local()


@huey.periodic_task(crontab(minute="35"), name="intake.purge_idempotency_hourly")
def purge_idempotency_hourly() -> None:
    intake_tasks.purge_idempotency.call_local()


@huey.periodic_task(crontab(minute="20"), name="rfm.schedule_hourly")
def rfm_schedule_hourly() -> None:
    rfm_tasks.schedule.call_local()


@huey.periodic_task(crontab(minute="*/15"), name="segments.schedule_quarter_hourly")
def schedule_segment_builds() -> None:
    # Every 15 minutes: queue a build of each segment not built within its rebuild interval.
    segment_tasks.schedule_builds.call_local()


__all__ = ["huey"]
