"""The segment rule tree: groups (AND/OR, negation, nesting) of conditions over registered metrics.

Stored as JSON with a version; validated by pydantic on the way in, and against the metric registry
(known metric, allowed operator, value and parameters of the right shape) before it is compiled.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationError,
    model_validator,
)
from pydantic_core import ErrorDetails

from smartcomm.kit.errors import FieldError, InvalidInput
from smartcomm.kit.i18n import lazy
from smartcomm.kit.types import MAX_INT64, JsonObject, check_json, no_nul

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


# A condition's value: JSON of bounded size (a list of values at most), finite numbers, no NUL.
ConditionValue = Annotated[Any, AfterValidator(check_json)]


class Condition(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: Literal["condition"] = "condition"
    metric: Annotated[str, AfterValidator(no_nul)] = Field(min_length=1, max_length=100)
    operator: Annotated[str, AfterValidator(no_nul)] = Field(min_length=1, max_length=32)
    value: ConditionValue = None
    params: JsonObject = Field(default_factory=dict)
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


# What to say about a missing or malformed node field, instead of pydantic's wording.
FIELD_MESSAGES = {"metric": lazy("Choose an attribute"), "operator": lazy("Choose an operator")}


def parse_rules(raw: Any) -> SegmentRules:
    """A rule tree from JSON text or data; every problem names its node (root.children[1] …)."""
    raw = parse_json(raw)
    try:
        return SegmentRules.model_validate(raw)
    except ValidationError as error:
        problems = [
            FieldError(node_path(item["loc"]), _message(item), "invalid_condition") for item in error.errors()
        ]
        raise InvalidInput("The segment conditions are not valid", _first_per_node(problems)) from error


def parse_json(raw: Any) -> Any:
    """JSON text as data (other values pass unchanged); unreadable text is refused."""
    if not isinstance(raw, str):
        return raw
    try:
        return json.loads(raw) if raw.strip() else {}
    except json.JSONDecodeError as error:
        raise InvalidInput.for_field("rules", "the conditions are not valid JSON") from error


def node_path(location: tuple[int | str, ...]) -> str:
    """The path of the group or condition a validation error is about (its fields are left out)."""
    path, items = "root", list(location)
    if not items or items[0] != "root":
        return "root"
    index = 1
    while index + 1 < len(items) and items[index] == "children" and isinstance(items[index + 1], int):
        path += f".children[{items[index + 1]}]"
        index += 2
        if index < len(items) and items[index] in ("condition", "group"):
            index += 1
    return path


def _message(item: ErrorDetails) -> str:
    field = item["loc"][-1] if item["loc"] else ""
    if isinstance(field, str) and field in FIELD_MESSAGES:
        return FIELD_MESSAGES[field]
    return str(item["msg"]).removeprefix("Value error, ")


def _first_per_node(problems: list[FieldError]) -> list[FieldError]:
    seen: dict[str, FieldError] = {}
    for problem in problems:
        seen.setdefault(problem.field, problem)
    return list(seen.values())


def loose_conditions(raw: Any) -> list[Condition]:
    """The well-formed conditions anywhere in a tree that may not validate as a whole (for labelling)."""
    found: list[Condition] = []
    pending = [raw.get("root")] if isinstance(raw, dict) else []
    while pending:
        node = pending.pop()
        if not isinstance(node, dict):
            continue
        if "children" in node and isinstance(node["children"], list):
            pending.extend(node["children"])
            continue
        try:
            found.append(Condition.model_validate(node))
        except ValidationError:
            continue
    return found


def drop_unfinished(raw: Any) -> tuple[Any, int]:
    """The tree without the conditions that have no metric chosen yet, and how many there were.

    The builder's live count leaves such conditions out while they are being added; saving reports them.
    """
    if not isinstance(raw, dict) or not isinstance(raw.get("root"), dict):
        return raw, 0
    root, dropped = _prune(raw["root"])
    return {**raw, "root": root}, dropped


def _prune(group: dict[str, Any]) -> tuple[dict[str, Any], int]:
    children, dropped = [], 0
    for child in group.get("children") or []:
        if isinstance(child, dict) and isinstance(child.get("children"), list):
            pruned, inner = _prune(child)
            children.append(pruned)
            dropped += inner
        elif isinstance(child, dict) and not child.get("metric"):
            dropped += 1
        else:
            children.append(child)
    return {**group, "children": children}, dropped


# ---------------------------------------------------------------- references to rows

# Parameter kinds that may name their row by a key instead of an id, and the key's field. A key means the
# same row in every installation, so a tree that uses keys can be copied from one to another.
REFERENCE_KEYS = {
    "category": "code",
    "product": "sku",
    "store": "code",
    "audience": "name",
    "segment": "name",
    "mailing": "name",
}
# Kinds whose key is unique within a classifier (the main catalogue unless one is named).
CLASSIFIED_KINDS = ("category", "product")


def reference_id(value: Any) -> int | None:
    """The id a parameter value names: an integer, a string of digits, or a key object with its resolved
    `id`. None for anything else (a code or SKU given as plain text); ValueError for an impossible id."""
    if isinstance(value, Mapping):
        value = value.get("id")
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, str):
        if not (value.isascii() and value.isdigit()):
            return None
        value = int(value)
    if not isinstance(value, int):
        return None
    if not 0 < value <= MAX_INT64:
        raise ValueError(f"{value} is not a valid id")
    return value


def plain_references(rules: SegmentRules) -> SegmentRules:
    """A copy of the tree whose key objects are replaced by the ids resolved for them (for the builder
    and the rules in words, which name rows by id)."""
    plain = rules.model_copy(deep=True)
    for _path, condition in plain.conditions():
        condition.params = {name: _plain(value) for name, value in condition.params.items()}
    return plain


def plain_reference_tree(raw: Any) -> Any:
    """The same for a tree as JSON data that may not validate as a whole (the builder's input)."""
    if not isinstance(raw, dict):
        return raw
    plain = copy.deepcopy(raw)
    pending = [plain.get("root")]
    while pending:
        node = pending.pop()
        if not isinstance(node, dict):
            continue
        if isinstance(node.get("children"), list):
            pending.extend(node["children"])
        elif isinstance(node.get("params"), dict):
            node["params"] = {name: _plain(value) for name, value in node["params"].items()}
    return plain


def _plain(value: Any) -> Any:
    try:
        found = reference_id(value) if isinstance(value, Mapping) else None
    except ValueError:
        return value
    return found if found is not None else value


def label_key(value: Any) -> str | None:
    """How a parameter value is looked up for display: the id (also of a key object), or the plain text
    of a code; None for what names no row (nothing given, an impossible id)."""
    try:
        found = reference_id(value)
    except ValueError:
        return None
    if found is not None:
        return str(found)
    if value in (None, "") or isinstance(value, (dict, list)) or str(value).isdigit():
        return None
    return str(value)


def referenced_segments(rules: SegmentRules) -> set[int]:
    """Ids of the other segments a rule tree tests membership of."""
    found = set()
    for _path, condition in rules.conditions():
        if condition.metric != "segments.member":
            continue
        try:
            segment_id = reference_id(condition.params.get("segment"))
        except ValueError:
            continue
        if segment_id is not None:
            found.add(segment_id)
    return found


def dependency_order(references: Mapping[int, set[int]]) -> list[int]:
    """Segment ids (keys of `references`, in their order) each after the segments it references.

    A reference to an unknown segment is ignored; a cycle (never saved, but possible in old data) is
    broken where it closes, so every segment is placed exactly once.
    """
    ordered: list[int] = []
    placed: set[int] = set()

    def place(segment_id: int, trail: tuple[int, ...]) -> None:
        if segment_id in placed or segment_id in trail:
            return
        for reference in sorted(references[segment_id]):
            if reference in references:
                place(reference, (*trail, segment_id))
        placed.add(segment_id)
        ordered.append(segment_id)

    for segment_id in references:
        place(segment_id, ())
    return ordered
