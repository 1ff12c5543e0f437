"""Campaigns → the canvas editor of one campaign and what it asks the server while it is open: saving the
graph (its problems come back pinned to the nodes), the campaign's settings, the line and outputs of nodes
being edited, the segment builder of a Filter node, and the funnel numbers drawn on the nodes.

The graph travels as the JSON of `campaigns.graph`; the browser converts it to and from Drawflow's own
export, keeping every node's id in the node's data."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from smartcomm.auth.permissions import Permission
from smartcomm.auth.principal import Principal
from smartcomm.campaigns import palette
from smartcomm.campaigns.figures import node_figures
from smartcomm.campaigns.listing import CampaignListing, check_category
from smartcomm.campaigns.modules import switched_on
from smartcomm.campaigns.schemas import CampaignIn, GraphBody
from smartcomm.campaigns.service import campaign_service, settings_of
from smartcomm.campaigns.summaries import describe, names_for
from smartcomm.campaigns.triggers.chaining import node_choices
from smartcomm.kit.errors import DomainError, NotFound
from smartcomm.kit.http import DbSession
from smartcomm.kit.i18n import lazy
from smartcomm.kit.types import MAX_INT64
from smartcomm.models import Campaign, CampaignVersion
from smartcomm.web.forms import field_errors
from smartcomm.web.routes.campaigns.common import Editor, JsonBody, Viewer, problems_json
from smartcomm.web.routes.campaigns.texts import editor_texts
from smartcomm.web.segment_builder import builder_config, read_rules_text, readable_errors
from smartcomm.web.templating import render

router = APIRouter()
MAX_DESCRIBED = 200


@router.get("/{campaign_id:int}", response_class=HTMLResponse)
def editor_page(
    request: Request, session: DbSession, principal: Viewer, campaign_id: int, version: int = 0
) -> Response:
    """The canvas: the draft to edit, or the published graph (read-only until "Edit" makes a new draft), or
    an older version when one is asked for."""
    campaign = campaign_service.get(session, campaign_id)
    shown = _version(session, campaign, version)
    read_only = shown.published_at is not None or not principal.can(Permission.CAMPAIGNS_EDIT)
    listing = CampaignListing(session)
    context = {
        "campaign": campaign,
        "version": shown,
        "read_only": read_only,
        "old_version": shown.id not in (campaign.draft_version_id, campaign.published_version_id),
        "versions": listing.versions(campaign.id),
        "categories": listing.categories(),
        "reentry": _reentry(campaign.reentry_minutes),
        "exit_kinds": {rule.get("kind") for rule in campaign.exit_rules or []},
        "exit_events": ", ".join(
            r.get("name", "") for r in campaign.exit_rules or [] if r.get("kind") == "event"
        ),
        "can_activate": principal.can(Permission.CAMPAIGNS_ACTIVATE),
        "can_edit": principal.can(Permission.CAMPAIGNS_EDIT),
        "config": _config(session, principal, campaign, shown, read_only),
    }
    return render(request, "campaigns/edit.html", context)


@router.put("/{campaign_id:int}/graph")
def save_graph(session: DbSession, principal: Editor, campaign_id: int, posted: JsonBody) -> Response:
    """Save the canvas into the draft; its problems come back for the editor to pin on the nodes."""
    try:
        body = GraphBody.model_validate(posted)
    except ValidationError as error:
        message = str(lazy("The canvas could not be read: reload the page."))
        return JSONResponse({"ok": False, "message": message, "detail": str(error)[:500]}, status_code=422)
    graph = body.model_dump(mode="json")
    problems = campaign_service.save_graph(session, principal.actor, campaign_id, graph)
    version = campaign_service.editable_version(session, campaign_service.get(session, campaign_id))
    return JSONResponse(
        {
            "ok": True,
            "valid": problems.valid,
            "problems": problems_json(problems.errors),
            "version": version.number,
        }
    )


@router.post("/{campaign_id:int}/check")
def check_graph(session: DbSession, _: Editor, campaign_id: int, posted: JsonBody) -> Response:
    """The problems of the canvas as it stands in the browser (nothing is saved)."""
    campaign_service.get(session, campaign_id)
    try:
        body = GraphBody.model_validate(posted)
    except ValidationError:
        return JSONResponse({"ok": False, "problems": []}, status_code=422)
    problems = campaign_service.check(session, body.model_dump(mode="json"))
    return JSONResponse({"ok": True, "valid": problems.valid, "problems": problems_json(problems.errors)})


@router.post("/{campaign_id:int}/settings")
def save_settings(session: DbSession, principal: Editor, campaign_id: int, posted: JsonBody) -> Response:
    """The settings drawer: name, description, re-entry, exit rules, mailing category, attribution rule."""
    campaign = campaign_service.get(session, campaign_id)
    try:
        data = CampaignIn.model_validate(settings_of(campaign) | _posted_settings(posted))
        check_category(session, data.category_id)
    except ValidationError as error:
        return JSONResponse({"ok": False, "errors": field_errors(error)}, status_code=422)
    except DomainError as error:
        return JSONResponse(
            {"ok": False, "errors": {e.field: e.message for e in error.errors}}, status_code=422
        )
    campaign_service.update(session, principal.actor, campaign_id, data)
    return JSONResponse({"ok": True, "message": str(lazy("The settings were saved.")), "name": data.name})


@router.post("/describe")
def describe_nodes(session: DbSession, _: Viewer, body: JsonBody) -> Response:
    """The line each node's card shows and its outputs, for nodes being edited."""
    nodes = body.get("nodes") if isinstance(body, dict) else None
    wanted = [n for n in nodes if isinstance(n, dict)][:MAX_DESCRIBED] if isinstance(nodes, list) else []
    return JSONResponse(describe(wanted, names_for(session, wanted)))


