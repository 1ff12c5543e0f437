"""What a trigger is: how customers enter a campaign.

A real-time trigger names the domain-event kinds it listens to (`listens`) and turns a batch of those
events into entries (`entries`); the campaigns' outbox subscriber hands them over. A scheduled trigger
(dates, absences, "days since") is looked at by the every-minute tick when its `next_check` comes, and
gives the customers whose moment fell in the window looked at as a set-based selection (`selection`), so
that entering 300,000 customers is one statement, not 300,000.

Every entry carries an `occurrence`: what made it happen (a receipt, an event, a date). A campaign enters a
customer once per occurrence, so an event handed over twice never enters anyone twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from sqlalchemy import Select
from sqlalchemy.orm import Session

from smartcomm.campaigns.nodes import NodeKind
from smartcomm.kit.outbox import Event


@dataclass(frozen=True)
class Entry:
    customer_id: int
    occurrence: str
    context: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Window:
    """The stretch of time a scheduled trigger looks at: (start, end], and the project's time zone."""

    start: datetime
    end: datetime
    zone: ZoneInfo


class Trigger(NodeKind):
    group = "trigger"
    # Real-time: the domain-event kinds this trigger enters customers on.
    listens: ClassVar[frozenset[str]] = frozenset()
    scheduled: ClassVar[bool] = False

    def entries(self, session: Session, settings: Any, events: Sequence[Event]) -> list[Entry]:
        """The customers these events enter (real-time triggers)."""
        return []

    def selections(self, session: Session, settings: Any, events: Sequence[Event]) -> list[Select[Any]]:
        """The customers these events enter as set-based selections, where they are too many to list one
        by one (a segment's first build): each a SELECT as `selection` gives. With `entries`, together
        they name each customer the events enter once."""
        return []

    def next_check(self, settings: Any, after: datetime, zone: ZoneInfo) -> datetime | None:
        """When a scheduled trigger looks next, after `after` (None: never again)."""
        return None

    def selection(self, session: Session, settings: Any, window: Window) -> Select[Any] | None:
        """A scheduled trigger's customers for the window: a SELECT of the columns `customer_id` and
        `occurrence` (a string)."""
        return None
