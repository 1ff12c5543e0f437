"""Limit number of participants and limit poll: the first customers up to the limit go on, the others go
"over" — in total, per period, per store — and two workers walking at once never let one more through."""

from __future__ import annotations

import threading
from datetime import timedelta

import time_machine
from sqlalchemy.orm import Session

from smartcomm.campaigns import engine
from smartcomm.campaigns.repository import CampaignRepository
from smartcomm.kit.db import Database
from smartcomm.kit.time import utcnow
from smartcomm.models import Campaign, Customer, Poll
from smartcomm.receipts.schemas import ReceiptIn
from smartcomm.receipts.service import receipt_service
from tests.campaigns.actions_helpers import counters, problems, split, stats, where
from tests.campaigns.helpers import ACTOR, active_campaign, buy, node
from tests.delivery.helpers import make_customer

LIMIT_OUTPUTS = {"out": "in", "over": "late"}


def limit_graph(**settings: object) -> dict:
    return split(node("l", "action.limit_participants", **settings), LIMIT_OUTPUTS)


def test_the_first_customers_up_to_the_limit_pass_and_the_rest_go_over(session: Session) -> None:
    people = [make_customer(session) for _ in range(5)]
    campaign = active_campaign(session, limit_graph(limit=3))

    for customer in people:
        buy(session, customer)

    assert [where(session, campaign)[c.id] for c in people] == ["in", "in", "in", "late", "late"]
    assert counters(session, campaign, "l") == {"total": 3}  # the places given, not the arrivals
    assert (stats(session, campaign.id)[("l", "out")], stats(session, campaign.id)[("l", "over")]) == (3, 2)


def test_a_daily_limit_starts_again_the_next_day_in_the_project_time_zone(session: Session) -> None:
    campaign = active_campaign(session, limit_graph(limit=1, period="day"), reentry_minutes=0)
    first, second, third = (make_customer(session) for _ in range(3))
    # 20:30 UTC is 23:30 in Moscow; 21:30 UTC is the next day there.
    with time_machine.travel("2026-12-10T20:30:00+00:00", tick=False):
        buy(session, first)
        buy(session, second)
    with time_machine.travel("2026-12-10T21:30:00+00:00", tick=False):
        buy(session, third)

    assert where(session, campaign) == {first.id: "in", second.id: "late", third.id: "in"}
    assert counters(session, campaign, "l") == {"day:2026-12-10": 1, "day:2026-12-11": 1}


def test_the_poll_limit_per_store_counts_each_store_of_the_receipts(session: Session) -> None:
    poll = Poll(name="How was it?", questions=[])
    session.add(poll)
    session.commit()
    action = node("l", "action.limit_poll", poll_id=poll.id, limit=1, per="store")
    campaign = active_campaign(session, split(action, LIMIT_OUTPUTS), reentry_minutes=0)
    moscow_1, moscow_2, spb = (make_customer(session) for _ in range(3))

    buy(session, moscow_1)
    buy(session, moscow_2)
    buy_in(session, spb, "SPB-01")

    assert where(session, campaign) == {moscow_1.id: "in", moscow_2.id: "late", spb.id: "in"}
    assert sorted(counters(session, campaign, "l").values()) == [1, 1]


def buy_in(session: Session, customer: Customer, store: str) -> None:
    data = {
        "number": f"R-{customer.id}-{store}",
        "store": store,
        "customer_external_id": customer.external_id,
        "purchased_at": "2026-12-01T10:00:00+00:00",
        "lines": [{"sku": "A-1", "quantity": "1", "price": "10.00"}],
    }
    receipt_service.write(session, ACTOR, [ReceiptIn.model_validate(data)])
    session.commit()


def test_limits_refuse_a_missing_poll_and_a_limit_below_one(session: Session) -> None:
    below_one = split(node("l", "action.limit_participants", limit=0, period="year"), LIMIT_OUTPUTS)
    assert set(problems(session, below_one)) == {"nodes.l.settings.limit", "nodes.l.settings.period"}
    missing_poll = split(node("l", "action.limit_poll", poll_id=424242, limit=5), LIMIT_OUTPUTS)
    assert problems(session, missing_poll) == {"nodes.l.settings.poll_id": "The poll does not exist"}


def test_two_workers_walking_at_once_let_exactly_the_limit_through(live_database: Database) -> None:
    """Two threads, each with a session of its own, walk disjoint batches through one limit at the same
    time (on PostgreSQL the second waits on the counter's row lock; SQLite lets one writer in at a time)."""
    with live_database.session() as session:
        campaign = active_campaign(session, limit_graph(limit=25))
        people = [make_customer(session) for _ in range(60)]
        enter_without_walking(session, campaign, people)
        campaign_id = campaign.id
    barrier, errors = threading.Barrier(2), []

    def walk() -> None:
        try:
            barrier.wait(timeout=30)
            engine.advance_batch(campaign_id, size=30)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=walk) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert errors == []
    with live_database.session() as session:
        found = session.get(Campaign, campaign_id)
        assert found is not None
        placed = list(where(session, found).values())
        assert (placed.count("in"), placed.count("late")) == (25, 35)
        assert counters(session, found, "l") == {"total": 25}


def enter_without_walking(session: Session, campaign: Campaign, people: list[Customer]) -> None:
    """Journeys at the trigger, due now, committed without the walk that entering queues."""
    now = utcnow() - timedelta(seconds=1)
    assert campaign.published_version_id is not None
    version_id = campaign.published_version_id
    moment = {"wake_at": now, "arrived_at": now, "entered_at": now}
    rows = [
        {
            "campaign_id": campaign.id,
            "version_id": version_id,
            "customer_id": c.id,
            "occurrence": f"test:{c.id}",
        }
        | {"node": "t", "status": "waiting", "context": {}, "state": {}}
        | moment
        for c in people
    ]
    CampaignRepository(session).insert_journeys(rows)
    session.commit()
