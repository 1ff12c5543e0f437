"""A date trigger that enters a whole base at once does not stall other campaigns (C1): the customers enter
in one statement, and the walk serves the campaigns in turns a batch at a time, so a receipt that comes
while 20,000 birthday journeys are being walked gets its e-mail planned after at most one more batch of
them (300,000 in production; kept small for the suite)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from smartcomm.campaigns import engine
from smartcomm.models import Customer, Journey
from smartcomm.personalization.renderer import renderer
from tests.campaigns.helpers import active_campaign, buy, campaign_messages, edge, graph, journeys, node
from tests.campaigns.scheduled import look, utc
from tests.delivery.helpers import email_template, make_customer

BIG = 20_000
MOMENT = utc(2026, 12, 6, 9)  # 12:00 in Moscow, the project's zone


@pytest.fixture(autouse=True)
def fresh_renderer() -> Iterator[None]:
    renderer.forget()
    yield
    renderer.forget()


def test_a_receipt_gets_its_email_while_a_date_trigger_walks_twenty_thousand_customers(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    session.execute(insert(Customer), [{"external_id": f"BIG-{n}", "email": f"big{n}@example.com",
                                        "email_valid": True} for n in range(BIG)])  # fmt: skip
    buyer = make_customer(session)
    template = email_template(session).id
    # The worker walks in its own job: entering queues nothing here, the test drives the walk itself.
    monkeypatch.setattr(engine, "queue_after_commit", lambda *args: None)
    with time_machine.travel(MOMENT - timedelta(hours=1), tick=False):
        birthday = active_campaign(session, graph(
            [node("t", "trigger.date_has_come", date="2026-12-06", hour=12), node("w", "action.wait")],
            [edge("t", "w")],
        ))  # fmt: skip
        receipts = active_campaign(session, graph(
            [node("t", "trigger.cheque_issued"),
             node("e", "action.send_email", template_version_id=template)],
            [edge("t", "e")],
        ))  # fmt: skip

    with time_machine.travel(MOMENT + timedelta(minutes=1), tick=True):
        assert look(MOMENT + timedelta(minutes=1)) == BIG + 1  # one statement
        walked = drive_the_worker(session, monkeypatch, (birthday.id, receipts.id), buyer)

    big_batches_after_the_receipt, still_waiting = walked
    assert big_batches_after_the_receipt <= 1
    assert still_waiting >= BIG - 2 * engine.batch_size()
    [message] = campaign_messages(session, receipts)
    assert message.customer_id == buyer.id
    assert waiting_at(session, birthday.id, "t") == 0
    assert waiting_at(session, birthday.id, "w") == BIG + 1
    assert [journey.status for journey in journeys(session, receipts)] == ["done"]


def drive_the_worker(
    session: Session, monkeypatch: pytest.MonkeyPatch, campaigns: tuple[int, int], buyer: Customer
) -> tuple[int, int]:
    """`campaigns.advance` as a worker runs it, with a receipt arriving after the big campaign's first batch.
    Returns how many batches of the big campaign ran between the receipt and its campaign's batch, and how
    many big journeys still stood at the trigger when the receipt's batch ran."""
    big_id, receipts_id = campaigns
    walk_batch = engine.advance_batch
    turns: list[int] = []
    seen: dict[str, int] = {}

    def batch(campaign_id: int, size: int | None = None, *, background: bool = False) -> int:
        if campaign_id == receipts_id and "waiting" not in seen:
            seen["waiting"] = waiting_at(session, big_id, "t")
        done = walk_batch(campaign_id, size, background=background)
        turns.append(campaign_id)
        if turns == [big_id]:
            buy(session, buyer)  # a receipt arrives while the big walk has just begun
        return done

    monkeypatch.setattr(engine, "advance_batch", batch)
    engine.advance()
    served = turns.index(receipts_id)
    return turns[1:served].count(big_id), seen["waiting"]


def waiting_at(session: Session, campaign_id: int, node_id: str) -> int:
    statement = select(func.count()).where(
        Journey.campaign_id == campaign_id, Journey.node == node_id, Journey.status == "waiting"
    )
    return int(session.scalar(statement) or 0)
