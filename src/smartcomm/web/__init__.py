"""The back-office UI: server-rendered pages with htmx."""

from __future__ import annotations

from fastapi import APIRouter

from smartcomm.web.routes import (
    account,
    audiences,
    auth,
    campaign_gallery,
    campaign_reports,
    campaigns,
    channels,
    contact_quality,
    customer_loyalty,
    customers,
    dashboard,
    data_settings,
    deliverability,
    design,
    files,
    general,
    global_control,
    history,
    imports,
    mailing_calendar,
    mailing_reports,
    mailings,
    notifications,
    orders,
    outbox,
    poll_public,
    polls,
    promocodes,
    public,
    rfm,
    segments,
    site_tracker,
    templates,
    users,
    watchers,
)


def build_router() -> APIRouter:
    router = APIRouter(include_in_schema=False)
    modules = (
        auth,
        account,
        dashboard,
        contact_quality,  # before customers: /customers/{customer_id} would take its address
        customers,
        customer_loyalty,
        site_tracker,
        segments,
        rfm,
        audiences,
        imports,
        orders,
        # Before the campaign pages: "gallery" is not a campaign id, and a report is not the editor.
        campaign_gallery,
        campaign_reports,
        campaigns,
        # Before the mailing pages: "calendar" is not a mailing id.
        mailing_calendar,
        mailing_reports,
        mailings,
        promocodes,
        polls,
        outbox,
        templates,
        general,
        data_settings,
        deliverability,
        channels,
        design,
        watchers,
        global_control,
        users,
        history,
        notifications,
    )
    for module in (*modules, files, poll_public, public):
        router.include_router(module.router)
    return router
