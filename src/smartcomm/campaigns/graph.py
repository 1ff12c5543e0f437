"""A campaign's graph: its shape, its validation, and the lookups the engine walks it with.

Stored as JSON: `{"nodes": [{"id", "kind", "settings", "x", "y"}], "edges": [{"source", "output",
"target"}]}`. The server validates every graph it saves and refuses to publish one with problems; each
problem names its node (`nodes.<id>` or `nodes.<id>.settings.<field>`) so the editor pins it there:

- exactly one trigger, and it is where the graph starts (nothing leads into it);
- every node is of a known kind with valid settings; every connection joins an output its node has to a
  node that exists; an output leads to one node at most (several outputs may lead into one node);
- every node is reached from the trigger; nothing but the trigger is left without an input;
- no cycle, unless it passes through a wait (a customer would otherwise loop without end);
- every send has content (its kind's own check), and the graph does something after the trigger.
"""

from __future__ import annotations

import contextlib
from collections import defaultdict
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError
from sqlalchemy.orm import Session

from smartcomm.campaigns import nodes as registry
from smartcomm.kit.errors import FieldError
from smartcomm.kit.i18n import lazy

NodeId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,32}$")]
MAX_NODES = 200
# Kinds a cycle may pass through: the customer waits there before going round again.
WAITING_KINDS = frozenset({"action.wait", "action.wait_until"})


class NodeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: NodeId
    kind: Annotated[str, StringConstraints(max_length=48)]
    settings: dict[str, Any] = Field(default_factory=dict)
    x: float = 0
    y: float = 0


class EdgeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    source: NodeId
    output: Annotated[str, StringConstraints(min_length=1, max_length=32)] = registry.OUT
    target: NodeId


class GraphIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    nodes: list[NodeIn] = Field(default_factory=list, max_length=MAX_NODES)
    edges: list[EdgeIn] = Field(default_factory=list, max_length=MAX_NODES * 4)


@dataclass
class CheckContext:
    """What the kinds' own checks may read: the session (templates, segments, polls exist?) and the
    product's switched-on modules."""

    session: Session
    modules: frozenset[str] = frozenset()
    # The graph's node ids and their kinds (a node that names another checks it is there and of its kind).
    kinds: dict[str, str] = field(default_factory=dict)


@dataclass
class Graph:
    """A parsed graph with the lookups the engine needs."""

    nodes: dict[str, NodeIn]
    edges: list[EdgeIn]
    settings: dict[str, Any] = field(default_factory=dict)  # node id → the kind's parsed settings

    @classmethod
    def of(cls, data: dict[str, Any]) -> Graph:
        parsed = GraphIn.model_validate(data or {})
        graph = cls({node.id: node for node in parsed.nodes}, parsed.edges)
        for node in parsed.nodes:
            found = registry.kind(node.kind)
            if found is not None:
                # A stored draft may be invalid; the engine only walks published (validated) graphs.
                with contextlib.suppress(ValidationError):
                    graph.settings[node.id] = found.parse(node.settings)
        return graph

    @cached_property
    def _next(self) -> dict[tuple[str, str], str]:
        return {(edge.source, edge.output): edge.target for edge in self.edges}

    def next(self, node_id: str, output: str) -> str | None:
        """The node an output leads to (None: the branch ends there)."""
        return self._next.get((node_id, output))

    @property
    def trigger(self) -> NodeIn | None:
        found = [node for node in self.nodes.values() if node.kind.startswith("trigger.")]
        return found[0] if len(found) == 1 else None

    def kind_of(self, node_id: str) -> registry.NodeKind | None:
        node = self.nodes.get(node_id)
        return None if node is None else registry.kind(node.kind)


def validate_graph(data: dict[str, Any], context: CheckContext) -> list[FieldError]:
    """Every problem of a graph, each pinned to its node (or to `graph` when it belongs to none)."""
    try:
        parsed = GraphIn.model_validate(data or {})
    except ValidationError as error:
        return [FieldError("graph", _pydantic_message(error))]
    return _Checker(parsed, context).problems()


