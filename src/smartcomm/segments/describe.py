"""A rule tree in words: "Purchase amount ≥ 1,000.00 ₽ in the last 90 days AND …".

Each condition becomes a list of tokens (kind, value); the page formats money, numbers and days in the
user's language and the project's currency, so the domain stays free of presentation.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from smartcomm.kit.i18n import DEFAULT_LANGUAGE, LazyString, current_language, gettext_, lazy, ngettext
from smartcomm.segments.catalog import channel_label
from smartcomm.segments.promo_poll_rows import SCOPES, scoped_key
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
            tokens += _subject(kind, condition.params.get(name), context, condition.params)
    tokens += _comparison(metric, condition)
    for name in REFINEMENTS:
        if name in kinds or name in condition.params:
            tokens += _refinement(name, condition.params.get(name), context)
    return tokens


def _subject(kind: str, value: Any, context: _Context, params: dict[str, Any]) -> list[Token]:
    if value in (None, ""):
        return []
    if kind == "channel":
        return [("text", "·"), ("text", channel_label(str(value)))]
    if kind in SCOPES:  # a poll's question, row or options: named within their poll
        items = [str(item).strip() for item in (value if isinstance(value, list) else str(value).split(","))]
        names = [context.names.get(scoped_key(kind, params, item), item) for item in items if item]
        return [("name", ", ".join(names))]
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


# ---------------------------------------------------------------- problems in words

# The checks of the metrics speak the API's language (English, metric keys, operator codes); the builder
# shows the same problems by the metric's label, in the user's language. Each entry reads one shape of
# message; anything else keeps its text with the metric keys replaced by their labels.
VALUE_KINDS: dict[str, LazyString] = {
    "integer": lazy("a whole number"),
    "number": lazy("a number"),
    "money": lazy("an amount"),
    "date": lazy("a date"),
    "datetime": lazy("a date"),
    "string": lazy("a text"),
}
_KEY = r"[\w.:-]+"


@dataclass(frozen=True)
class _Problem:
    """What the message is about: the condition's metric (None when unknown) and its parameters."""

    metric: MetricOut | None

    @property
    def label(self) -> str:
        return self.metric.label if self.metric else str(lazy("this attribute"))

    def param_label(self, name: str) -> str:
        specs = {spec.name: spec.label for spec in self.metric.params} if self.metric else {}
        return specs.get(name, name)


def word_problem(message: str, metric_key: str | None, metrics: dict[str, MetricOut]) -> str:
    """A problem of a condition as the builder shows it: the metric by its label, translated."""
    problem = _Problem(metrics.get(metric_key or ""))
    translated = gettext_(message)
    if found := _reworded(message, problem):
        return found
    if translated != message or current_language() == DEFAULT_LANGUAGE:
        return _labelled(translated, metrics)
    # A check worded only in English: say which condition, in the user's language, without the details.
    return gettext_("Check the condition “%(metric)s”: it is not filled in correctly") % {
        "metric": problem.label
    }


def _reworded(message: str, problem: _Problem) -> str | None:
    for pattern, wording in _WORDINGS:
        found = re.fullmatch(pattern, message.strip())
        if found:
            return wording(problem, *found.groups())
    return None


def _labelled(message: str, metrics: dict[str, MetricOut]) -> str:
    """The message with every metric key in it replaced by the metric's label in quotes."""
    return re.sub(
        _KEY, lambda m: f"“{metrics[m.group(0)].label}”" if m.group(0) in metrics else m.group(0), message
    )


def _operator(code: str) -> str:
    return SYMBOLS.get(code) or str(WORDS.get(code, code))


def _unknown_metric(problem: _Problem, key: str) -> str:
    return str(lazy("This attribute no longer exists; choose another one"))


def _not_valid(problem: _Problem, value: str, kind: str) -> str:
    expected = str(VALUE_KINDS.get(kind, kind))
    return gettext_("“%(value)s” is not %(kind)s") % {"value": value.strip("'\""), "kind": expected}


def _wrong_operator(problem: _Problem, operator: str, *_rest: str) -> str:
    text = gettext_("“%(operator)s” cannot be used with “%(metric)s”: choose another comparison")
    return text % {"operator": _operator(operator), "metric": problem.label}


