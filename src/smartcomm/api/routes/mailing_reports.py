"""A mailing's report over the API: its volume, delivery and engagement figures, attributed receipts per
day and e-mail opens by hour; and its groups report (each group's purchases against the control group)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from smartcomm.api.deps import api_requires
from smartcomm.api.schemas import error_responses
from smartcomm.auth.permissions import Permission
from smartcomm.auth.principal import Principal
from smartcomm.kit.http import DbSession
from smartcomm.kit.types import PathId
from smartcomm.mailings.groups_report import GroupsReport, groups_report_service
from smartcomm.mailings.reports import MailingReport, mailing_report_service

router = APIRouter(tags=["mailings"])

Viewer = Annotated[Principal, Depends(api_requires(Permission.MAILINGS_VIEW))]
NOT_FOUND = error_responses(404)


@router.get("/mailings/{mailing_id}/report", response_model=MailingReport, responses=NOT_FOUND)
def mailing_report(session: DbSession, _: Viewer, mailing_id: PathId) -> MailingReport:
    """The mailing's volume buckets, message figures with their rates (delivery and bounces of the sent;
    opens, clicks, unsubscribes and complaints of the delivered; machine opens and clicks apart), the
    receipts credited to it in total and per day, and people's e-mail opens by weekday and hour."""
    return mailing_report_service.report(session, mailing_id)


@router.get("/mailings/{mailing_id}/groups", response_model=GroupsReport, responses=NOT_FOUND)
def mailing_groups(session: DbSession, _: Viewer, mailing_id: PathId) -> GroupsReport:
    """Per group (the recipients or each A/B variant, and the control group): members, delivered, buyers,
    conversion, receipts and revenue in the measurement window, the revenue expected at the control
    group's rate, the increment, and the significance of each difference against the control group."""
    return groups_report_service.report(session, mailing_id)
