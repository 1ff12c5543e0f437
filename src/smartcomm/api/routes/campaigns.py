"""Trigger campaigns over the API: the list with its totals, the palette of node kinds, a campaign with its
editable graph and versions, saving and checking the graph, activating, suspending, copying, deleting, and
the funnel numbers of its nodes."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Query, Response, status
from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy.orm import Session

from smartcomm.api.deps import api_requires
from smartcomm.api.schemas import PageOut, PageSize, SearchText, error_responses
from smartcomm.attribution.schemas import AttributionRuleIn
from smartcomm.auth.permissions import Permission
from smartcomm.auth.principal import Principal
from smartcomm.campaigns import palette
from smartcomm.campaigns.figures import node_figures
from smartcomm.campaigns.listing import Attributed, CampaignListing, ListFilter, check_category
from smartcomm.campaigns.modules import switched_on
from smartcomm.campaigns.schemas import MAX_GRAPH_BYTES, MAX_GRAPH_DEPTH, CampaignIn, ExitRule, GraphBody
from smartcomm.campaigns.service import Problems, campaign_service, settings_of
from smartcomm.kit.errors import FieldError, NotFound
from smartcomm.kit.http import DbSession
from smartcomm.kit.pagination import PageParams
from smartcomm.kit.types import MAX_INT64, PageNumber, PathId, RowId, check_json
from smartcomm.models import Campaign

router = APIRouter(tags=["campaigns"])

Viewer = Annotated[Principal, Depends(api_requires(Permission.CAMPAIGNS_VIEW))]
Editor = Annotated[Principal, Depends(api_requires(Permission.CAMPAIGNS_EDIT))]
Activator = Annotated[Principal, Depends(api_requires(Permission.CAMPAIGNS_ACTIVATE))]
NOT_FOUND = error_responses(404)
CHANGE_ERRORS = error_responses(404, 409)
CampaignStatus = Literal["draft", "active", "suspended"]


class CampaignOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    description: str | None
    status: str
    trigger_kind: str | None
    reentry_minutes: int | None
    exit_rules: list[dict[str, Any]]
    category_id: int | None
    exclude_global_control: bool
    attribution: dict[str, Any]
    draft_version_id: int | None
    published_version_id: int | None
    created_at: datetime
    updated_at: datetime
    activated_at: datetime | None
    suspended_at: datetime | None
    orders: int = 0
    amount: Decimal = Decimal("0.00")


class VersionOut(BaseModel):
    id: int
    number: int
    created_at: datetime
    published_at: datetime | None
    published_by: str | None


class ProblemOut(BaseModel):
    field: str
    message: str


class CampaignDetailOut(CampaignOut):
    graph: dict[str, Any]
    version_id: int
    version_number: int
    read_only: bool = Field(description="The published graph is shown: saving a graph makes a new draft")
    versions: list[VersionOut]
    problems: list[ProblemOut]


class TotalsOut(BaseModel):
    active: int
    orders: int
    amount: Decimal


class CheckOut(BaseModel):
    valid: bool
    problems: list[ProblemOut]


class SavedOut(CheckOut):
    version_id: int
    version_number: int


class _Storable(BaseModel):
    """A body whose every text and number can be stored (no NUL, finite numbers), refused with 422."""

    @model_validator(mode="before")
    @classmethod
    def _storable(cls, data: Any) -> Any:
        return check_json(data, max_bytes=2 * MAX_GRAPH_BYTES, max_depth=MAX_GRAPH_DEPTH + 2)


class CampaignCreate(_Storable, CampaignIn):
    graph: GraphBody | None = None


class CampaignPatch(_Storable):
    """Fields to change; those not sent stay as they are."""

    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    description: Annotated[str, Field(max_length=1000)] | None = None
    reentry_minutes: int | None = None
    exit_rules: list[ExitRule] | None = None
    category_id: RowId | None = None
    exclude_global_control: bool | None = None
    attribution: AttributionRuleIn | None = None


class PaletteEntryOut(BaseModel):
    name: str
    group: str
    family: str
    family_label: str
    label: str
    description: str
    icon: str
    channel: str | None
    needs: str | None
    available: bool
    outputs: list[str]
    output_labels: dict[str, str]
    defaults: dict[str, Any]
    fields: list[dict[str, Any]]
    settings_schema: dict[str, Any]


class NodeFiguresOut(BaseModel):
    arrived: int
    in_progress: int
    outputs: dict[str, int]
    stopped: int
    stopped_by_reason: dict[str, int]


class FiguresOut(BaseModel):
    nodes: dict[str, NodeFiguresOut]


# --- reading ---------------------------------------------------------------------------------------------


@router.get("/campaigns", response_model=PageOut[CampaignOut])
def list_campaigns(
    session: DbSession,
    _: Viewer,
    campaign_status: Annotated[CampaignStatus | None, Query(alias="status")] = None,
    q: SearchText = "",
    page: PageNumber = 1,
    size: PageSize = 25,
) -> PageOut[CampaignOut]:
    """Campaigns, the most recently changed first, with the orders credited to them; filtered by status and
    searched by name."""
    listing = CampaignListing(session)
    found = listing.page(ListFilter(campaign_status or "", q.strip()), PageParams(page=page, size=size))
    attributed = listing.attributed([c.id for c in found.items])
    items = [_out(c, attributed.get(c.id, Attributed())) for c in found.items]
    return PageOut[CampaignOut](
        items=items, total=found.total, page=found.page, size=found.size, pages=found.pages
    )


@router.get("/campaigns/totals", response_model=TotalsOut)
def campaign_totals(session: DbSession, _: Viewer) -> TotalsOut:
    """The list's header: active campaigns, and the orders credited to campaigns with their amount."""
    totals = CampaignListing(session).totals()
    return TotalsOut(active=totals.active, orders=totals.orders, amount=totals.amount)


