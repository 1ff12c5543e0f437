"""A/B test: the first N customers are spread round robin, the rest wait for the winner — the variant
whose customers' messages after the split did best — and then all follow it."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import update
from sqlalchemy.orm import Session

from smartcomm.campaigns import engine
from smartcomm.kit.db import Database
from smartcomm.kit.time import utcnow
from smartcomm.models import Campaign, Message
from smartcomm.personalization.renderer import renderer
from tests.campaigns.actions_helpers import counters, parked, problems, where
from tests.campaigns.helpers import active_campaign, buy, campaign_messages, edge, graph, journeys, node
from tests.campaigns.test_actions_limits import enter_without_walking
from tests.delivery.helpers import email_template, make_customer


@pytest.fixture(autouse=True)
def fresh_renderer() -> Iterator[None]:
    renderer.forget()
    yield
    renderer.forget()


def ab_graph(template_id: int, **settings: object) -> dict:
    """ab → a: e-mail A → park; b: e-mail B → wait → e-mail again (a message further down counts too)."""
    options = {"variants": 2, "spread": 4, "metric": "clicks", "period": 1, "period_unit": "days"} | settings
    return graph(
        [
            node("t", "trigger.cheque_issued"),
            node("ab", "action.ab_test", **options),
            node("ea", "action.send_email", template_version_id=template_id),
            node("eb", "action.send_email", template_version_id=template_id),
            node("wb", "action.wait", amount=1, unit="hours"),
            node("eb2", "action.send_email", template_version_id=template_id),
            parked("got_a"),
            parked("got_b"),
        ],
        [
            edge("t", "ab"),
            edge("ab", "ea", "a"),
            edge("ab", "eb", "b"),
            edge("ea", "got_a"),
            edge("eb", "wb"),
            edge("wb", "eb2"),
            edge("eb2", "got_b"),
        ],
    )


def click(session: Session, message: Message) -> None:
    now = utcnow()
    session.execute(
        update(Message)
        .where(Message.id == message.id)
        .values(status="clicked", opened_at=now, clicked_at=now)
    )
    session.commit()


def variants(session: Session, campaign: Campaign) -> dict[int, dict]:
    return {j.customer_id: j.state["ab"]["ab"] for j in journeys(session, campaign)}


def test_the_first_customers_are_spread_and_the_rest_follow_the_winner(session: Session) -> None:
    campaign = active_campaign(session, ab_graph(email_template(session).id))
    tested = [make_customer(session) for _ in range(4)]
    waiting = [make_customer(session) for _ in range(2)]
    for customer in tested + waiting:
        buy(session, customer)

    assert [variants(session, campaign)[c.id] for c in tested] == [
        {"variant": "a"}, {"variant": "b"}, {"variant": "a"}, {"variant": "b"},
    ]  # fmt: skip
    assert [where(session, campaign)[c.id] for c in waiting] == ["ab", "ab"]
    assert counters(session, campaign, "ab")["spread"] == 4

    with time_machine.travel(utcnow() + timedelta(hours=2), tick=False):
        engine.advance()  # variant b's second e-mail goes
        session.commit()
    second_of_b = [m for m in campaign_messages(session, campaign) if m.customer_id == tested[3].id][-1]
    click(session, second_of_b)  # a click on a message further down the branch counts for it

    with time_machine.travel(utcnow() + timedelta(days=1, minutes=5), tick=False):
        engine.advance()
        session.commit()
        late = make_customer(session)
        session.commit()
        buy(session, late)

    assert counters(session, campaign, "ab")["winner"] == 2
    placed = where(session, campaign)
    assert [placed[c.id] for c in waiting] == ["wb", "wb"]  # on the winner's path: its first e-mail went
    assert placed[late.id] == "wb"
    assert variants(session, campaign)[late.id] == {"winner": "b"}
    assert Counter(m.customer_id for m in campaign_messages(session, campaign))[waiting[0].id] == 1


def test_without_any_click_the_first_variant_wins(session: Session) -> None:
    campaign = active_campaign(
        session, ab_graph(email_template(session).id, spread=2, period=3, period_unit="hours")
    )
    people = [make_customer(session) for _ in range(3)]
    for customer in people:
        buy(session, customer)
    [waiting] = [j for j in journeys(session, campaign) if j.node == "ab"]
    assert waiting.wake_at is not None and waiting.wake_at > utcnow() + timedelta(hours=2, minutes=59)

    with time_machine.travel(utcnow() + timedelta(hours=3, minutes=1), tick=False):
        engine.advance()
        session.commit()

    assert where(session, campaign)[people[2].id] == "got_a"


def test_two_workers_spreading_at_once_hand_out_each_place_once(live_database: Database) -> None:
    with live_database.session() as session:
        body = graph(
            [node("t", "trigger.cheque_issued"), node("ab", "action.ab_test", variants=3, spread=30)],
            [edge("t", "ab")],
        )
        campaign = active_campaign(session, body)
        enter_without_walking(session, campaign, [make_customer(session) for _ in range(50)])
        campaign_id = campaign.id
    barrier, errors = threading.Barrier(2), []

    def walk() -> None:
        try:
            barrier.wait(timeout=30)
            engine.advance_batch(campaign_id, size=25)
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
        parts = [j.state["ab"]["ab"] for j in journeys(session, found)]
        spread = Counter(part.get("variant") for part in parts if "variant" in part)
        assert spread == {"a": 10, "b": 10, "c": 10}
        assert sum(1 for part in parts if part.get("held")) == 20
        assert counters(session, found, "ab")["spread"] == 30


def test_an_ab_test_has_two_to_five_variants(session: Session) -> None:
    body = graph(
        [node("t", "trigger.cheque_issued"), node("ab", "action.ab_test", variants=6)], [edge("t", "ab")]
    )
    assert list(problems(session, body)) == ["nodes.ab.settings.variants"]
    body["nodes"][1]["settings"] = {"variants": 3}
    body["edges"].append(edge("ab", "t", "d"))
    assert "nodes.ab" in problems(session, body)  # no output "d" with three variants
