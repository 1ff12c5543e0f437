"""Jobs of the staff-user domain."""

from __future__ import annotations

from smartcomm.auth.service import user_service
from smartcomm.kit.db import session_scope
from smartcomm.kit.jobs import huey


@huey.task(name="users.expire")
def expire_users() -> int:
    """Disable users whose activity expiration date has passed (also runs hourly)."""
    with session_scope() as session:
        return user_service.expire_users(session)
