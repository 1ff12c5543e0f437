"""Jobs of the Summary dashboard: recompute one period (on demand) and the scheduled recomputation."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError

from smartcomm.analytics.dashboard import dashboard_service
from smartcomm.kit.db import session_scope
from smartcomm.kit.jobs import huey


@huey.task(name="analytics.dashboard")
def recompute_dashboard(period_key: str | None = None) -> str | None:
    """Recompute one period's dashboard (the default one when None); returns the period's key, or None
    when a recomputation of the same period running at the same time stored its figures first."""
    try:
        with session_scope() as session:
            return dashboard_service.recompute(session, period_key).period_key
    except IntegrityError:
        return None  # the other run's figures are just as fresh


@huey.task(name="analytics.dashboard_schedule")
def recompute_on_schedule(force: bool = False) -> list[str]:
    """Recompute the preset periods when the last run is older than the settings' interval (or `force`:
    new data arrived in bulk), each period in a transaction of its own; returns the keys recomputed."""
    with session_scope(read_only=True) as session:
        due = force or dashboard_service.due(session)
        keys = dashboard_service.scheduled_keys(session) if due else []
    return [key for key in keys if recompute_dashboard.call_local(key)]
