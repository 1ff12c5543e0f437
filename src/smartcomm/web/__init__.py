"""The back-office UI: server-rendered pages with htmx."""

from __future__ import annotations

from fastapi import APIRouter

from smartcomm.web.routes import account, auth, customers, data_settings, files, general, history, imports, users


def build_router() -> APIRouter:
    router = APIRouter(include_in_schema=False)
    for module in (auth, account, customers, imports, general, data_settings, users, history, files):
        router.include_router(module.router)
    return router
