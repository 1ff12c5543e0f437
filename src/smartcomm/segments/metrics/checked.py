"""Metrics whose parameters name rows the rule tree cannot vouch for by itself (a poll and its questions,
a promo code group): such a metric carries a check that reads the database when the rules are saved or
previewed, so a condition naming a row that does not exist is refused naming its parameter instead of
silently selecting nobody. Compiling stays free of the database."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from smartcomm.segments.metrics.base import Metric
from smartcomm.segments.rules import Condition

# (parameter name, what is wrong with it) for each parameter naming something that does not exist.
RowCheck = Callable[[Session, Condition], list[tuple[str, str]]]


@dataclass(frozen=True)
class CheckedMetric(Metric):
    check_rows: RowCheck | None = None