@router.get("/campaigns/palette", response_model=list[PaletteEntryOut])
def campaign_palette(session: DbSession, _: Viewer) -> list[PaletteEntryOut]:
    """Every node kind a graph may hold: its group and family, label, icon, outputs for its default
    settings, the form of its settings and their JSON schema; `available` is false while the module it
    needs is switched off."""
    return [PaletteEntryOut(**entry) for entry in palette.entries(switched_on(session))]


@router.get("/campaigns/{campaign_id}", response_model=CampaignDetailOut, responses=NOT_FOUND)
def get_campaign(session: DbSession, _: Viewer, campaign_id: PathId) -> CampaignDetailOut:
    """One campaign with the graph the editor shows (the draft, else the published one), its versions and
    the problems of that graph."""
    return _detail(session, campaign_service.get(session, campaign_id))


@router.get("/campaigns/{campaign_id}/figures", response_model=FiguresOut, responses=NOT_FOUND)
def campaign_figures(
    session: DbSession,
    _: Viewer,
    campaign_id: PathId,
    version_id: Annotated[int | None, Query(ge=1, le=MAX_INT64)] = None,
) -> FiguresOut:
    """Per node: journeys that arrived, those standing there now, and those that left by each output or
    stopped there — over every version of the campaign, or over the version asked for."""
    campaign_service.get(session, campaign_id)
    found = node_figures(session, campaign_id, version_id)
    return FiguresOut(nodes={node: NodeFiguresOut(**f.as_json()) for node, f in found.items()})


# --- changing --------------------------------------------------------------------------------------------


@router.post("/campaigns", response_model=CampaignDetailOut, status_code=status.HTTP_201_CREATED)
def create_campaign(session: DbSession, principal: Editor, body: CampaignCreate) -> CampaignDetailOut:
    """Create a draft campaign; without a graph it starts with a "cheque issued" trigger alone."""
    data = CampaignIn.model_validate(body.model_dump(exclude={"graph"}))
    check_category(session, data.category_id)
    graph = body.graph.model_dump(mode="json") if body.graph is not None else None
    return _detail(session, campaign_service.create(session, principal.actor, data, graph))


@router.patch("/campaigns/{campaign_id}", response_model=CampaignDetailOut, responses=NOT_FOUND)
def update_campaign(
    session: DbSession, principal: Editor, campaign_id: PathId, body: CampaignPatch
) -> CampaignDetailOut:
    """Change the campaign's settings (name, description, re-entry, exit rules, category…); fields not sent
    stay. `reentry_minutes` null: a customer enters once; 0: whenever the trigger fires; N: no earlier than
    N minutes after the previous entry."""
    campaign = campaign_service.get(session, campaign_id)
    data = CampaignIn.model_validate(settings_of(campaign) | body.model_dump(exclude_unset=True))
    check_category(session, data.category_id)
    return _detail(session, campaign_service.update(session, principal.actor, campaign_id, data))


