"""The authenticated caller of a request and the guard base every route declares."""

from __future__ import annotations

from dataclasses import dataclass, field

from smartcomm.audit.actor import Actor
from smartcomm.auth.permissions import ROLE_PERMISSIONS, Permission, Role
from smartcomm.models import User


@dataclass
class Principal:
    """The caller. Its identity is copied from the row, so error pages can render after a rollback."""

    user: User
    actor: Actor
    # The server-side session of a signed-in browser (None for API callers).
    staff_session_id: int | None = None
    id: int = field(init=False)
    email: str = field(init=False)
    full_name: str = field(init=False)
    role: str = field(init=False)

    def __post_init__(self) -> None:
        self.id, self.email, self.full_name, self.role = (
            self.user.id,
            self.user.email,
            self.user.full_name,
            self.user.role,
        )

    @property
    def permissions(self) -> frozenset[Permission]:
        return ROLE_PERMISSIONS.get(Role(self.role), frozenset())

    def can(self, permission: Permission | str) -> bool:
        return Permission(permission) in self.permissions


class RouteGuard:
    """Base of every route's access declaration: `permission` None means a public route.

    Subclasses are FastAPI dependencies. A test finds one on every route and checks the
    allow/deny outcome for every role against the permission matrix.
    """

    permission: Permission | None = None
    surface: str = "ui"  # ui | api

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.permission})"
