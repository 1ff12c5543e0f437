"""Campaigns → the list: header totals, the campaigns with their trigger and what they earned, "only
active", a name search and paging; and a new campaign, made from a name and opened in the editor."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from smartcomm.campaigns import nodes as registry
from smartcomm.campaigns.listing import Attributed, CampaignListing, ListFilter
from smartcomm.campaigns.schemas import CampaignIn
from smartcomm.campaigns.service import campaign_service
from smartcomm.kit.http import DbSession
from smartcomm.kit.i18n import lazy
from smartcomm.kit.pagination import PageParams
from smartcomm.models import Campaign
from smartcomm.web.forms import PostedForm
from smartcomm.web.routes.campaigns.common import Editor, Viewer
from smartcomm.web.templating import flash, redirect, render

router = APIRouter()
PAGE_SIZES = (10, 25, 50, 100)
DEFAULT_PAGE_SIZE = 25


@dataclass(frozen=True)
class Row:
    """One line of the list: the campaign, its trigger's label and icon, and what it earned."""

    campaign: Campaign
    attributed: Attributed
    trigger_label: str
    trigger_icon: str


@router.get("", response_class=HTMLResponse)
def campaign_list(
    request: Request,
    session: DbSession,
    _: Viewer,
    active: str = "",
    q: str = "",
    page: int = 1,
    size: int = DEFAULT_PAGE_SIZE,
) -> Response:
    """The campaigns, the most recently changed first; only the active ones on request; searched by name."""
    wanted = ListFilter(status="active" if active else "", query=q.strip()[:200])
    size = size if size in PAGE_SIZES else DEFAULT_PAGE_SIZE
    listing = CampaignListing(session)
    found = listing.page(wanted, PageParams(page=max(page, 1), size=size))
    attributed = listing.attributed([c.id for c in found.items])
    context = {
        "page": found,
        "rows": [_row(c, attributed.get(c.id, Attributed())) for c in found.items],
        "wanted": wanted,
        "only_active": bool(active),
        "size": size,
        "sizes": PAGE_SIZES,
        "totals": listing.totals(),
        "query": _query(wanted, size),
    }
    return render(request, "campaigns/list.html", context, fragment="campaigns/_table.html")


@router.post("/new")
def create_campaign(request: Request, session: DbSession, principal: Editor, form: PostedForm) -> Response:
    """A draft with the name given and a "cheque issued" trigger, opened in the editor."""
    try:
        data = CampaignIn.model_validate({"name": form.get("name") or ""})
    except ValidationError:
        flash(request, lazy("Give the campaign a name."), "danger")
        return redirect(request, "/campaigns")
    campaign = campaign_service.create(session, principal.actor, data)
    flash(request, lazy("The campaign was created: add actions to its trigger."))
    return redirect(request, f"/campaigns/{campaign.id}")


def _row(campaign: Campaign, attributed: Attributed) -> Row:
    kind = registry.kind(campaign.trigger_kind or "")
    if kind is None:
        return Row(campaign, attributed, str(lazy("No trigger")), "ti-alert-triangle")
    return Row(campaign, attributed, str(kind.label), kind.icon)


def _query(wanted: ListFilter, size: int) -> str:
    """The list's filters as a query string ending in "&" (for the pager's links)."""
    values = {"active": "1" if wanted.status else "", "q": wanted.query, "size": str(size)}
    return urlencode({key: value for key, value in values.items() if value}) + "&"