@router.put("/campaigns/{campaign_id}/graph", response_model=SavedOut, responses=NOT_FOUND)
def save_graph(session: DbSession, principal: Editor, campaign_id: PathId, body: GraphBody) -> SavedOut:
    """Save the graph into the draft (an active campaign gets a new draft version; its customers stay on the
    version they entered). The graph is saved even with problems, which come back pinned to their nodes
    (`nodes.<id>` or `nodes.<id>.settings.<field>`); a body that is not a graph is refused with 422."""
    problems = campaign_service.save_graph(
        session, principal.actor, campaign_id, body.model_dump(mode="json")
    )
    version = campaign_service.editable_version(session, campaign_service.get(session, campaign_id))
    return SavedOut(version_id=version.id, version_number=version.number, **_check_out(problems).model_dump())


@router.post("/campaigns/{campaign_id}/validate", response_model=CheckOut, responses=NOT_FOUND)
def validate_graph(
    session: DbSession,
    _: Editor,
    campaign_id: PathId,
    body: Annotated[GraphBody | None, Body()] = None,
) -> CheckOut:
    """The problems of the graph sent (nothing is saved), or of the campaign's editable graph."""
    campaign = campaign_service.get(session, campaign_id)
    graph = body.model_dump(mode="json") if body is not None else _editable_graph(session, campaign)
    return _check_out(campaign_service.check(session, graph))


@router.post("/campaigns/{campaign_id}/activate", response_model=CampaignDetailOut, responses=CHANGE_ERRORS)
def activate_campaign(session: DbSession, principal: Activator, campaign_id: PathId) -> CampaignDetailOut:
    """Publish the draft as a new version and let customers enter; refused with 422 listing the graph's
    problems, each naming its node."""
    return _detail(session, campaign_service.activate(session, principal.actor, campaign_id))


@router.post("/campaigns/{campaign_id}/suspend", response_model=CampaignDetailOut, responses=CHANGE_ERRORS)
def suspend_campaign(session: DbSession, principal: Activator, campaign_id: PathId) -> CampaignDetailOut:
    """Stop entering and walking; journeys under way wait where they stand until the campaign is activated
    again. 409 when the campaign is not active."""
    return _detail(session, campaign_service.suspend(session, principal.actor, campaign_id))


@router.post(
    "/campaigns/{campaign_id}/copy",
    response_model=CampaignDetailOut,
    status_code=status.HTTP_201_CREATED,
    responses=NOT_FOUND,
)
def copy_campaign(session: DbSession, principal: Editor, campaign_id: PathId) -> CampaignDetailOut:
    """A new draft with the campaign's settings and its editable graph."""
    return _detail(session, campaign_service.copy(session, principal.actor, campaign_id))


@router.delete("/campaigns/{campaign_id}", status_code=status.HTTP_204_NO_CONTENT, responses=CHANGE_ERRORS)
def delete_campaign(session: DbSession, principal: Editor, campaign_id: PathId) -> Response:
    """Delete a draft that was never activated; any other campaign answers 409 (suspend it instead)."""
    campaign_service.delete(session, principal.actor, campaign_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# --- shapes ----------------------------------------------------------------------------------------------


def _out(campaign: Campaign, attributed: Attributed) -> CampaignOut:
    found = CampaignOut.model_validate(campaign)
    return found.model_copy(update={"orders": attributed.orders, "amount": attributed.amount})


def _detail(session: Session, campaign: Campaign) -> CampaignDetailOut:
    session.flush()
    listing = CampaignListing(session)
    version = campaign_service.editable_version(session, campaign)
    problems = campaign_service.check(session, version.graph)
    summary = _out(campaign, listing.attributed([campaign.id]).get(campaign.id, Attributed()))
    return CampaignDetailOut(
        **summary.model_dump(),
        graph=version.graph,
        version_id=version.id,
        version_number=version.number,
        read_only=version.published_at is not None,
        versions=[VersionOut(**row.__dict__) for row in listing.versions(campaign.id)],
        problems=_problems(problems.errors),
    )


def _editable_graph(session: Session, campaign: Campaign) -> dict[str, Any]:
    try:
        return campaign_service.editable_version(session, campaign).graph
    except NotFound:
        return {}


def _check_out(problems: Problems) -> CheckOut:
    return CheckOut(valid=problems.valid, problems=_problems(problems.errors))


def _problems(errors: list[FieldError]) -> list[ProblemOut]:
    return [ProblemOut(field=error.field, message=error.message) for error in errors]
