"""Registration triggers: a customer registered (created by the API, the back office, the tracker's
identify or an import), and the same with segment-builder conditions evaluated on the new customers.

From `customer.created` (one customer), `customers.changed` (an API batch: `created_ids`) and
`customers.imported` with `created` true. An import batch that created more customers than an event lists
(`many_customers`) is a data load, not registrations: it enters nobody. A customer registers once, so the
occurrence is "registration".
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import Field
from sqlalchemy.orm import Session

from smartcomm.campaigns.nodes import Settings, register
from smartcomm.campaigns.triggers import lookups
from smartcomm.campaigns.triggers.base import Entry, Trigger
from smartcomm.kit.i18n import lazy
from smartcomm.kit.outbox import Event
from smartcomm.segments.compiler import predicate, validate
from smartcomm.segments.rules import SegmentRules
from smartcomm.segments.service import segment_service

OCCURRENCE = "registration"
# How the customer came: the event kind → the `registered_via` of the context.
SOURCES = {"customer.created": "profile", "customers.changed": "batch", "customers.imported": "import"}


def registered(events: Sequence[Event]) -> dict[int, str]:
    """The customers these events created, with how each came."""
    found: dict[int, str] = {}
    for event in events:
        for customer_id in _created_by(event):
            found.setdefault(customer_id, SOURCES[event.kind])
    return found


def _created_by(event: Event) -> list[int]:
    if event.kind == "customer.created":
        return [event.customer_id] if event.customer_id is not None else []
    if event.kind == "customers.changed":
        return [int(each) for each in event.payload.get("created_ids") or ()]
    if event.kind == "customers.imported" and event.payload.get("created"):
        return sorted(event.customers or ())  # None: too many to list — a data load
    return []


class RegistrationSettings(Settings):
    pass


class _Registration(Trigger):
    family = "customers"
    icon = "ti-user-plus"
    listens = frozenset(SOURCES)

    def _keep(self, session: Session, settings: Any, customer_ids: list[int]) -> set[int]:
        return set(customer_ids)

    def entries(self, session: Session, settings: Any, events: Sequence[Event]) -> list[Entry]:
        found = registered(events)
        kept = self._keep(session, settings, list(found)) if found else set()
        return [
            Entry(customer_id, OCCURRENCE, {"registered_via": via})
            for customer_id, via in found.items()
            if customer_id in kept
        ]


@register
class CustomerRegistered(_Registration):
    name = "trigger.customer_registered"
    label = lazy("Customer registration")
    description = lazy("A new customer: from the API, the back office, the site or an import")
    settings_model = RegistrationSettings


class FilteredSettings(Settings):
    rules: SegmentRules = Field(default_factory=SegmentRules)


@register
class CustomerRegisteredFiltered(_Registration):
    name = "trigger.customer_registered_filtered"
    label = lazy("Customer registration + filter")
    description = lazy("A new customer who meets segment-builder conditions at registration")
    icon = "ti-user-search"
    settings_model = FilteredSettings

    def check(self, settings: Any, context: Any) -> list[tuple[str, str]]:
        if not list(settings.rules.conditions()):
            return [("rules", str(lazy("Add at least one condition")))]
        found = validate(settings.rules, segment_service.context(context.session))
        return [(f"rules.{error.field}", error.message) for error in found]

    def _keep(self, session: Session, settings: Any, customer_ids: list[int]) -> set[int]:
        condition = predicate(settings.rules, segment_service.context(session))
        return lookups.customers_matching(session, customer_ids, condition)