class _Checker:
    def __init__(self, graph: GraphIn, context: CheckContext) -> None:
        self.graph = graph
        self.context = replace(context, kinds={node.id: node.kind for node in graph.nodes})
        self.errors: list[FieldError] = []
        self.by_id: dict[str, NodeIn] = {}
        self.outputs: dict[str, list[str]] = {}

    def problems(self) -> list[FieldError]:
        self._nodes()
        if not self.graph.nodes:
            self._add("graph", lazy("Add a trigger and at least one action"))
            return self.errors
        self._edges()
        self._trigger_and_reach()
        self._cycles()
        return self.errors

    def _add(self, path: str, message: str) -> None:
        self.errors.append(FieldError(path, str(message)))

    def _nodes(self) -> None:
        for node in self.graph.nodes:
            if node.id in self.by_id:
                self._add(f"nodes.{node.id}", lazy("Two nodes have the same id"))
                continue
            self.by_id[node.id] = node
            found = registry.kind(node.kind)
            if found is None:
                self._add(f"nodes.{node.id}", lazy("Unknown node kind"))
                continue
            if found.needs and found.needs not in self.context.modules:
                self._add(f"nodes.{node.id}", lazy("This node needs a module that is switched off"))
            self._settings(node, found)

    def _settings(self, node: NodeIn, found: registry.NodeKind) -> None:
        try:
            settings = found.parse(node.settings)
        except ValidationError as error:
            for each in error.errors():
                where = ".".join(str(part) for part in each["loc"])
                self._add(f"nodes.{node.id}.settings.{where}".rstrip("."), each["msg"])
            return
        self.outputs[node.id] = found.outputs(settings)
        for where, message in found.check(settings, self.context):
            self._add(f"nodes.{node.id}.settings.{where}".rstrip("."), message)

    def _edges(self) -> None:
        used: set[tuple[str, str]] = set()
        for edge in self.graph.edges:
            if edge.source not in self.by_id or edge.target not in self.by_id:
                node = edge.source if edge.source in self.by_id else edge.target
                self._add(f"nodes.{node}", lazy("A connection leads to a node that does not exist"))
                continue
            if edge.source in self.outputs and edge.output not in self.outputs[edge.source]:
                self._add(
                    f"nodes.{edge.source}", lazy("A connection starts at an output this node does not have")
                )
            if (edge.source, edge.output) in used:
                self._add(f"nodes.{edge.source}", lazy("An output may lead to one node only"))
            used.add((edge.source, edge.output))
            if edge.target == edge.source:
                self._add(f"nodes.{edge.source}", lazy("A node cannot lead to itself"))

    def _trigger_and_reach(self) -> None:
        triggers = [node for node in self.by_id.values() if node.kind.startswith("trigger.")]
        if len(triggers) != 1:
            message = lazy("A campaign starts with exactly one trigger")
            for node in triggers[1:] or []:
                self._add(f"nodes.{node.id}", message)
            if not triggers:
                self._add("graph", message)
            return
        trigger = triggers[0]
        inputs = {edge.target for edge in self.graph.edges}
        if trigger.id in inputs:
            self._add(f"nodes.{trigger.id}", lazy("Nothing may lead into the trigger"))
        if not any(edge.source == trigger.id for edge in self.graph.edges):
            self._add(f"nodes.{trigger.id}", lazy("Connect the trigger to an action"))
        reached = self._reached_from(trigger.id)
        for node in self.by_id.values():
            if node.id not in reached:
                self._add(f"nodes.{node.id}", lazy("Nothing leads to this node: connect it"))

    def _reached_from(self, start: str) -> set[str]:
        following = defaultdict(list)
        for edge in self.graph.edges:
            following[edge.source].append(edge.target)
        reached, pending = {start}, [start]
        while pending:
            for target in following[pending.pop()]:
                if target not in reached:
                    reached.add(target)
                    pending.append(target)
        return reached

    def _cycles(self) -> None:
        """A cycle with no wait on it: look for cycles in the graph without its waiting nodes."""
        waits = {node.id for node in self.by_id.values() if node.kind in WAITING_KINDS}
        following = defaultdict(list)
        for edge in self.graph.edges:
            if edge.source not in waits and edge.target not in waits:
                following[edge.source].append(edge.target)
        state: dict[str, int] = {}  # 1 on the path, 2 finished
        for start in self.by_id:
            if start not in state and (node := self._cycle_from(start, following, state)):
                self._add(f"nodes.{node}", lazy("This loop has no wait in it: add a Wait"))
                return

    @staticmethod
    def _cycle_from(start: str, following: dict[str, list[str]], state: dict[str, int]) -> str | None:
        stack = [(start, iter(following[start]))]
        state[start] = 1
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                state[node] = 2
                stack.pop()
            elif state.get(child) == 1:
                return child
            elif child not in state:
                state[child] = 1
                stack.append((child, iter(following[child])))
        return None


def _pydantic_message(error: ValidationError) -> str:
    first = error.errors()[0]
    where = ".".join(str(part) for part in first["loc"])
    return f"{where}: {first['msg']}" if where else str(first["msg"])
