"""The statements of a per-customer refresh, compiled once per process and reused.

A new receipt must show in its customer's segments within tens of milliseconds (target S4), and at that
scale building SQLAlchemy expressions from the rule trees costs more than running them. So a refresh
evaluates all segments together, one SELECT per dependency level answering "is the customer in segment
X?" for every segment of the level, and those SELECTs are kept in memory for as long as nothing they are
compiled from changes: the segments and their rules, the project time zone, the custom customer fields
and the day (rules read the clock only through `today`). Any such change makes a new key, so a segment
whose rules were edited is never evaluated with its old ones; the customers are a bound parameter.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import Select, select

from smartcomm.models import Customer
from smartcomm.segments.compiler import predicate
from smartcomm.segments.metrics import CompileContext
from smartcomm.segments.rules import SegmentRules, dependency_order, referenced_segments

# A segment's id and its rules as stored.
Definition = tuple[int, dict[str, Any]]
# Plans kept per process: one per set of rules and day is the steady state; old days age out.
PLANS_KEPT = 16


@dataclass(frozen=True)
class Level:
    """Segments evaluated together: none of them tests membership of another segment of the level."""

    segment_ids: tuple[int, ...]
    # The customer id, then whether the customer is in each segment of `segment_ids` (NULL means no).
    statement: Select[*tuple[Any, ...]]


class _PlanCache:
    """The latest plans by key, the least recently used dropped first (shared by the worker's threads)."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._plans: OrderedDict[Hashable, tuple[Level, ...]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> tuple[Level, ...] | None:
        with self._lock:
            plan = self._plans.get(key)
            if plan is not None:
                self._plans.move_to_end(key)
            return plan

    def put(self, key: Hashable, plan: tuple[Level, ...]) -> None:
        with self._lock:
            self._plans[key] = plan
            self._plans.move_to_end(key)
            while len(self._plans) > self._size:
                self._plans.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._plans.clear()


_plans = _PlanCache(PLANS_KEPT)


def refresh_levels(definitions: Sequence[Definition], context: CompileContext) -> tuple[Level, ...]:
    """The statements evaluating these segments (in id order) for some customers, in dependency order."""
    key = _plan_key(definitions, context)
    plan = _plans.get(key)
    if plan is None:
        plan = _plan(definitions, context)
        _plans.put(key, plan)
    return plan


def forget_plans() -> None:
    """Drop every cached plan (tests; a running process never needs to)."""
    _plans.clear()


def _plan_key(definitions: Sequence[Definition], context: CompileContext) -> Hashable:
    # The rules themselves, not a revision number: rules written by any path make a new key.
    rules = tuple((segment_id, json.dumps(tree, sort_keys=True)) for segment_id, tree in definitions)
    return rules, context.today, context.zone, tuple(sorted(context.custom_types.items()))


def _plan(definitions: Sequence[Definition], context: CompileContext) -> tuple[Level, ...]:
    parsed = {segment_id: SegmentRules.model_validate(tree) for segment_id, tree in definitions}
    references = {segment_id: referenced_segments(rules) for segment_id, rules in parsed.items()}
    # Compiled for "some customers": the aggregates read only the refreshed customers' rows.
    limited = replace(context, customer_ids=[])
    return tuple(_level(run, parsed, limited) for run in _runs(dependency_order(references), references))


def _runs(order: list[int], references: dict[int, set[int]]) -> list[list[int]]:
    """The dependency order cut where a segment tests membership of one earlier in the same run."""
    runs: list[list[int]] = []
    for segment_id in order:
        if not runs or references[segment_id] & set(runs[-1]):
            runs.append([])
        runs[-1].append(segment_id)
    return runs


def _level(segment_ids: list[int], parsed: dict[int, SegmentRules], context: CompileContext) -> Level:
    columns = [predicate(parsed[segment_id], context).label(f"in_{segment_id}") for segment_id in segment_ids]
    statement = select(Customer.id, *columns).where(Customer.id.in_(context.refreshed_customers()))
    return Level(tuple(segment_ids), statement)
