"""Mass messaging: the lists per channel, the mailing editor, its read-only page and its actions."""

from __future__ import annotations

from fastapi import APIRouter

from smartcomm.web.routes.mailings import actions, editor, lists

router = APIRouter()
for _module in (lists, editor, actions):
    router.include_router(_module.router, prefix="/mailings")
