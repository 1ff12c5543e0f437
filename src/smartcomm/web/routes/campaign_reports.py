"""Campaigns → a campaign's report (the whole campaign or one node, over all time or some days), and the
customer profile's "Campaigns" card (the customer's journeys), which the profile loads with htmx."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from smartcomm.analytics.messages import FIGURE_LABELS, weekday_names
from smartcomm.auth.permissions import Permission
from smartcomm.auth.principal import Principal
from smartcomm.campaigns.nodes import OUT
from smartcomm.campaigns.reports import CampaignReport, NodeRow, campaign_report_service, customer_journeys
from smartcomm.customers.service import customer_service
from smartcomm.kit import i18n
from smartcomm.kit.errors import InvalidInput
from smartcomm.kit.http import DbSession
from smartcomm.kit.i18n import gettext_, lazy
from smartcomm.web.deps import requires
from smartcomm.web.templating import is_htmx, redirect, render

router = APIRouter()
Viewer = Annotated[Principal, Depends(requires(Permission.CAMPAIGNS_VIEW))]
CustomerViewer = Annotated[Principal, Depends(requires(Permission.CUSTOMERS_VIEW))]
JOURNEYS_SHOWN = 20
CHANNEL_FIGURES = ("sent", "delivered", "opened", "clicked")


@router.get("/campaigns/{campaign_id}/report", response_class=HTMLResponse)
def report_page(
    request: Request,
    session: DbSession,
    _: Viewer,
    campaign_id: int,
    node: str = "",
    date_from: str = "",
    date_to: str = "",
) -> Response:
    """Who entered and where they stand, each node's funnel, the messages per channel, the orders credited
    per day, the control groups compared, e-mail opens by hour — of the campaign or of one node."""
    report = campaign_report_service.report(
        session,
        campaign_id,
        node=node.strip() or None,
        date_from=_day(date_from, "date_from"),
        date_to=_day(date_to, "date_to"),
    )
    context = {
        "report": report,
        "campaign": report.campaign,
        "chosen": next((row for row in report.nodes if row.id == report.node), None),
        "figures": {figure.key: figure for figure in report.messages},
        "figure_labels": FIGURE_LABELS,
        "weekdays": weekday_names(_language(request)),
        "charts": _charts(report),
    }
    return render(request, "campaigns/report.html", context)


@router.get("/customers/{customer_id}/campaigns", response_class=HTMLResponse)
def customer_campaigns(request: Request, session: DbSession, _: CustomerViewer, customer_id: int) -> Response:
    """The profile's card of the customer's journeys through campaigns (loaded into the profile)."""
    if not is_htmx(request):
        return redirect(request, f"/customers/{customer_id}")
    customer = customer_service.get(session, customer_id)
    context = {"customer": customer, "journeys": customer_journeys(session, customer.id, JOURNEYS_SHOWN)}
    return render(request, "customers/profile/_campaigns.html", context)


def _day(value: str, field: str) -> date | None:
    """A day from the filter form (empty: none); anything else is refused naming the field."""
    if not value.strip():
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError as error:
        raise InvalidInput.for_field(field, gettext_("Enter a date as YYYY-MM-DD")) from error


def _charts(report: CampaignReport) -> dict[str, Any]:
    """What the page's charts draw (data only: the page allows no inline script), labels translated."""
    rows, channels = report.nodes, report.channels
    return {
        "nodes": {
            "labels": [f"{row.label} · {row.id}" for row in rows],
            "series": [
                *_output_series(rows),
                _series("waiting", gettext_("In progress"), [row.in_progress for row in rows]),
                _series("stopped", gettext_("Stopped"), [sum(row.stopped.values()) for row in rows]),
            ],
        },
        "channels": {
            "labels": [_channel_name(row.channel) for row in channels],
            "series": [
                _series(key, str(FIGURE_LABELS[key]), [_value(row.figures, key) for row in channels])
                for key in CHANNEL_FIGURES
            ],
        },
        "hours": {
            "labels": [f"{hour}:00" for hour in range(24)],
            "series": [_series("opens", gettext_("Opens"), report.opens_by_hour)],
        },
    }


def _output_series(rows: list[NodeRow]) -> list[dict[str, Any]]:
    """One stacked series per output name the nodes have ("out", "yes", "no", "control", "a" …), so a
    branch shows how it split."""
    labels: dict[str, str] = {}
    for row in rows:
        for output in row.outputs:
            labels.setdefault(output.output, output.label if output.output != OUT else "")
    counts = [{output.output: output.count for output in row.outputs} for row in rows]
    return [
        _series(f"output:{name}", label or gettext_("Passed on"), [found.get(name, 0) for found in counts])
        for name, label in labels.items()
    ]


def _series(key: str, label: str, data: list[int]) -> dict[str, Any]:
    return {"key": key, "label": label, "data": data}


def _value(figures: list[Any], key: str) -> int:
    return next((figure.value for figure in figures if figure.key == key), 0)


def _channel_name(channel: str) -> str:
    names = {"email": lazy("E-mail"), "sms": lazy("SMS"), "viber": lazy("Viber"), "push": lazy("Push")}
    return str(names.get(channel, channel))


def _language(request: Request) -> str:
    return str(getattr(request.state, "language", None) or i18n.current_language())
