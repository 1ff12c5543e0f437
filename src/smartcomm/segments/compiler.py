"""Compiles a rule tree into one SQL statement: `SELECT customers.id FROM customers WHERE …`.

The compiler only walks the tree; each condition is turned into SQL by its metric. Every value is a
bound parameter. NULL is treated as "no": a negated condition or group matches exactly the customers
the un-negated one does not.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select, and_, false, func, not_, or_, select, true
from sqlalchemy.sql import visitors

from smartcomm.kit.errors import FieldError, InvalidInput
from smartcomm.models import Customer
from smartcomm.segments.metrics import registry
from smartcomm.segments.metrics.base import CompileContext, MetricError
from smartcomm.segments.rules import Condition, Group, SegmentRules


def compile_rules(rules: SegmentRules, context: CompileContext) -> Select[Any]:
    """The ids of the customers matching `rules`; raises InvalidInput naming each bad condition."""
    return select(Customer.id).where(predicate(rules, context))


def predicate(rules: SegmentRules, context: CompileContext) -> ColumnElement[bool]:
    try:
        # Every condition is built once; only a tree with a bad condition is walked again, to name them all.
        return _group(rules.root, context)
    except MetricError as error:
        errors = validate(rules, context)
        if not errors:
            raise
        raise InvalidInput("The segment conditions are not valid", errors) from error


def validate(rules: SegmentRules, context: CompileContext) -> list[FieldError]:
    """Check every condition against its metric; returns the problems with their paths in the tree."""
    errors: list[FieldError] = []
    for path, condition in rules.conditions():
        try:
            _condition(condition, context)
        except MetricError as error:
            errors.append(FieldError(path, str(error), "invalid_condition"))
    return errors


def _node(node: Condition | Group, context: CompileContext) -> ColumnElement[bool]:
    if isinstance(node, Group):
        return _group(node, context)
    return _negated(_condition(node, context), node.negate)


def _group(group: Group, context: CompileContext) -> ColumnElement[bool]:
    # Conditions on the customer's own row first: SQLite tests them in the order written, so a
    # subquery then only runs for the customers they leave (PostgreSQL orders them by cost itself).
    parts = sorted((_node(child, context) for child in group.children), key=_reads_other_rows)
    if not parts:
        combined: ColumnElement[bool] = true()
    elif len(parts) == 1:
        combined = parts[0]
    else:
        combined = and_(*parts) if group.op == "and" else or_(*parts)
    return _negated(combined, group.negate)


def _reads_other_rows(expression: ColumnElement[bool]) -> bool:
    return any(isinstance(element, Select) for element in visitors.iterate(expression))


def _condition(condition: Condition, context: CompileContext) -> ColumnElement[bool]:
    metric = registry.get(condition.metric, context)
    for spec in metric.params:
        if spec.required and condition.params.get(spec.name) in (None, ""):
            raise MetricError(f"{metric.key} needs the parameter {spec.name!r}")
    return metric.build(condition, context)


def _negated(expression: ColumnElement[bool], negate: bool) -> ColumnElement[bool]:
    # COALESCE turns an unknown (NULL) result into "no" before negating, so NOT never loses customers.
    return not_(func.coalesce(expression, false())) if negate else expression
