"""Jobs of the global control group."""

from __future__ import annotations

from huey import crontab

from smartcomm.control_groups.service import global_control_service
from smartcomm.kit.db import session_scope
from smartcomm.kit.jobs import huey


@huey.periodic_task(crontab(minute="25"), name="control_groups.redraw_hourly")
def redraw_hourly() -> int | None:
    """Draw the global control group again once its stay duration has passed; returns the new draw's id."""
    with session_scope() as session:
        draw = global_control_service.redraw_due(session)
        return draw.id if draw is not None else None
