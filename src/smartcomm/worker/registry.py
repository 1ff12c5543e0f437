"""Imports every domain's jobs so that a consumer knows them, and declares the periodic schedule."""

from __future__ import annotations

from huey import crontab

from smartcomm.auth import tasks as auth_tasks
from smartcomm.kit.jobs import huey


@huey.periodic_task(crontab(minute="5"), name="users.expire_hourly")
def expire_users_hourly() -> None:
    auth_tasks.expire_users.call_local()


__all__ = ["huey"]
