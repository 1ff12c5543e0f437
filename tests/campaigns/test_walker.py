"""One walker per worker process: while it walks a date trigger's crowd, a customer who has just bought
something is walked at once by the job their entry queued, which leaves the crowd to the walker."""

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
from tests.campaigns.helpers import active_campaign, buy, campaign_messages, edge, graph, node
from tests.campaigns.scheduled import look, utc
from tests.delivery.helpers import email_template, make_customer

CROWD = 12
MOMENT = utc(2026, 12, 6, 9)  # 12:00 in Moscow, the project's zone


@pytest.fixture(autouse=True)
def fresh_renderer() -> Iterator[None]:
    renderer.forget()
    yield
    renderer.forget()


@pytest.fixture
def busy_walker() -> Iterator[None]:
    """Another thread of the process is walking: the walker's place is taken."""
    assert engine._walker.acquire(blocking=False)
    try:
        yield
    finally:
        engine._walker.release()


def waiting_at(session: Session, campaign_id: int, node_id: str) -> int:
    statement = select(func.count()).where(
        Journey.campaign_id == campaign_id, Journey.node == node_id, Journey.status == "waiting"
    )
    return int(session.scalar(statement) or 0)


def test_a_buyer_is_walked_at_once_while_the_walker_is_busy_with_a_crowd(
    session: Session, monkeypatch: pytest.MonkeyPatch, busy_walker: None
) -> None:
    monkeypatch.setattr(engine, "BATCH", 5)  # the crowd is more than a batch
    session.execute(insert(Customer), [{"external_id": f"CROWD-{n}", "email": f"crowd{n}@example.com",
                                        "email_valid": True} for n in range(CROWD)])  # fmt: skip
    buyer = make_customer(session)
    template = email_template(session).id
    with time_machine.travel(MOMENT - timedelta(hours=1), tick=False):
        crowd = active_campaign(session, graph(
            [node("t", "trigger.date_has_come", date="2026-12-06", hour=12), node("w", "action.wait")],
            [edge("t", "w")],
        ))  # fmt: skip
        receipts = active_campaign(session, graph(
            [node("t", "trigger.cheque_issued"),
             node("e", "action.send_email", template_version_id=template)],
            [edge("t", "e")],
        ))  # fmt: skip

    with time_machine.travel(MOMENT + timedelta(minutes=1), tick=False):
        assert look(MOMENT + timedelta(minutes=1)) == CROWD + 1  # its walk finds the walker busy
        assert waiting_at(session, crowd.id, "t") == CROWD + 1  # the crowd is the walker's
        buy(session, buyer)  # entering queues a walk, which finds the walker busy too

        [message] = campaign_messages(session, receipts)
        assert message.customer_id == buyer.id
        assert waiting_at(session, crowd.id, "t") == CROWD + 1  # the buyer's walk left the crowd alone


def test_the_walker_walks_everything_when_it_is_free(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(engine, "BATCH", 5)
    session.execute(insert(Customer), [{"external_id": f"CROWD-{n}", "email": f"crowd{n}@example.com",
                                        "email_valid": True} for n in range(CROWD)])  # fmt: skip
    with time_machine.travel(MOMENT - timedelta(hours=1), tick=False):
        crowd = active_campaign(session, graph(
            [node("t", "trigger.date_has_come", date="2026-12-06", hour=12), node("w", "action.wait")],
            [edge("t", "w")],
        ))  # fmt: skip
    with time_machine.travel(MOMENT + timedelta(minutes=1), tick=False):
        assert look(MOMENT + timedelta(minutes=1)) == CROWD
        assert waiting_at(session, crowd.id, "t") == 0
        assert waiting_at(session, crowd.id, "w") == CROWD  # in batches of five, by one walker
