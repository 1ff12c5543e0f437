"""Jobs of data intake."""

from __future__ import annotations

from smartcomm.intake.idempotency import idempotency_service
from smartcomm.kit.db import session_scope
from smartcomm.kit.jobs import huey


@huey.task(name="intake.purge_idempotency")
def purge_idempotency() -> int:
    """Delete the stored answers of idempotent API writes older than 24 hours (also runs hourly)."""
    with session_scope() as session:
        return idempotency_service.purge(session)
