"""Jobs of pop-ups: queued pop-ups past their expiry are marked expired every hour."""

from __future__ import annotations

from huey import crontab

from smartcomm.kit.db import session_scope
from smartcomm.kit.jobs import huey
from smartcomm.popups.service import popup_service


@huey.periodic_task(crontab(minute="40"), name="popups.expire_hourly")
def expire_hourly() -> int:
    with session_scope() as session:
        return popup_service.expire_due(session)
