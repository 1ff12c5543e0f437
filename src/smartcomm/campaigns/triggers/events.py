"""Event triggers: a customer event occurred, a system event (fanned out to the customers it concerns),
a web event occurred.

A system event concerns no customer of its own ("product X is back in stock"); the trigger's settings say
whom it reaches: the members of a segment, the customers who viewed the product the event's context names
(`sku`, or `product_id` — a shop's product id is usually its SKU; the platform's id when no SKU matches), or
those who have it in a container (a wishlist, "notify me on arrival"). Each system event enters each of
them once (the occurrence is the event).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints
from sqlalchemy.orm import Session

from smartcomm.campaigns.nodes import Settings, register
from smartcomm.campaigns.reads import customer_events, ids_in
from smartcomm.campaigns.triggers import lookups
from smartcomm.campaigns.triggers.base import Entry, Trigger
from smartcomm.campaigns.triggers.common import Code, SourceChoice, exists_problem, moment, source_problems
from smartcomm.events.schemas import WebEventKind
from smartcomm.kit.i18n import lazy
from smartcomm.kit.outbox import Event
from smartcomm.kit.time import utcnow
from smartcomm.kit.types import RowId
from smartcomm.models import Segment

EventName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


class EventSettings(Settings):
    name: EventName
    # Context values the event must carry (all of them, compared as text).
    context: dict[Annotated[str, StringConstraints(max_length=64)], str] = Field(
        default_factory=dict, max_length=10
    )


def _named(events: Sequence[Event], name: str) -> list[int]:
    """The ids of the stored events of the batches that carry events with this name."""
    return ids_in([event for event in events if name in (event.payload.get("names") or ())], "event_ids")


@register
class EventOccurred(Trigger):
    name = "trigger.event_occurred"
    family = "events"
    label = lazy("Event occurred")
    description = lazy("A customer event with this name (and context values) arrived")
    icon = "ti-bolt"
    settings_model = EventSettings
    listens = frozenset({"event.occurred"})

    def entries(self, session: Session, settings: Any, events: Sequence[Event]) -> list[Entry]:
        rows = customer_events(session, _named(events, settings.name), [settings.name])
        return [
            Entry(row.customer_id, f"event:{row.id}", {"event_id": row.id, "event": dict(row.context or {})})
            for row in rows
            if row.customer_id is not None and _context_matches(settings.context, row.context or {})
        ]


def _context_matches(wanted: dict[str, str], context: dict[str, Any]) -> bool:
    return all(str(context.get(key)) == value for key, value in wanted.items())


# --- system events -------------------------------------------------------------------------------------


class SystemEventSettings(EventSettings):
    # Whom the event reaches: a segment's members, the customers who viewed the product it names (within
    # the last `viewed_days`), or those who have that product in a container.
    audience: Literal["segment", "viewed", "container"] = Field(
        default="segment", title=lazy("Whom it reaches")
    )
    segment_id: RowId | None = None
    viewed_days: Annotated[int, Field(ge=1, le=365)] = Field(default=30, title=lazy("Viewed within, days"))
    container: Code | None = Field(default=None, title=lazy("Container (code)"))


@register
class SystemEvent(Trigger):
    name = "trigger.system_event"
    family = "events"
    label = lazy("System event")
    description = lazy("An event of no customer (“back in stock”) reaching a segment or the product's fans")
    icon = "ti-broadcast"
    settings_model = SystemEventSettings
    listens = frozenset({"event.occurred"})

    def check(self, settings: Any, context: Any) -> list[tuple[str, str]]:
        session = context.session
        if settings.audience == "segment":
            if settings.segment_id is None:
                return [("segment_id", str(lazy("Choose a segment")))]
            return exists_problem(
                session, Segment, settings.segment_id, "segment_id", lazy("The segment does not exist")
            )
        if settings.audience == "container":
            if settings.container is None:
                return [("container", str(lazy("Choose a container")))]
            if not lookups.container_exists(session, settings.container):
                return [("container", str(lazy("No container with this code")))]
        return []

    def entries(self, session: Session, settings: Any, events: Sequence[Event]) -> list[Entry]:
        rows = [
            row
            for row in customer_events(session, _named(events, settings.name), [settings.name])
            if row.customer_id is None and _context_matches(settings.context, row.context or {})
        ]
        if not rows:
            return []
        reached = _Reach(session, settings, rows)
        return [
            Entry(customer_id, f"system_event:{row.id}", reached.context(row))
            for row in rows
            for customer_id in reached.customers(row)
        ]


class _Reach:
    """Whom each system event of a batch reaches, read for the whole batch at once."""

    def __init__(self, session: Session, settings: SystemEventSettings, rows: list[Any]) -> None:
        self.settings = settings
        self.named = _products_named(session, rows)  # event id → the products its context names
        wanted = {product for ids in self.named.values() for product in ids}
        self.found = lookups.products(session, wanted)
        self.members: list[int] = []
        self.fans: dict[int, set[int]] = {}  # product → the customers it reaches
        if settings.audience == "segment" and settings.segment_id is not None:
            self.members = lookups.segment_members(session, settings.segment_id)
        elif settings.audience == "viewed" and wanted:
            since = utcnow() - timedelta(days=settings.viewed_days)
            self.fans = lookups.viewers(session, wanted, since)
        elif settings.audience == "container" and settings.container and wanted:
            self.fans = lookups.holders(session, wanted, settings.container)

    def customers(self, row: Any) -> list[int]:
        if self.settings.audience == "segment":
            return self.members
        reached: set[int] = set()
        for product in self.named.get(row.id, []):
            reached |= self.fans.get(product, set())
        return sorted(reached)

    def context(self, row: Any) -> dict[str, Any]:
        products = self.named.get(row.id, [])
        return {
            "event_id": row.id,
            "event_name": row.name,
            "occurred_at": moment(row.occurred_at),
            "event": dict(row.context or {}),
            "product": self.found.get(products[0]) if products else None,
        }


def _products_named(session: Session, rows: list[Any]) -> dict[int, list[int]]:
    """Event id → the products its context names: by SKU (`sku`, else `product_id` taken as a SKU), and by
    platform id when `product_id` is a number no SKU matched."""
    wanted: dict[int, tuple[str | None, int | None]] = {}
    for row in rows:
        context = row.context or {}
        sku = context.get("sku") or context.get("product_id")
        raw_id = str(context.get("product_id") or "")
        wanted[row.id] = (
            str(sku) if sku not in (None, "") else None,
            int(raw_id) if raw_id.isdigit() else None,
        )
    skus = {sku for sku, _ in wanted.values() if sku}
    ids = {each for _, each in wanted.values() if each is not None and each < 2**63}
    by_sku: dict[str, list[int]] = {}
    known_ids: set[int] = set()
    for product_id, sku in lookups.products_by_sku_or_id(session, skus, ids):
        by_sku.setdefault(sku, []).append(product_id)
        known_ids.add(product_id)
    return {
        event_id: by_sku.get(sku or "") or ([each] if each in known_ids else [])
        for event_id, (sku, each) in wanted.items()
    }


# --- web events ----------------------------------------------------------------------------------------


class WebEventSettings(SourceChoice):
    kinds: list[WebEventKind] = Field(min_length=1, max_length=7, title=lazy("Web event kinds"))


def web_event_context(row: Any) -> dict[str, Any]:
    """What a web event tells templates and filters: its kind, page, product or category as it was."""
    return {
        "web_event_id": row.id,
        "kind": row.kind,
        "occurred_at": moment(row.occurred_at),
        "source_id": row.source_id,
        "url": row.url,
        "section": row.section,
        "product_id": row.product_id,
        "category_id": row.category_id,
        "product": dict(row.snapshot or {}) or None,
        "event": dict(row.context or {}),
    }


def web_events_of(session: Session, events: Sequence[Event], kinds: frozenset[str]) -> list[Any]:
    """The web events of these kinds that the batches name and that were a customer's when they happened
    (a visitor's earlier history, attached when it identified, is not new behaviour)."""
    wanted = [event for event in events if kinds & set(event.payload.get("kinds") or ())]
    ids = ids_in(wanted, "web_event_ids")
    return lookups.customer_web_events(session, ids, kinds) if ids else []


@register
class WebEventOccurred(Trigger):
    name = "trigger.web_event_occurred"
    family = "events"
    label = lazy("Web event occurred")
    description = lazy("A web event of the chosen kinds on the site or app (optionally from one source)")
    icon = "ti-world-bolt"
    settings_model = WebEventSettings
    listens = frozenset({"web_event.occurred"})

    def check(self, settings: Any, context: Any) -> list[tuple[str, str]]:
        return source_problems(context.session, settings.source_id)

    def entries(self, session: Session, settings: Any, events: Sequence[Event]) -> list[Entry]:
        rows = web_events_of(session, events, frozenset(settings.kinds))
        return [
            Entry(row.customer_id, f"web_event:{row.id}", web_event_context(row))
            for row in rows
            if settings.source_id is None or row.source_id == settings.source_id
        ]
