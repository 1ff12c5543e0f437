"""A campaign's report over the API: the whole campaign or one node, over all time or a period."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from smartcomm.api.deps import api_requires
from smartcomm.api.schemas import error_responses
from smartcomm.auth.permissions import Permission
from smartcomm.auth.principal import Principal
from smartcomm.campaigns.reports import CampaignReport, campaign_report_service
from smartcomm.kit.http import DbSession
from smartcomm.kit.types import PathId

router = APIRouter(tags=["campaigns"])

Viewer = Annotated[Principal, Depends(api_requires(Permission.CAMPAIGNS_VIEW))]
NOT_FOUND = error_responses(404)
NodeId = Annotated[
    str | None, Query(pattern=r"^[A-Za-z0-9_-]{1,32}$", description="The report of this node of the graph")
]


@router.get("/campaigns/{campaign_id}/report", response_model=CampaignReport, responses=NOT_FOUND)
def campaign_report(
    session: DbSession,
    _: Viewer,
    campaign_id: PathId,
    node: NodeId = None,
    date_from: Annotated[date | None, Query(description="First day, project time zone")] = None,
    date_to: Annotated[date | None, Query(description="Last day (included), project time zone")] = None,
) -> CampaignReport:
    """Journeys (entered, in progress, finished, exited by a rule), each node's funnel (arrived, standing
    there, passed by each output, stopped with the reasons), the messages' figures with their rates in
    total and per channel, the orders credited to them in total and per day, each control node's groups
    compared (conversion, revenue per customer, uplift and its significance), and people's e-mail opens
    by weekday and hour. With `node`: the messages, opens, orders and control group of that node only.
    With a period: what happened in those days (what stands now is always now)."""
    return campaign_report_service.report(session, campaign_id, node, date_from, date_to)
