"""Routers that rule themselves out by prefix.

FastAPI matches a request against every route of every included router in turn, each route's pattern
tried in full. A router whose routes all live under one prefix can answer "not mine" with one string
comparison, so a request only walks the routers that can hold its path.
"""

from __future__ import annotations

from fastapi import APIRouter
from starlette.routing import Match
from starlette.types import Scope


class PrefixRouter(APIRouter):
    """An APIRouter included at the top of the app (its own prefix is its whole prefix)."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        path, root = scope["path"], scope.get("root_path", "")
        if root and path.startswith(root):  # served below a root path: routes see the rest
            path = path[len(root) :]
        if not (path == self.prefix or path.startswith(self.prefix + "/")):
            return Match.NONE, {}
        return super().matches(scope)
