"""Campaigns: the list with its totals, the canvas editor, and the actions on a campaign (activate, suspend,
copy, delete) from the list or the editor."""

from __future__ import annotations

from fastapi import APIRouter

from smartcomm.web.routes.campaigns import actions as actions
from smartcomm.web.routes.campaigns import editor as editor
from smartcomm.web.routes.campaigns import lists as lists

router = APIRouter()
for _module in (lists, editor, actions):
    router.include_router(_module.router, prefix="/campaigns")
