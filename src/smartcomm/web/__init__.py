"""The back-office UI: server-rendered pages with htmx."""

from __future__ import annotations

from fastapi import APIRouter

from smartcomm.web.routes import (
    account,
    audiences,
    auth,
    customers,
    data_settings,
    files,
    general,
    history,
    imports,
    rfm,
    segments,
    users,
)


def build_router() -> APIRouter:
    router = APIRouter(include_in_schema=False)
    modules = (
        auth,
        account,
        customers,
        segments,
        rfm,
        audiences,
        imports,
        general,
        data_settings,
        users,
        history,
    )
    for module in (*modules, files):
        router.include_router(module.router)
    return router
