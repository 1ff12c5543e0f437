"""The segment rule tree: groups (AND/OR, negation, nesting) of conditions over registered metrics.

Stored as JSON with a version; validated by pydantic on the way in, and against the metric registry
(known metric, allowed operator, value and parameters of the right shape) before it is compiled.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, model_validator

RULES_VERSION = 1
MAX_DEPTH = 6
MAX_CONDITIONS = 100


class Period(BaseModel):
    """A time refinement: all time, the last N days/months, or between two dates (inclusive)."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["all", "last", "between"] = "all"
    n: int | None = Field(default=None, ge=1, le=3650)
    unit: Literal["days", "months"] = "days"
    start: date | None = None
    end: date | None = None

    @model_validator(mode="after")
    def _complete(self) -> Period:
        if self.kind == "last" and self.n is None:
            raise ValueError("a period 'last' needs n")
        if self.kind == "between" and (self.start is None or self.end is None):
            raise ValueError("a period 'between' needs start and end")
        if self.kind == "between" and self.start and self.end and self.start > self.end:
            raise ValueError("the period starts after it ends")
        return self


class Condition(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: Literal["condition"] = "condition"
    metric: str = Field(min_length=1, max_length=100)
    operator: str = Field(min_length=1, max_length=32)
    value: Any = None
    params: dict[str, Any] = Field(default_factory=dict)
    negate: bool = False


class Group(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: Literal["group"] = "group"
    op: Literal["and", "or"] = "and"
    negate: bool = False
    children: list[Node] = Field(default_factory=list)


def _node_kind(value: Any) -> str:
    """Nodes may omit `type`: a node with children is a group, anything else a condition."""
    if isinstance(value, dict):
        return str(value.get("type") or ("group" if "children" in value else "condition"))
    return str(getattr(value, "type", "condition"))


Node = Annotated[
    Annotated[Condition, Tag("condition")] | Annotated["Group", Tag("group")], Discriminator(_node_kind)
]
Group.model_rebuild()


class SegmentRules(BaseModel):
    """A whole rule tree. An empty root group means "every customer"."""

    model_config = ConfigDict(extra="forbid")

    version: Literal[1] = 1
    root: Group = Field(default_factory=Group)

    @model_validator(mode="after")
    def _bounded(self) -> SegmentRules:
        depth, count = _measure(self.root)
        if depth > MAX_DEPTH:
            raise ValueError(f"groups may nest at most {MAX_DEPTH} levels")
        if count > MAX_CONDITIONS:
            raise ValueError(f"a segment has at most {MAX_CONDITIONS} conditions")
        return self

    def conditions(self) -> list[tuple[str, Condition]]:
        """Every condition with its path in the tree (root.children[0].children[2] …)."""
        return list(_walk(self.root, "root"))


def _measure(group: Group, depth: int = 1) -> tuple[int, int]:
    deepest, count = depth, 0
    for child in group.children:
        if isinstance(child, Group):
            child_depth, child_count = _measure(child, depth + 1)
            deepest, count = max(deepest, child_depth), count + child_count
        else:
            count += 1
    return deepest, count


def _walk(group: Group, path: str) -> list[tuple[str, Condition]]:
    found: list[tuple[str, Condition]] = []
    for index, child in enumerate(group.children):
        child_path = f"{path}.children[{index}]"
        if isinstance(child, Group):
            found.extend(_walk(child, child_path))
        else:
            found.append((child_path, child))
    return found
