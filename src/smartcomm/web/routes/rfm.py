"""Customers → RFM segments: the last calculation, its RF/RM/FM grids, the settings, and cell drill-downs."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from smartcomm.auth.permissions import Permission
from smartcomm.auth.principal import Principal
from smartcomm.kit import i18n
from smartcomm.kit.errors import DomainError
from smartcomm.kit.http import DbSession
from smartcomm.kit.pagination import PageParams
from smartcomm.models import RfmCalculation, Segment
from smartcomm.rfm.grids import grids_of
from smartcomm.rfm.scoring import Thresholds
from smartcomm.rfm.service import rfm_service
from smartcomm.segments.service import segment_service
from smartcomm.settings.schemas import RfmSettings
from smartcomm.web.deps import requires
from smartcomm.web.forms import FormErrors, PostedForm, rejected
from smartcomm.web.templating import currency_symbol, flash, redirect, render

router = APIRouter(prefix="/rfm")
Viewer = Annotated[Principal, Depends(requires(Permission.RFM_VIEW))]
Runner = Annotated[Principal, Depends(requires(Permission.RFM_RUN))]
Score = Annotated[int | None, Query(ge=1, le=5)]
PAGE_SIZE = 25
HISTORY_POINTS = 120


@router.get("", response_class=HTMLResponse)
def rfm_page(request: Request, session: DbSession, _: Viewer) -> Response:
    """The latest calculation with its grids, the Best/Lost history and the settings."""
    current = rfm_service.settings(session)
    return _page(request, session, current.model_dump(), {})


@router.get("/status", response_class=HTMLResponse)
def calculation_status(request: Request, session: DbSession, _: Viewer, watch: int | None = None) -> Response:
    """The status line the page polls while a calculation runs; reloads the page once it has finished."""
    if watch is not None and rfm_service.active(session) is None:
        return Response(status_code=200, headers={"HX-Refresh": "true"})
    context = {
        "active": rfm_service.active(session),
        "attempt": rfm_service.last_attempt(session),
        "latest": rfm_service.latest(session),
    }
    return render(request, "rfm/_status.html", context)


@router.post("/calculations")
def start_calculation(request: Request, session: DbSession, principal: Runner) -> Response:
    """Queue a calculation now; the page follows it until it is done."""
    rfm_service.request(session, principal.actor)
    flash(request, "The RFM calculation has started.")
    return redirect(request, "/rfm")


@router.post("/settings")
def save_settings(request: Request, session: DbSession, principal: Runner, form: PostedForm) -> Response:
    """Save the period, the base segment and the runs per day (used from the next calculation on)."""
    values = {name: form.get(name) for name in RfmSettings.model_fields}
    try:
        rfm_service.update_settings(session, principal.actor, values)
    except DomainError as error:
        return _page(request, session, values, rejected(session, error), status=error.status_code)
    flash(request, "RFM settings saved. They apply from the next calculation.")
    return redirect(request, "/rfm")


@router.get("/cells", response_class=HTMLResponse)
def cell_customers(
    request: Request, session: DbSession, _: Viewer, r: Score = None, f: Score = None, m: Score = None,
    page: int = 1,
) -> Response:  # fmt: skip
    """The customers of one cell (two or three of r, f, m), biggest spenders first."""
    cell = {letter: score for letter, score in (("r", r), ("f", f), ("m", m)) if score is not None}
    members = rfm_service.cell_members(session, cell, PageParams(page=max(page, 1), size=PAGE_SIZE))
    latest = rfm_service.latest(session)
    context = {
        "cell": cell,
        "cell_name": " ".join(f"{letter.upper()}{score}" for letter, score in cell.items()),
        "members": members,
        "latest": latest,
        "thresholds": Thresholds.from_json(latest.thresholds if latest else None),
        "query": "&".join(f"{letter}={score}" for letter, score in cell.items()),
        "symbol": _symbol(request),
    }
    return render(request, "rfm/cell.html", context, fragment="rfm/_cell_table.html")


def _page(
    request: Request, session: Session, values: dict[str, Any], errors: FormErrors, *, status: int = 200
) -> HTMLResponse:
    latest = rfm_service.latest(session)
    context = {
        "latest": latest,
        "active": rfm_service.active(session),
        "attempt": rfm_service.last_attempt(session),
        "grids": grids_of(latest) if latest else [],
        "history": _history(rfm_service.history(session, HISTORY_POINTS)),
        "base_segment": _segment(session, latest),
        "segments": [(s.id, s.name) for s in segment_service.search(session, PageParams(size=500)).items],
        "values": values,
        "errors": errors,
        "symbol": _symbol(request),
    }
    return render(request, "rfm/index.html", context, status_code=status)


def _history(calculations: list[RfmCalculation]) -> list[dict[str, Any]]:
    return [{"at": c.finished_at or c.started_at, "best": c.best, "lost": c.lost} for c in calculations]


def _segment(session: Session, calculation: RfmCalculation | None) -> Segment | None:
    if calculation is None or calculation.base_segment_id is None:
        return None
    return session.get(Segment, calculation.base_segment_id)


def _symbol(request: Request) -> str:
    return currency_symbol(request.state.general.currency, i18n.current_language())
