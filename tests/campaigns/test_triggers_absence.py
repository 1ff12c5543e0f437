"""Absence triggers: lost carts and lost views are looked at every 5 minutes and enter each cart or view
once, with what the trigger knew in the journey's context; the last visit counts in the project's days."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sqlalchemy.orm import Session

from smartcomm.campaigns import engine, nodes
from smartcomm.campaigns.repository import CampaignRepository
from smartcomm.campaigns.triggers.base import Trigger, Window
from smartcomm.models import Campaign, Category, Customer, Product, WebEvent
from tests.campaigns.helpers import journeys
from tests.campaigns.scheduled import MOSCOW, campaign_at, contexts, entered, look, selected, use_zone, utc
from tests.events.conftest import make_customer, make_product
from tests.tracker.conftest import at, purchase, put_in_cart, web_event


@pytest.fixture
def anna(session: Session) -> Customer:
    return make_customer(session, "A-1", first_name="Anna")


@pytest.fixture
def boris(session: Session) -> Customer:
    return make_customer(session, "A-2", first_name="Boris")


@pytest.fixture
def carl(session: Session) -> Customer:
    return make_customer(session, "A-3", first_name="Carl")


@pytest.fixture
def bag(session: Session) -> Product:
    return make_product(session, "BAG-1", "Leather bag", "4990.00", category=("bags", "Bags"))


@pytest.fixture
def socks(session: Session) -> Product:
    return make_product(session, "SOCKS", "Wool socks", "245.25")


def test_a_lost_cart_enters_when_it_becomes_abandoned_with_its_total(
    session: Session, anna: Customer, boris: Customer, carl: Customer, bag: Product, socks: Product
) -> None:
    put_in_cart(session, anna, bag, "1", 0)
    put_in_cart(session, anna, socks, "2", 0)
    put_in_cart(session, boris, bag, "1", 30)
    put_in_cart(session, carl, bag, "1", 0)
    purchase(session, carl, 20)  # bought: not abandoned
    campaign = campaign_at(session, at(-10), "trigger.lost_cart")

    assert look(at(59)) == 0  # 59 minutes of inactivity
    assert look(at(64)) == 1
    assert look(at(95)) == 1

    assert entered(session, campaign) == [
        (anna.id, "cart:2026-06-01T10:00:00"),
        (boris.id, "cart:2026-06-01T10:30:00"),
    ]
    assert contexts(session, campaign)[anna.id] == {
        "cart_total": "5480.50", "item_count": 2, "abandoned_at": "2026-06-01T10:00:00",
    }  # fmt: skip


def test_a_cart_looked_at_twice_enters_once_and_a_cart_left_again_enters_again(
    session: Session, anna: Customer, bag: Product, socks: Product
) -> None:
    put_in_cart(session, anna, bag, "1", 0)
    campaign = campaign_at(session, at(-10), "trigger.lost_cart")
    assert look(at(64)) == 1
    with time_machine.travel(at(64) + timedelta(days=2), tick=False):
        engine.advance()  # the journey's wait ends: it no longer keeps anna out

    assert look_again(session, campaign, "trigger.lost_cart", at(-10), at(64)) == 0
    put_in_cart(session, anna, socks, "1", 3000)  # two days later, another product, left again
    assert look(at(3061)) == 1

    assert [occurrence for _, occurrence in entered(session, campaign)] == [
        "cart:2026-06-01T10:00:00",
        "cart:2026-06-03T12:00:00",  # 60 minutes after the second change
    ]


def look_again(session: Session, campaign: Campaign, kind: str, start: datetime, end: datetime) -> int:
    """The same window looked at once more (a worker that repeats a look)."""
    trigger = nodes.kind(kind)
    assert isinstance(trigger, Trigger) and campaign.published_version_id is not None
    version = CampaignRepository(session).version(campaign.published_version_id)
    assert version is not None
    settings = engine.graph_of(version).settings["t"]
    found = engine.enter_window(session, campaign, trigger, settings, Window(start, end, ZoneInfo(MOSCOW)))
    session.commit()
    return found


def test_a_lost_product_view_enters_after_the_delay_unless_the_product_went_into_the_cart(
    session: Session, anna: Customer, boris: Customer, carl: Customer, bag: Product, socks: Product
) -> None:
    for customer in (anna, boris):
        web_event(session, customer, "product_view", 0, product_id=bag.id, category_id=bag.category_id)
    web_event(session, boris, "container_change", 10, product_id=bag.id, container_code="cart",
              container_action="add")  # fmt: skip
    web_event(session, carl, "product_view", 0, product_id=socks.id)  # not a chosen product
    campaign = campaign_at(session, at(-10), "trigger.lost_product_view", amount=1, unit="hours",
                           product_ids=[bag.id])  # fmt: skip

    assert look(at(59)) == 0
    assert look(at(64)) == 1

    assert entered(session, campaign) == [(anna.id, "view:2026-06-01T09:00:00")]
    assert contexts(session, campaign)[anna.id] == {
        "product_id": bag.id, "category_id": bag.category_id, "viewed_at": "2026-06-01T09:00:00",
    }  # fmt: skip


def test_a_lost_view_enters_the_customer_once_for_the_latest_of_several_views(
    session: Session, anna: Customer, bag: Product, socks: Product
) -> None:
    web_event(session, anna, "product_view", 0, product_id=socks.id)
    web_event(session, anna, "category_view", 1, category_id=bag.category_id)

    found = selected(session, "trigger.lost_view", at(30), at(65), amount=30, unit="minutes")

    assert found == {(anna.id, "view:2026-06-01T09:01:00")}


def test_a_lost_category_view_keeps_to_the_chosen_categories(
    session: Session, anna: Customer, boris: Customer, bag: Product
) -> None:
    shoes = Category(classifier_id=bag.classifier_id, code="shoes", name="Shoes")
    session.add(shoes)
    session.flush()
    web_event(session, anna, "category_view", 0, category_id=bag.category_id)
    web_event(session, boris, "category_view", 0, category_id=shoes.id)

    found = selected(session, "trigger.lost_category_view", at(50), at(70), amount=1, unit="hours",
                     category_ids=[bag.category_id])  # fmt: skip

    assert found == {(anna.id, "view:2026-06-01T09:00:00")}


def test_absences_are_looked_at_every_five_minutes() -> None:
    trigger = nodes.kind("trigger.lost_cart")
    assert isinstance(trigger, Trigger)

    assert trigger.next_check(trigger.parse({}), at(0), ZoneInfo(MOSCOW)) == at(5)


@pytest.mark.parametrize(("zone", "launch"), [(MOSCOW, utc(2026, 5, 31, 21)), ("UTC", utc(2026, 6, 1))])
def test_days_since_last_visit_takes_the_last_visit_n_local_days_ago(
    session: Session, anna: Customer, boris: Customer, carl: Customer, zone: str, launch: datetime
) -> None:
    use_zone(session, zone)
    visit(session, anna, utc(2026, 5, 2, 10))
    visit(session, boris, utc(2026, 5, 2, 10))
    visit(session, boris, utc(2026, 5, 20, 10))  # came back since
    visit(session, carl, utc(2026, 5, 1, 22))  # 2 May in Moscow, 1 May in UTC
    campaign = campaign_at(session, utc(2026, 5, 31, 12), "trigger.days_since_last_visit", days=30)

    assert look(launch + timedelta(minutes=1)) == (2 if zone == MOSCOW else 1)

    expected = {anna.id, carl.id} if zone == MOSCOW else {anna.id}
    assert {customer_id for customer_id, _ in entered(session, campaign)} == expected
    assert {occurrence for _, occurrence in entered(session, campaign)} == {f"last_visit:{date(2026, 6, 1)}"}
    assert len(journeys(session, campaign)) == len(expected)


def visit(session: Session, customer: Customer, moment: datetime) -> None:
    session.add(WebEvent(kind="visit", customer_id=customer.id, occurred_at=moment, snapshot={}, context={}))
    session.flush()