@router.post("/rules-builder", response_class=HTMLResponse)
def rules_builder(request: Request, session: DbSession, _: Viewer, body: JsonBody) -> Response:
    """The segment builder of a Filter node, started from its rules and showing their problems."""
    raw = read_rules_text(body.get("rules") if isinstance(body, dict) else None)
    given = body.get("errors") if isinstance(body, dict) else None
    errors = {str(k): str(v) for k, v in given.items()} if isinstance(given, dict) else {}
    builder = builder_config(
        request, session, raw, readable_errors(session, raw, errors), builder="node-rules"
    )
    return render(request, "campaigns/_rules.html", {"builder": builder})


@router.get("/{campaign_id:int}/figures")
def figures(
    session: DbSession, _: Viewer, campaign_id: int, version: Annotated[int, Query(ge=0, le=MAX_INT64)] = 0
) -> JSONResponse:
    """Per node: journeys that arrived, stand there now, left by each output or stopped there."""
    campaign_service.get(session, campaign_id)
    found = node_figures(session, campaign_id, version or None)
    return JSONResponse({"nodes": {node: f.as_json() for node, f in found.items()}})


@router.get("/{campaign_id:int}/nodes")
def nodes_of(session: DbSession, _: Viewer, campaign_id: int) -> JSONResponse:
    """The nodes of a campaign another one may watch ("action worked"), for the side panel's select."""
    campaign_service.get(session, campaign_id)
    found = node_choices(session, campaign_id)
    return JSONResponse({"nodes": [{"id": node, "label": label} for node, label in found]})


# --- the page's data ---------------------------------------------------------------------------------


def _version(session: Session, campaign: Campaign, number: int) -> CampaignVersion:
    if number:
        for row in CampaignListing(session).versions(campaign.id):
            if row.number == number:
                found = session.get(CampaignVersion, row.id)
                if found is not None:
                    return found
        raise NotFound("Campaign version", number)
    return campaign_service.editable_version(session, campaign)


