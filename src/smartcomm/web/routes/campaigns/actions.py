"""Campaigns → actions on one campaign, from the list's menus (forms) or the editor's buttons (JSON):
activate and suspend (Senior marketers), copy, delete a draft, and start editing an active campaign's graph
as a new draft version."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from smartcomm.campaigns.service import campaign_service
from smartcomm.kit.errors import DomainError, InvalidInput
from smartcomm.kit.http import DbSession
from smartcomm.kit.i18n import lazy
from smartcomm.web.routes.campaigns.common import Activator, Editor, answer, refusal

router = APIRouter()


@router.post("/{campaign_id:int}/activate")
def activate(request: Request, session: DbSession, principal: Activator, campaign_id: int) -> Response:
    """Publish the draft and let customers enter; refused while the graph has problems (the editor shows
    them on its nodes)."""
    try:
        campaign = campaign_service.activate(session, principal.actor, campaign_id)
    except InvalidInput as error:
        session.rollback()
        return refusal(request, error, f"/campaigns/{campaign_id}")
    except DomainError as error:
        session.rollback()
        return refusal(request, error, "/campaigns")
    return answer(request, lazy("The campaign is active."), "/campaigns", status=campaign.status)


@router.post("/{campaign_id:int}/suspend")
def suspend(request: Request, session: DbSession, principal: Activator, campaign_id: int) -> Response:
    """Stop entering and walking; customers under way wait where they stand."""
    try:
        campaign = campaign_service.suspend(session, principal.actor, campaign_id)
    except DomainError as error:
        session.rollback()
        return refusal(request, error, "/campaigns")
    return answer(request, lazy("The campaign was suspended."), "/campaigns", status=campaign.status)


@router.post("/{campaign_id:int}/copy")
def copy(request: Request, session: DbSession, principal: Editor, campaign_id: int) -> Response:
    """A new draft with the campaign's settings and graph, opened in the editor."""
    found = campaign_service.copy(session, principal.actor, campaign_id)
    return answer(request, lazy("The campaign was copied."), f"/campaigns/{found.id}")


@router.post("/{campaign_id:int}/delete")
def delete(request: Request, session: DbSession, principal: Editor, campaign_id: int) -> Response:
    """Delete a draft that was never activated."""
    try:
        campaign_service.delete(session, principal.actor, campaign_id)
    except DomainError as error:
        session.rollback()
        return refusal(request, error, "/campaigns")
    return answer(request, lazy("The campaign was deleted."), "/campaigns")


@router.post("/{campaign_id:int}/edit")
def start_draft(request: Request, session: DbSession, principal: Editor, campaign_id: int) -> Response:
    """Edit an active or suspended campaign: its published graph becomes a new draft version; customers
    already in the campaign finish on the version they entered."""
    campaign = campaign_service.get(session, campaign_id)
    if campaign.draft_version_id is None:
        published = campaign_service.editable_version(session, campaign)
        campaign_service.save_graph(session, principal.actor, campaign_id, published.graph)
    return answer(request, lazy("A new draft version was made: activate it to publish your changes."),
                  f"/campaigns/{campaign_id}")  # fmt: skip
