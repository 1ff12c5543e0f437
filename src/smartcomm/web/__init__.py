"""The back-office UI: server-rendered pages with htmx."""

from __future__ import annotations

from fastapi import APIRouter

from smartcomm.web.routes import (
    account,
    audiences,
    auth,
    channels,
    customers,
    data_settings,
    design,
    files,
    general,
    history,
    imports,
    outbox,
    public,
    rfm,
    segments,
    templates,
    users,
    watchers,
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
        outbox,
        templates,
        general,
        data_settings,
        channels,
        design,
        watchers,
        users,
        history,
    )
    for module in (*modules, files, public):
        router.include_router(module.router)
    return router