def _config(
    session: Session, principal: Principal, campaign: Campaign, version: CampaignVersion, read_only: bool
) -> dict[str, Any]:
    """What the editor script starts from (the page's JSON island)."""
    graph = version.graph or {"nodes": [], "edges": []}
    nodes = [n for n in graph.get("nodes", []) if isinstance(n, dict)]
    entries = [
        {k: v for k, v in e.items() if k != "settings_schema"} for e in palette.entries(switched_on(session))
    ]
    problems = [] if version.published_at else problems_json(campaign_service.check(session, graph).errors)
    return {
        "campaign": {"id": campaign.id, "name": campaign.name, "status": campaign.status},
        "version": {
            "id": version.id,
            "number": version.number,
            "published": version.published_at is not None,
        },
        "readOnly": read_only,
        "graph": graph,
        "palette": entries,
        "described": describe(nodes, names_for(session, nodes)),
        "problems": problems,
        "choices": _choices(session, campaign.id, nodes),
        "canEdit": principal.can(Permission.CAMPAIGNS_EDIT),
        "canActivate": principal.can(Permission.CAMPAIGNS_ACTIVATE),
        "texts": editor_texts(),
    }


def _choices(session: Session, campaign_id: int, nodes: list[dict[str, Any]]) -> dict[str, Any]:
    listing = CampaignListing(session)
    kept = [
        value
        for n in nodes
        for key, value in (n.get("settings") or {}).items()
        if key.endswith("template_version_id") and isinstance(value, int) and 0 < value < 2**63
    ]
    return {
        "templates": [
            {
                "id": t.version_id,
                "template": t.template_id,
                "label": t.label,
                "channel": t.channel,
                "number": t.number,
                "subject": t.subject,
                "latest": t.latest,
            }
            for t in listing.templates(kept)
        ],
        "segments": [{"id": i, "label": name, "count": count} for i, name, count in listing.segments()],
        "audiences": [{"id": i, "label": name, "count": count} for i, name, count in listing.audiences()],
        "polls": [{"id": i, "label": name} for i, name in listing.polls()],
        "categories": [{"id": i, "label": name} for i, name in listing.categories()],
        "campaigns": [{"id": i, "label": name} for i, name in listing.campaigns(other_than=campaign_id)],
    }


def _reentry(minutes: int | None) -> dict[str, Any]:
    """The settings drawer's re-entry choice: once, any time, or an interval in the largest whole unit."""
    if minutes is None:
        return {"mode": "once", "amount": 30, "unit": "days"}
    if minutes == 0:
        return {"mode": "any", "amount": 30, "unit": "days"}
    for unit, size in (("days", 1440), ("hours", 60)):
        if minutes % size == 0:
            return {"mode": "interval", "amount": minutes // size, "unit": unit}
    return {"mode": "interval", "amount": minutes, "unit": "minutes"}


UNIT_MINUTES = {"minutes": 1, "hours": 60, "days": 1440}
SETTINGS_FIELDS = (
    "name", "description", "category_id", "exclude_global_control", "exit_rules", "attribution"
)  # fmt: skip


def _posted_settings(body: Any) -> dict[str, Any]:
    """The drawer's fields as `CampaignIn` takes them (what is wrong is left for it to name)."""
    if not isinstance(body, dict):
        return {}
    posted: dict[str, Any] = {key: body[key] for key in SETTINGS_FIELDS if key in body}
    mode = body.get("reentry")
    if mode == "once":
        posted["reentry_minutes"] = None
    elif mode == "any":
        posted["reentry_minutes"] = 0
    elif mode == "interval":
        amount, size = body.get("reentry_amount"), UNIT_MINUTES.get(str(body.get("reentry_unit")))
        posted["reentry_minutes"] = amount
        if isinstance(amount, int) and not isinstance(amount, bool) and size is not None:
            posted["reentry_minutes"] = amount * size
    return posted