def _needs_values(problem: _Problem, operator: str, what: str) -> str:
    if what == "two values":
        return gettext_("“%(operator)s” needs two values") % {"operator": _operator(operator)}
    return gettext_("“%(operator)s” needs at least one value") % {"operator": _operator(operator)}


def _needs_value(problem: _Problem, _key: str) -> str:
    return gettext_("Enter a value for “%(metric)s”") % {"metric": problem.label}


def _needs_param(problem: _Problem, *names: str) -> str:
    text = gettext_("“%(metric)s” needs “%(param)s”: choose it in the condition")
    return text % {"metric": problem.label, "param": problem.param_label(names[-1])}


def _choose_param(problem: _Problem, name: str) -> str:
    return gettext_("Choose “%(param)s” from the list") % {"param": problem.param_label(name)}


def _out_of_range(problem: _Problem, value: str) -> str:
    return gettext_("“%(value)s” is too large") % {"value": value.strip("'\"")}


def _too_far_back(problem: _Problem, days: str, months: str) -> str:
    text = gettext_("“In the last” goes back at most %(days)s days or %(months)s months")
    return text % {"days": days, "months": months}


def _bad_period(problem: _Problem, reason: str) -> str:
    return _reworded(reason, problem) or str(lazy("Choose a valid period"))


def _fixed(text: LazyString) -> Callable[..., str]:
    return lambda *_problem_and_groups: str(text)


def _counted(singular: str, plural: str) -> Callable[..., str]:
    return lambda _problem, number: ngettext(singular, plural, int(number)) % {"num": int(number)}


_WORDINGS: list[tuple[str, Callable[..., str]]] = [
    (rf"unknown metric '({_KEY})'", _unknown_metric),
    (r"('.*'|\".*\"|\S+) is not a valid (\w+)", _not_valid),
    (
        rf"operator '(\w+)' (does not apply to {_KEY}|is not supported (?:here|for text|for dates))",
        _wrong_operator,
    ),
    (r"operator '(\w+)' cannot be evaluated on an aggregate", _wrong_operator),
    (r"operator '(\w+)' needs (two values|a list)", _needs_values),
    (rf"({_KEY}) needs a value", _needs_value),
    (rf"({_KEY}) needs the parameter '(\w+)'", _needs_param),
    (r"the condition needs the parameter '(\w+)'", _needs_param),
    (r"the parameter '(\w+)' (?:is an id\b|names nothing known\b).*", _choose_param),
    (r"the parameter '(\w+)': .*", _choose_param),
    (r"('.*'|\".*\"|\S+) is out of range\b.*", _out_of_range),
    (r"'in the last' goes back at most (\d+) days or (\d+) months", _too_far_back),
    (
        r"'in the last' needs a (?:positive )?number of days or months",
        _fixed(lazy("Enter a number of days or months, at least 1")),
    ),
    (r"invalid period: (.*)", _bad_period),
    (r"a category is given by its id\b.*", _fixed(lazy("Choose a category from the list"))),
    (r"a context filter needs a key and a value", _fixed(lazy("A context filter needs a key and a value"))),
    (r"unknown channel '.*'", _fixed(lazy("Choose a channel"))),
    (r"a period 'last' needs n", _fixed(lazy("Enter a number of days or months, at least 1"))),
    (r"a period 'between' needs start and end", _fixed(lazy("Enter both days of the period"))),
    (r"the period starts after it ends", _fixed(lazy("The period starts after it ends"))),
    (r"the conditions are not valid JSON", _fixed(lazy("The conditions could not be read; reload the page"))),
    (r"segment \d+ does not exist", _fixed(lazy("A segment in the conditions no longer exists"))),
    (
        r"a segment cannot depend on itself, directly or through others",
        _fixed(lazy("A segment cannot test membership of itself, directly or through other segments")),
    ),
    (
        r"groups may nest at most (\d+) levels",
        _counted("Groups may nest at most %(num)s level", "Groups may nest at most %(num)s levels"),
    ),
    (
        r"a segment has at most (\d+) conditions",
        _counted("A segment has at most %(num)s condition", "A segment has at most %(num)s conditions"),
    ),
]
