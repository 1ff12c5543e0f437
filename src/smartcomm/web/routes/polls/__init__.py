"""Polls in the back office: the list with its actions, the editor (with a live preview) and the report."""

from __future__ import annotations

from fastapi import APIRouter

from smartcomm.web.routes.polls import editor, lists, report

router = APIRouter()
for _module in (lists, editor, report):
    router.include_router(_module.router, prefix="/polls")
