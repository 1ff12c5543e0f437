"""Attribution rules: which purchases a touch of a communication may claim, and who decides the rule.

A rule is a window — N days after the touch, a date range in which the purchase must fall, or off —
plus optional receipt criteria. Each kind of source (mailings, campaigns, …) registers a resolver that
returns the rules of its communications by id; a source without a resolver, or one its resolver does not
name, uses the default rule: N days from the settings (`DeliverySettings.attribution_days`).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from sqlalchemy.orm import Session

from smartcomm.kit.time import end_of_day, start_of_day

# Messages that are never touches: copies for testers and watchers, and address confirmations.
NOT_TOUCHES = ("test", "watcher", "confirmation")
OPENED_CHANNELS = ("email", "push")  # a touch when a person opened it
DELIVERED_CHANNELS = ("sms", "viber")  # a touch when delivered


class Window(StrEnum):
    DAYS = "days"
    RANGE = "range"
    OFF = "off"


@dataclass(frozen=True)
class Criteria:
    """Which receipts qualify, beyond being paid: every criterion set must hold; a receipt qualifies for
    `skus` or `category_ids` when any of its purchase lines has one of them."""

    min_amount: Decimal | None = None
    min_items: Decimal | None = None
    skus: frozenset[str] = frozenset()
    category_ids: frozenset[int] = frozenset()

    @property
    def reads_lines(self) -> bool:
        return bool(self.skus or self.category_ids)


@dataclass(frozen=True)
class Rule:
    """The window and criteria of one communication. `starts_at`/`ends_at` (UTC, end excluded) bound the
    purchase for a date range; `days` is the length of the window after the touch, its end included."""

    window: Window
    days: int = 0
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    criteria: Criteria = field(default_factory=Criteria)

    @classmethod
    def days_after(cls, days: int, criteria: Criteria | None = None) -> Rule:
        if days <= 0:
            return cls.off()
        return cls(Window.DAYS, days=days, criteria=criteria or Criteria())

    @classmethod
    def between(cls, first: date, last: date, zone: str, criteria: Criteria | None = None) -> Rule:
        """Purchases from the start of `first` to the end of `last` (both included) in the zone."""
        return cls(
            Window.RANGE,
            starts_at=start_of_day(first, zone),
            ends_at=end_of_day(last, zone),
            criteria=criteria or Criteria(),
        )

    @classmethod
    def off(cls) -> Rule:
        return cls(Window.OFF)

    def covers(self, touched_at: datetime, purchased_at: datetime) -> bool:
        """Whether a purchase falls in the window of a touch (the touch always comes first)."""
        if self.window == Window.OFF or touched_at >= purchased_at:
            return False
        if self.window == Window.DAYS:
            return purchased_at <= touched_at + timedelta(days=self.days)
        assert self.starts_at is not None and self.ends_at is not None
        return self.starts_at <= purchased_at < self.ends_at


SourceKey = tuple[str, int | None]
# resolver(session, source ids) -> the rule of each source it knows; the others take the default.
Resolver = Callable[[Session, Collection[int | None]], Mapping[int | None, Rule]]

_resolvers: dict[str, Resolver] = {}


def register_rule_source(source_kind: str, resolver: Resolver) -> None:
    """Let a kind of communication (`mailing`, `campaign`) decide the attribution rule of its own."""
    _resolvers[source_kind] = resolver


def unregister_rule_source(source_kind: str) -> Resolver | None:
    """Forget a kind's resolver; returns it (so it can be registered again)."""
    return _resolvers.pop(source_kind, None)


def resolve(session: Session, sources: Collection[SourceKey], default: Rule) -> dict[SourceKey, Rule]:
    """The rule of every source: its resolver's, else the default."""
    by_kind: dict[str, set[int | None]] = {}
    for kind, source_id in sources:
        by_kind.setdefault(kind, set()).add(source_id)
    rules: dict[SourceKey, Rule] = {}
    for kind, ids in by_kind.items():
        resolver = _resolvers.get(kind)
        known = resolver(session, ids) if resolver is not None else {}
        for source_id in ids:
            rules[(kind, source_id)] = known.get(source_id, default)
    return rules
