"""Jobs of the Summary dashboard: recompute one period (on demand) and the scheduled recomputation."""

from __future__ import annotations

from smartcomm.analytics.dashboard import dashboard_service
from smartcomm.kit.db import session_scope
from smartcomm.kit.jobs import huey


@huey.task(name="analytics.dashboard")
def recompute_dashboard(period_key: str | None = None) -> str:
    """Recompute one period's dashboard (the default one when None); returns the period's key."""
    with session_scope() as session:
        return dashboard_service.recompute(session, period_key).period_key


@huey.task(name="analytics.dashboard_schedule")
def recompute_on_schedule(force: bool = False) -> list[str]:
    """Recompute the preset periods when the last run is older than the settings' interval (or `force`:
    new data arrived in bulk), each period in a transaction of its own; returns the keys recomputed."""
    with session_scope(read_only=True) as session:
        due = force or dashboard_service.due(session)
        keys = dashboard_service.scheduled_keys(session) if due else []
    for key in keys:
        recompute_dashboard.call_local(key)
    return keys
