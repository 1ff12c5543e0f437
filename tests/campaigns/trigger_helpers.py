"""Test data of the real-time triggers: a small catalogue, campaigns whose journeys end at once, receipts
with product lines, and handing the published domain events over a second time."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy.orm import Session

from smartcomm.campaigns.engine import forget_watched_nodes
from smartcomm.campaigns.subscribers import enter_on_events
from smartcomm.catalog.schemas import CategoryIn, ProductIn
from smartcomm.catalog.service import catalog_service
from smartcomm.kit.outbox import Event
from smartcomm.kit.time import ensure_utc
from smartcomm.models import Campaign, Customer
from smartcomm.receipts.schemas import ReceiptIn
from smartcomm.receipts.service import receipt_service
from tests.campaigns.helpers import ACTOR, active_campaign, edge, graph, journeys, node
from tests.outbox.conftest import latest_event_id, published

_numbers = itertools.count(1)


@dataclass(frozen=True)
class Catalogue:
    """Drinks ⊃ Coffee; a coffee, a tea (of Drinks) and a mug (of no category)."""

    drinks: int
    coffee_category: int
    coffee: int
    tea: int
    mug: int


@pytest.fixture(name="catalogue")
def catalogue_fixture(session: Session) -> Catalogue:
    categories = [
        CategoryIn(code="drinks", name="Drinks"),
        CategoryIn(code="coffee", name="Coffee", parent="drinks"),
    ]
    made = {
        item.code: item.id for item in catalog_service.upsert_categories(session, ACTOR, categories).items
    }
    products = [
        ProductIn(
            sku="COF-250",
            name="Coffee 250 g",
            price="450.00",
            category="coffee",
            url="https://shop.example/cof",
        ),
        ProductIn(sku="TEA-100", name="Green tea", price="300.00", category="drinks"),
        ProductIn(sku="MUG", name="Mug", price="990.00"),
    ]
    ids = {item.sku: item.id for item in catalog_service.upsert_products(session, ACTOR, products).items}
    session.commit()
    return Catalogue(made["drinks"], made["coffee"], ids["COF-250"], ids["TEA-100"], ids["MUG"])


@pytest.fixture(autouse=True)
def fresh_watch_list() -> Iterator[None]:
    """Campaign chaining caches the watched nodes for a minute: each test starts without the list."""
    forget_watched_nodes()
    yield
    forget_watched_nodes()


def passing(trigger: str, **settings: Any) -> dict[str, Any]:
    """A trigger followed by a filter without conditions: every journey ends at once (so a second entry
    is kept out by its occurrence alone, not by a journey still under way)."""
    return graph([node("t", trigger, **settings), node("f", "action.filter")], [edge("t", "f")])


def campaign_on(session: Session, trigger: str, **settings: Any) -> Campaign:
    """An active campaign of this trigger that lets customers in again whenever it fires."""
    return active_campaign(session, passing(trigger, **settings), reentry_minutes=0)


def entered(session: Session, campaign: Campaign) -> list[int]:
    """The customers that entered, one per journey, in entry order."""
    return [journey.customer_id for journey in journeys(session, campaign)]


def context_of(session: Session, campaign: Campaign) -> dict[str, Any]:
    [journey] = journeys(session, campaign)
    return journey.context


def occurrences(session: Session, campaign: Campaign) -> list[str]:
    return [journey.occurrence for journey in journeys(session, campaign)]


def hand_over_again(session: Session, *kinds: str, after: int = 0) -> None:
    """Hand the campaigns' trigger subscriber the published events of these kinds once more (a dispatch
    repeated after a crash)."""
    rows = published(session, *kinds, after=after)
    events = [Event(r.id, r.kind, r.customer_id, r.payload, ensure_utc(r.occurred_at)) for r in rows]
    assert events, f"no {kinds} event was published"
    enter_on_events(session, events)
    session.commit()


def mark(session: Session) -> int:
    return latest_event_id(session)


def buy_items(session: Session, customer: Customer, *lines: tuple[str, str], price: str = "100.00") -> str:
    """A committed receipt of the customer with lines of (SKU, quantity); returns its number."""
    number = f"RT-{next(_numbers)}"
    data = {
        "number": number,
        "store": "MSK-01",
        "customer_external_id": customer.external_id,
        "purchased_at": "2026-12-01T10:00:00+00:00",
        "lines": [{"sku": sku, "quantity": quantity, "price": price} for sku, quantity in lines],
    }
    receipt_service.write(session, ACTOR, [ReceiptIn.model_validate(data)])
    session.commit()
    return number
