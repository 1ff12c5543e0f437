"""Campaigns → Instant campaigns: the gallery of ready-made campaigns, each drawn as a small diagram of its
nodes; "Use" makes an editable draft of one and opens it in the editor."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from smartcomm.auth.permissions import Permission
from smartcomm.auth.principal import Principal
from smartcomm.campaigns import nodes as registry
from smartcomm.campaigns.recipes import RECIPES, Recipe, instantiate, layout, requirements
from smartcomm.kit import i18n
from smartcomm.kit.http import DbSession
from smartcomm.kit.i18n import lazy
from smartcomm.web.deps import requires
from smartcomm.web.templating import flash, redirect, render

router = APIRouter(prefix="/campaigns/gallery")
Viewer = Annotated[Principal, Depends(requires(Permission.CAMPAIGNS_VIEW))]
Editor = Annotated[Principal, Depends(requires(Permission.CAMPAIGNS_EDIT))]
# The diagram: node squares, the distance between columns and rows, the margin (SVG units).
SIDE, PITCH_X, PITCH_Y, MARGIN = 34, 54, 46, 4
POSITIVE, NEGATIVE = frozenset({"out", "yes", "a"}), frozenset({"no", "undelivered", "over", "control"})


@dataclass(frozen=True)
class DiagramNode:
    x: int
    y: int
    icon: str
    label: str
    trigger: bool


@dataclass(frozen=True)
class DiagramEdge:
    path: str  # an SVG path from the source's right side to the target's left side
    tone: str  # positive | negative | other


@dataclass(frozen=True)
class Diagram:
    width: int
    height: int
    nodes: list[DiagramNode]
    edges: list[DiagramEdge]


@router.get("", response_class=HTMLResponse)
def gallery(request: Request, session: DbSession, _: Viewer) -> Response:
    """Every ready-made campaign with what it does, the diagram of its nodes, and the promo-code groups
    and polls it needs."""
    cards = [(recipe, diagram(recipe), requirements(session, recipe)) for recipe in RECIPES]
    return render(request, "campaigns/gallery.html", {"cards": cards})


@router.post("/{key}")
def use_recipe(request: Request, session: DbSession, principal: Editor, key: str) -> Response:
    """Make a draft campaign of the recipe and open it in the editor."""
    language = str(getattr(request.state, "language", None) or i18n.current_language())
    campaign = instantiate(session, principal.actor, key, language)
    flash(
        request, lazy("The campaign was made from the recipe: complete the marked nodes, then activate it.")
    )
    return redirect(request, f"/campaigns/{campaign.id}")


def diagram(recipe: Recipe) -> Diagram:
    """The recipe's nodes on a small grid, left to right from the trigger, with their connections."""
    places = layout(recipe.nodes, recipe.edges)
    spots = {
        node_id: (MARGIN + col * PITCH_X, MARGIN + row * PITCH_Y) for node_id, (col, row) in places.items()
    }
    nodes = [_node(node.kind, *spots[node.id]) for node in recipe.nodes]
    edges = [_edge(spots[source], spots[target], output) for source, output, target in _distinct(recipe)]
    return Diagram(
        width=max(x for x, _ in spots.values()) + SIDE + MARGIN,
        height=max(y for _, y in spots.values()) + SIDE + MARGIN,
        nodes=nodes,
        edges=edges,
    )


def _distinct(recipe: Recipe) -> list[tuple[str, str, str]]:
    """One line per pair of nodes: two outputs into one node (a merge) are drawn once."""
    seen: dict[tuple[str, str], tuple[str, str, str]] = {}
    for source, output, target in recipe.edges:
        seen.setdefault((source, target), (source, output, target))
    return list(seen.values())


def _node(kind_name: str, x: int, y: int) -> DiagramNode:
    kind = registry.kind(kind_name)
    return DiagramNode(
        x=x,
        y=y,
        icon=kind.icon if kind is not None else "ti-point",
        label=str(kind.label) if kind is not None else kind_name,
        trigger=kind_name.startswith("trigger."),
    )


def _edge(source: tuple[int, int], target: tuple[int, int], output: str) -> DiagramEdge:
    x1, y1 = source[0] + SIDE, source[1] + SIDE // 2
    x2, y2 = target[0], target[1] + SIDE // 2
    bend = (x2 - x1) // 2
    tone = "positive" if output in POSITIVE else "negative" if output in NEGATIVE else "other"
    return DiagramEdge(path=f"M{x1},{y1} C{x1 + bend},{y1} {x2 - bend},{y2} {x2},{y2}", tone=tone)
