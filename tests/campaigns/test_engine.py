"""The journey engine end to end: a receipt enters its customer, waits are rows, sends are ledger rows,
filters branch, exit rules and re-entry rules hold."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import select
from sqlalchemy.orm import Session

from smartcomm.campaigns import engine
from smartcomm.campaigns.subscribers import enter_on_events
from smartcomm.events.schemas import EventIn
from smartcomm.events.service import event_service
from smartcomm.kit.outbox import Event
from smartcomm.kit.time import utcnow
from smartcomm.models import CampaignNodeStat
from smartcomm.personalization.renderer import renderer
from tests.campaigns.helpers import (
    ACTOR,
    active_campaign,
    buy,
    campaign_messages,
    edge,
    graph,
    journeys,
    node,
)
from tests.delivery.helpers import email_template, make_customer


@pytest.fixture(autouse=True)
def fresh_renderer() -> Iterator[None]:
    renderer.forget()
    yield
    renderer.forget()


def welcome_graph(template_id: int, wait_hours: int = 1) -> dict:
    return graph(
        [
            node("t", "trigger.cheque_issued"),
            node("w", "action.wait", amount=wait_hours, unit="hours"),
            node("e", "action.send_email", template_version_id=template_id),
        ],
        [edge("t", "w"), edge("w", "e")],
    )


def stats(session: Session, campaign_id: int) -> dict[tuple[str, str], int]:
    rows = session.execute(
        select(CampaignNodeStat.node, CampaignNodeStat.outcome, CampaignNodeStat.count).where(
            CampaignNodeStat.campaign_id == campaign_id
        )
    )
    found: dict[tuple[str, str], int] = {}
    for node_id, outcome, count in rows:
        found[(node_id, outcome)] = found.get((node_id, outcome), 0) + count
    return found


def test_a_receipt_enters_its_customer_who_waits_then_gets_the_email(session: Session) -> None:
    customer = make_customer(session)
    campaign = active_campaign(session, welcome_graph(email_template(session).id))

    buy(session, customer)

    [journey] = journeys(session, campaign)
    assert (journey.customer_id, journey.node, journey.status) == (customer.id, "w", "waiting")
    assert journey.wake_at is not None and journey.wake_at > utcnow() + timedelta(minutes=59)
    assert campaign_messages(session, campaign) == []

    with time_machine.travel(utcnow() + timedelta(hours=1, minutes=1), tick=False):
        engine.advance()
        session.commit()

    [journey] = journeys(session, campaign)
    assert journey.status == "done"
    [message] = campaign_messages(session, campaign)
    assert (message.customer_id, message.channel) == (customer.id, "email")
    assert stats(session, campaign.id) == {
        ("t", "arrived"): 1, ("t", "out"): 1, ("w", "arrived"): 1, ("w", "out"): 1,
        ("e", "arrived"): 1, ("e", "out"): 1,
    }  # fmt: skip


def test_the_same_event_handed_over_twice_enters_the_customer_once(session: Session) -> None:
    customer = make_customer(session)
    campaign = active_campaign(session, welcome_graph(email_template(session).id), reentry_minutes=0)
    receipt = {"id": 999, "customer_id": customer.id, "number": "X", "total": "10.00", "store_id": None}
    event = Event(
        1, "receipt.written", None, {"receipts": [receipt], "customer_ids": [customer.id]}, utcnow()
    )

    enter_on_events(session, [event])
    enter_on_events(session, [event])
    session.commit()

    assert len(journeys(session, campaign)) == 1


def test_a_customer_enters_once_unless_the_campaign_allows_reentry(session: Session) -> None:
    customer = make_customer(session)
    template = email_template(session).id
    at_once = graph(
        [node("t", "trigger.cheque_issued"), node("e", "action.send_email", template_version_id=template)],
        [edge("t", "e")],
    )
    once = active_campaign(session, at_once, name="Once")
    again = active_campaign(session, at_once, name="Again", reentry_minutes=0)

    buy(session, customer)
    buy(session, customer)

    assert len(journeys(session, once)) == 1
    assert len(journeys(session, again)) == 2


def test_a_filter_sends_matching_customers_down_yes_and_the_others_down_no(session: Session) -> None:
    rich, poor = make_customer(session), make_customer(session)
    template = email_template(session).id
    rules = {"root": {"children": [{"metric": "purchases.count", "operator": "gte", "value": 2}]}}
    campaign = active_campaign(
        session,
        graph(
            [
                node("t", "trigger.cheque_issued"),
                node("f", "action.filter", rules=rules),
                node("e", "action.send_email", template_version_id=template),
            ],
            [edge("t", "f"), edge("f", "e", "yes")],
        ),
        reentry_minutes=0,
    )

    buy(session, rich)
    buy(session, rich)
    buy(session, poor)

    sent_to = [message.customer_id for message in campaign_messages(session, campaign)]
    assert sent_to == [rich.id]
    assert stats(session, campaign.id)[("f", "no")] == 2  # rich's first receipt, and poor's


def test_a_send_the_gate_suppresses_passes_nobody_on(session: Session) -> None:
    unreachable = make_customer(session, email=None, email_valid=False)
    template = email_template(session).id
    campaign = active_campaign(
        session,
        graph(
            [
                node("t", "trigger.cheque_issued"),
                node("e", "action.send_email", template_version_id=template),
                node("e2", "action.send_email", template_version_id=template),
            ],
            [edge("t", "e"), edge("e", "e2")],
        ),
    )

    buy(session, unreachable)

    [message] = campaign_messages(session, campaign)
    assert (message.status, message.reason) == ("suppressed", "no_address")
    [journey] = journeys(session, campaign)
    assert (journey.status, journey.node, journey.exit_reason) == ("done", "e", "not_sent:no_address")


def test_a_receipt_takes_a_waiting_customer_out_of_a_campaign_with_that_exit_rule(session: Session) -> None:
    customer = make_customer(session)
    template = email_template(session).id
    campaign = active_campaign(
        session,
        graph(
            [
                node("t", "trigger.event_occurred", name="cart_abandoned"),
                node("w", "action.wait", amount=2, unit="hours"),
                node("e", "action.send_email", template_version_id=template),
            ],
            [edge("t", "w"), edge("w", "e")],
        ),
        exit_rules=[{"kind": "receipt"}],
    )
    event = EventIn.model_validate({"name": "cart_abandoned", "customer_external_id": customer.external_id})
    event_service.record(session, ACTOR, [event])
    session.commit()
    assert [j.status for j in journeys(session, campaign)] == ["waiting"]

    with time_machine.travel(utcnow() + timedelta(minutes=1), tick=False):
        buy(session, customer)

    [journey] = journeys(session, campaign)
    assert (journey.status, journey.exit_reason) == ("exited", "exit_receipt")
    with time_machine.travel(utcnow() + timedelta(hours=3), tick=False):
        engine.advance()
    assert campaign_messages(session, campaign) == []
