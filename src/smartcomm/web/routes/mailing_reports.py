"""Mailings → a mailing's report: the Overview tab (volume, delivery and engagement, attributed receipts per
day, e-mail opens by hour), the Groups tab (recipients or A/B variants against the control group), and
the report's CSV files."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse

from smartcomm.analytics.messages import FIGURE_LABELS, weekday_names
from smartcomm.auth.permissions import Permission
from smartcomm.auth.principal import Principal
from smartcomm.kit import i18n
from smartcomm.kit.db import session_scope
from smartcomm.kit.http import DbSession
from smartcomm.kit.time import utcnow
from smartcomm.mailings.groups_report import groups_report_service
from smartcomm.mailings.reports import (
    BUCKET_LABELS,
    RECIPIENT_HEADERS,
    WAITING_LABELS,
    file_name,
    mailing_report_service,
)
from smartcomm.mailings.service import mailing_service
from smartcomm.web.deps import requires
from smartcomm.web.templating import render

router = APIRouter(prefix="/mailings")
Viewer = Annotated[Principal, Depends(requires(Permission.MAILINGS_VIEW))]
# The per-recipient file carries customers' addresses: it is a customer export.
Exporter = Annotated[Principal, Depends(requires(Permission.CUSTOMERS_EXPORT))]


@router.get("/{mailing_id}/report", response_class=HTMLResponse)
def report_page(request: Request, session: DbSession, _: Viewer, mailing_id: int) -> Response:
    """Overview: the volume, the figures with their rates, receipts per day and e-mail opens by hour."""
    report = mailing_report_service.report(session, mailing_id)
    context = {
        "tab": "overview",
        "report": report,
        "mailing": report.mailing,
        "figures": {figure.key: figure for figure in report.figures},
        "figure_labels": FIGURE_LABELS,
        "bucket_labels": BUCKET_LABELS,
        "waiting_labels": WAITING_LABELS,
        "weekdays": weekday_names(_language(request)),
    }
    return render(request, "mailings/report.html", context)


@router.get("/{mailing_id}/report/groups", response_class=HTMLResponse)
def groups_page(request: Request, session: DbSession, _: Viewer, mailing_id: int) -> Response:
    """Groups: each group's purchases in the measurement window against the control group."""
    report = mailing_report_service.report(session, mailing_id)
    context = {
        "tab": "groups",
        "report": report,
        "mailing": report.mailing,
        "groups": groups_report_service.report(session, mailing_id),
    }
    return render(request, "mailings/report.html", context)


@router.get("/{mailing_id}/report.csv")
def report_csv(request: Request, session: DbSession, _: Viewer, mailing_id: int) -> Response:
    """The report's figures and the per-day receipts as a CSV file."""
    report = mailing_report_service.report(session, mailing_id)
    name = file_name(mailing_id, "report", utcnow().date())
    with i18n.language(_language(request)):
        text = mailing_report_service.report_csv(report)
    return Response(
        text,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get("/{mailing_id}/recipients.csv")
def recipients_csv(request: Request, session: DbSession, _: Exporter, mailing_id: int) -> Response:
    """One row per message: the customer, the outcome, opens, clicks and the credited receipts."""
    mailing_service.get(session, mailing_id)  # 404 before the download starts
    with i18n.language(_language(request)):
        headers = [str(label) for label in RECIPIENT_HEADERS]
    name = file_name(mailing_id, "recipients", utcnow().date())
    return StreamingResponse(
        _recipient_stream(mailing_id, headers),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def _recipient_stream(mailing_id: int, headers: list[str]) -> Iterator[str]:
    # The response streams after the request's session is closed: the file reads with its own.
    with session_scope(read_only=True) as session:
        yield from mailing_report_service.recipients_csv(session, mailing_id, headers)


def _language(request: Request) -> str:
    return str(getattr(request.state, "language", None) or i18n.current_language())
