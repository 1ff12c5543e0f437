"""Imports every domain's jobs so that a consumer knows them, and declares the periodic schedule."""

from __future__ import annotations

import threading

from huey import crontab

from smartcomm.analytics import tasks as analytics_tasks
from smartcomm.attribution import tasks as attribution_tasks  # noqa: F401 (registers attribution.rebuild)
from smartcomm.audiences import tasks as audience_tasks  # noqa: F401 (registers audiences.import)
from smartcomm.auth import tasks as auth_tasks
from smartcomm.campaigns import tasks as _campaign_tasks  # noqa: F401 (registers campaigns.*, a periodic look)
from smartcomm.control_groups import tasks as _control_group_tasks  # noqa: F401 (the periodic redraw)
from smartcomm.delivery import tasks as delivery_tasks
from smartcomm.imports import tasks as import_tasks  # noqa: F401 (registers imports.run)
from smartcomm.intake import tasks as intake_tasks
from smartcomm.kit import outbox
from smartcomm.kit.jobs import huey
from smartcomm.loyalty import tasks as loyalty_tasks
from smartcomm.mailings import tasks as mailing_tasks  # registers mailings.*, a periodic look
from smartcomm.polls import links as _poll_macro  # noqa: F401 (registers client.poll)
from smartcomm.popups import tasks as _popup_tasks  # noqa: F401 (registers popups.expire_hourly)
from smartcomm.promocodes import issuing as _promocode_macros  # noqa: F401 (registers client.promocode)
from smartcomm.promocodes import tasks as _promocode_tasks  # noqa: F401 (registers promocodes.*)
from smartcomm.rfm import tasks as rfm_tasks
from smartcomm.segments import tasks as segment_tasks
from smartcomm.webhooks import tasks as webhook_tasks
from smartcomm.worker.reaper import reap_interrupted_jobs

_reaped_at_startup = threading.Event()
_startup_lock = threading.Lock()


@huey.on_startup()
def reap_at_startup() -> None:
    """When a worker starts: the jobs a dead worker left running are marked interrupted (or built again).

    Huey calls startup hooks in every worker thread; once per process is enough.
    """
    with _startup_lock:
        if _reaped_at_startup.is_set():
            return
        _reaped_at_startup.set()
    reap_interrupted_jobs()
    mailing_tasks.resume_collecting()


_dispatched_at_startup = threading.Event()


@huey.on_startup()
def dispatch_at_startup() -> None:
    """When a worker starts: the domain events, webhooks and accrual requests a stopped worker left are
    sent on."""
    with _startup_lock:
        if _dispatched_at_startup.is_set():
            return
        _dispatched_at_startup.set()
    outbox.dispatch_events()
    webhook_tasks.deliver_webhooks()
    loyalty_tasks.deliver_requests()


_dashboard_checked_at_startup = threading.Event()


@huey.on_startup()
def dashboard_at_startup() -> None:
    """When a worker starts: a dashboard never computed, or not for longer than its interval (a worker
    stopped overnight), is queued at once rather than at the next hourly look."""
    with _startup_lock:
        if _dashboard_checked_at_startup.is_set():
            return
        _dashboard_checked_at_startup.set()
    analytics_tasks.recompute_on_schedule()


@huey.periodic_task(crontab(), name="events.dispatch_every_minute")
def dispatch_events_every_minute() -> None:
    # The outbox's safety net: events whose dispatch was never queued (a process killed between its commit
    # and the enqueue), subscribers whose retry is due, gaps that settled.
    outbox.dispatch_events.call_local(advance_idle=True)


@huey.periodic_task(crontab(), name="webhooks.deliver_every_minute")
def deliver_webhooks_every_minute() -> None:
    webhook_tasks.deliver_webhooks.call_local()


@huey.periodic_task(crontab(), name="loyalty.deliver_every_minute")
def deliver_loyalty_requests_every_minute() -> None:
    # Accrual requests whose retry came due, and those a killed worker was sending.
    loyalty_tasks.deliver_requests.call_local()


@huey.periodic_task(crontab(), name="delivery.dispatch_every_minute")
def dispatch_messages_every_minute() -> None:
    # Messages deferred to a send-time window or a retry become due; a wake-up lost with a killed process.
    delivery_tasks.dispatch.call_local()


@huey.periodic_task(crontab(), name="delivery.cascades_every_minute")
def cascades_every_minute() -> None:
    delivery_tasks.cascades_due.call_local()


@huey.periodic_task(crontab(minute="50"), name="events.purge_hourly")
def purge_events_hourly() -> None:
    outbox.purge_events.call_local()


@huey.periodic_task(crontab(), name="jobs.reap_every_minute")
def reap_every_minute() -> None:
    # A worker that dies while others run is noticed within a minute (or a lease, on another machine).
    reap_interrupted_jobs()


@huey.periodic_task(crontab(minute="5"), name="users.expire_hourly")
def expire_users_hourly() -> None:
    auth_tasks.expire_users.call_local()


@huey.periodic_task(crontab(minute="35"), name="intake.purge_idempotency_hourly")
def purge_idempotency_hourly() -> None:
    intake_tasks.purge_idempotency.call_local()


@huey.periodic_task(crontab(minute="20"), name="rfm.schedule_hourly")
def rfm_schedule_hourly() -> None:
    rfm_tasks.schedule.call_local()


@huey.periodic_task(crontab(minute="25"), name="analytics.dashboard_hourly")
def dashboard_schedule_hourly() -> None:
    # Recomputes the dashboard's periods once the settings' interval (6 hours by default) has passed.
    analytics_tasks.recompute_on_schedule.call_local()


@huey.periodic_task(crontab(minute="*/15"), name="segments.schedule_quarter_hourly")
def schedule_segment_builds() -> None:
    # Every 15 minutes: queue a build of each segment not built within its rebuild interval.
    segment_tasks.schedule_builds.call_local()


__all__ = ["huey"]
