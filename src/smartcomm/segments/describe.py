"""A rule tree in words: "Purchase amount ≥ 1,000.00 ₽ in the last 90 days AND …".

Each condition becomes a list of tokens (kind, value); the page formats money, numbers and days in the
user's language and the project's currency, so the domain stays free of presentation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from smartcomm.kit.i18n import LazyString, lazy, ngettext
from smartcomm.segments.catalog import channel_label
from smartcomm.segments.rules import Condition, Group, Period, SegmentRules
from smartcomm.segments.schemas import MetricOut

# Token kinds: metric, name (a quoted value), op, money, number, day, text, sep (no space before it).
Token = tuple[str, Any]

SYMBOLS = {"eq": "=", "ne": "≠", "gt": ">", "gte": "≥", "lt": "<", "lte": "≤"}
NUMERIC = {"integer", "number", "money"}
WORDS: dict[str, LazyString] = {
    "between": lazy("between"),
    "and": lazy("and"),
    "eq": lazy("is"),
    "ne": lazy("is not"),
    "contains": lazy("contains"),
    "not_contains": lazy("does not contain"),
    "starts_with": lazy("starts with"),
    "in": lazy("is one of"),
    "not_in": lazy("is none of"),
    "empty": lazy("is empty"),
    "not_empty": lazy("is not empty"),
    "on": lazy("on"),
    "before": lazy("before"),
    "after": lazy("after"),
    "in_last": lazy("in the last"),
    "not_in_last": lazy("not in the last"),
    "is_true": lazy("yes"),
    "is_false": lazy("no"),
}
# Parameters that refine when or where (written after the comparison) rather than what.
REFINEMENTS = ("period", "store", "source", "context")


@dataclass
class DescribedCondition:
    path: str
    negate: bool
    tokens: list[Token]


@dataclass
class DescribedGroup:
    path: str
    op: str
    negate: bool
    children: list[DescribedGroup | DescribedCondition] = field(default_factory=list)


def describe(rules: SegmentRules, metrics: dict[str, MetricOut], names: dict[str, str]) -> DescribedGroup:
    """The rule tree as groups of worded conditions; `names` labels ids as "kind:value" → name."""
    return _group(rules.root, "root", _Context(metrics, names))


@dataclass
class _Context:
    metrics: dict[str, MetricOut]
    names: dict[str, str]


def _group(group: Group, path: str, context: _Context) -> DescribedGroup:
    described = DescribedGroup(path, group.op, group.negate)
    for index, child in enumerate(group.children):
        child_path = f"{path}.children[{index}]"
        if isinstance(child, Group):
            described.children.append(_group(child, child_path, context))
        else:
            described.children.append(
                DescribedCondition(child_path, child.negate, _condition(child, context))
            )
    return described


def _condition(condition: Condition, context: _Context) -> list[Token]:
    metric = context.metrics.get(condition.metric)
    if metric is None:
        return [("metric", condition.metric), ("op", condition.operator)]
    kinds = {spec.name: spec.kind for spec in metric.params}
    tokens: list[Token] = [("metric", metric.label)]
    for name, kind in kinds.items():
        if kind not in REFINEMENTS and name not in REFINEMENTS:
            tokens += _subject(kind, condition.params.get(name), context)
    tokens += _comparison(metric, condition)
    for name in REFINEMENTS:
        if name in kinds or name in condition.params:
            tokens += _refinement(name, condition.params.get(name), context)
    return tokens


def _subject(kind: str, value: Any, context: _Context) -> list[Token]:
    if value in (None, ""):
        return []
    if kind == "channel":
        return [("text", "·"), ("text", channel_label(str(value)))]
    return [("name", context.names.get(f"{kind}:{value}", str(value)))]


def _comparison(metric: MetricOut, condition: Condition) -> list[Token]:
    operator, value = condition.operator, condition.value
    if operator in ("is_true", "is_false", "empty", "not_empty"):
        return [("op", str(WORDS[operator]))]
    if operator in ("in_last", "not_in_last"):
        return [("op", str(WORDS[operator])), ("text", _span(value))]
    word = SYMBOLS.get(operator) if metric.value_type in NUMERIC else None
    tokens: list[Token] = [("op", word or str(WORDS.get(operator, operator)))]
    if operator == "between" and isinstance(value, list) and len(value) == 2:
        low, high = value
        return [*tokens, _value(metric, low), ("text", str(WORDS["and"])), _value(metric, high)]
    if isinstance(value, list):
        return tokens + _listed([_value(metric, item) for item in value])
    return [*tokens, _value(metric, value)]


def _listed(items: list[Token]) -> list[Token]:
    tokens: list[Token] = []
    for index, item in enumerate(items):
        if index:
            tokens.append(("sep", ","))
        tokens.append(item)
    return tokens


def _value(metric: MetricOut, value: Any) -> Token:
    if metric.value_type in NUMERIC:
        number = _decimal(value)
        if number is None:
            return ("name", str(value))
        if metric.value_type == "money":
            return ("money", number)
        return ("number", number) if metric.unit is None else ("text", f"{value} {metric.unit}")
    if metric.value_type in ("date", "datetime"):
        try:
            return ("day", date.fromisoformat(str(value)[:10]))
        except ValueError:
            return ("name", str(value))
    choices = {choice.value: choice.label for choice in metric.choices}
    return ("name", choices.get(str(value), str(value)))


def _decimal(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value).replace(",", "."))
    except (InvalidOperation, ValueError):
        return None


def _span(value: Any) -> str:
    n, unit = (value.get("n"), value.get("unit", "days")) if isinstance(value, dict) else (value, "days")
    try:
        count = int(str(n))
    except (TypeError, ValueError):
        return str(value)
    return _count(count, str(unit))


def _count(count: int, unit: str) -> str:
    if unit == "months":
        return ngettext("%(num)s month", "%(num)s months", count) % {"num": count}
    return ngettext("%(num)s day", "%(num)s days", count) % {"num": count}


def _refinement(name: str, value: Any, context: _Context) -> list[Token]:
    if value in (None, "", [], {}):
        return []
    if name == "period":
        return _period(value)
    if name == "store":
        return [
            ("text", str(lazy("in the store"))),
            ("name", context.names.get(f"store:{value}", str(value))),
        ]
    if name == "source":
        return [("text", str(lazy("from"))), ("name", context.names.get(f"source:{value}", str(value)))]
    items = value if isinstance(value, list) else [value]
    pairs = [f"{item.get('key')} = {item.get('value', '')}" for item in items if isinstance(item, dict)]
    return [("text", str(lazy("where"))), *_listed([("name", pair) for pair in pairs])]


def _period(value: Any) -> list[Token]:
    try:
        period = Period.model_validate(value)
    except ValueError:
        return []
    if period.kind == "last" and period.n is not None:
        return [("text", str(lazy("in the last"))), ("text", _count(period.n, period.unit))]
    if period.kind == "between" and period.start and period.end:
        return [
            ("text", str(lazy("from"))),
            ("day", period.start),
            ("text", str(lazy("to"))),
            ("day", period.end),
        ]
    return []
