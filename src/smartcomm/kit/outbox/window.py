"""A turn's window: which of the events read after a checkpoint may be handed over now (the gap rule of
the package's overview), when the rest may settle, and how many go over in one transaction."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.engine import Row

from smartcomm.config import config
from smartcomm.kit.time import ensure_utc

BATCH_EVENTS = 500  # events handed to a subscriber in one transaction


@dataclass
class _Window:
    """The events after a checkpoint that may be handed over now, and what stops the rest."""

    rows: list[Row[Any]]
    settled: list[Row[Any]] = field(default_factory=list)
    young_gap_at: datetime | None = None  # the first event after a missing id, not yet old enough


def _up_to_a_batch(settled: list[Row[Any]], kinds: frozenset[str]) -> list[Row[Any]]:
    """The settled events up to the BATCH_EVENTS-th of these kinds (the others between them go along)."""
    found = 0
    for position, row in enumerate(settled):
        found += row.kind in kinds
        if found == BATCH_EVENTS:
            return settled[: position + 1]
    return settled


def _window(rows: list[Row[Any]], after: int, now: datetime) -> _Window:
    """Which of the next events may be handed over now (the gap rule)."""
    window = _Window(rows)
    cutoff = now - _seconds(config.outbox_gap_seconds)
    # A subscriber that has handled nothing yet starts at the first event there is, whatever ids the
    # sequence gave to transactions that rolled back before it.
    expected = after + 1 if after else None
    for row in window.rows:
        occurred_at = ensure_utc(row.occurred_at)
        if expected is not None and row.id != expected and occurred_at > cutoff:
            window.young_gap_at = occurred_at  # a lower id may still commit: wait for it
            break
        window.settled.append(row)
        expected = row.id + 1
    return window


def _until_settled(young_gap_at: datetime | None, now: datetime) -> float | None:
    if young_gap_at is None:
        return None
    return (young_gap_at + _seconds(config.outbox_gap_seconds) - now).total_seconds()


def _seconds(value: float) -> timedelta:
    return timedelta(seconds=value)
