"""The global control group over the API: how it is formed, drawing it, its report, a customer's stays."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query, status

from smartcomm.analytics.global_control import GlobalControlReport, default_period, report
from smartcomm.api.deps import api_requires
from smartcomm.api.schemas import ExternalId, error_responses
from smartcomm.auth.permissions import Permission
from smartcomm.auth.principal import Principal
from smartcomm.control_groups.schemas import DrawIn, DrawOut, GlobalControlStatus, SettingsIn, StayOut
from smartcomm.control_groups.service import global_control_service
from smartcomm.customers.service import customer_service
from smartcomm.kit.http import DbSession
from smartcomm.kit.time import to_zone, utcnow
from smartcomm.settings.schemas import GeneralSettings
from smartcomm.settings.service import settings_service

router = APIRouter(tags=["Global control group"])

Reader = Annotated[Principal, Depends(api_requires(Permission.CONTROL_GROUPS_VIEW))]
Writer = Annotated[Principal, Depends(api_requires(Permission.CONTROL_GROUPS_EDIT))]


@router.get("/global-control", response_model=GlobalControlStatus)
def global_control_status(session: DbSession, _: Reader) -> GlobalControlStatus:
    """The settings, the group now (its draw and size) and when it is drawn again."""
    return global_control_service.status(session)


@router.patch("/global-control", response_model=GlobalControlStatus, responses=error_responses(422))
def change_global_control(session: DbSession, principal: Writer, data: SettingsIn) -> GlobalControlStatus:
    """Change the settings (fields left out keep their values); turning measurement on draws the group,
    off dissolves it."""
    global_control_service.update(session, principal.actor, data.model_dump(exclude_unset=True))
    return global_control_service.status(session)


@router.post(
    "/global-control/draws",
    response_model=DrawOut,
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(409),
)
def draw_global_control(session: DbSession, principal: Writer, data: DrawIn) -> DrawOut:
    """Draw the group anew now (a seed makes the draw reproducible); 409 while measurement is off."""
    return DrawOut.model_validate(global_control_service.draw(session, principal.actor, seed=data.seed))


@router.get("/global-control/draws", response_model=list[DrawOut])
def global_control_draws(session: DbSession, _: Reader) -> list[DrawOut]:
    """The latest draws and uploads, newest first."""
    return global_control_service.draws(session)


@router.get("/global-control/report", response_model=GlobalControlReport)
def global_control_report(
    session: DbSession,
    _: Reader,
    date_from: Annotated[date | None, Query(alias="from")] = None,
    date_to: Annotated[date | None, Query(alias="to")] = None,
) -> GlobalControlReport:
    """The group against the rest of the base over the days from…to (default: the last 90 days)."""
    zone = settings_service.read(session, GeneralSettings).time_zone
    first, last = default_period(to_zone(utcnow(), zone).date())
    return report(session, date_from or first, date_to or last, zone)


@router.get(
    "/customers/{external_id}/global-control", response_model=list[StayOut], responses=error_responses(404)
)
def customer_global_control(session: DbSession, _: Reader, external_id: ExternalId) -> list[StayOut]:
    """The customer's stays in the global control group, latest first (`left_at` null: a member now)."""
    customer = customer_service.get_by_external_id(session, external_id)
    return global_control_service.stays(session, customer.id)
