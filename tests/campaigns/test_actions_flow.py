"""Refresh filter, select customers from segment and check e-mail status, through the engine: a receipt
enters the customer, time passes, the walk sends each customer down the output their facts call for."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import update
from sqlalchemy.orm import Session

from smartcomm.campaigns import engine
from smartcomm.kit.time import utcnow
from smartcomm.models import Message, Segment, SegmentMembership
from smartcomm.personalization.renderer import renderer
from tests.campaigns.actions_helpers import parked, problems, split, stats, where
from tests.campaigns.helpers import active_campaign, buy, campaign_messages, edge, graph, journeys, node
from tests.delivery.helpers import email_template, make_customer

TWO_PURCHASES = {"root": {"children": [{"metric": "purchases.count", "operator": "gte", "value": 2}]}}


@pytest.fixture(autouse=True)
def fresh_renderer() -> Iterator[None]:
    renderer.forget()
    yield
    renderer.forget()


def later(hours: float) -> time_machine.travel:
    return time_machine.travel(utcnow() + timedelta(hours=hours), tick=False)


# --- refresh filter -------------------------------------------------------------------------------------


def refresh_graph() -> dict:
    return graph(
        [
            node("t", "trigger.cheque_issued"),
            node("f", "action.filter", rules=TWO_PURCHASES),
            node("w", "action.wait", amount=1, unit="days"),
            node("r", "action.refresh_filter", filter_node="f"),
            parked("now_yes"),
            parked("now_no"),
        ],
        [
            edge("t", "f"),
            edge("f", "w", "yes"),
            edge("f", "w", "no"),
            edge("w", "r"),
            edge("r", "now_yes", "yes"),
            edge("r", "now_no", "no"),
        ],
    )


def test_a_refreshed_filter_judges_the_customers_as_they_are_now(session: Session) -> None:
    came_back, stayed_away = make_customer(session), make_customer(session)
    campaign = active_campaign(session, refresh_graph())
    buy(session, came_back)
    buy(session, stayed_away)
    with later(2):
        buy(session, came_back)  # under way in the campaign: it does not enter again, but it counts

    with later(25):
        engine.advance()
        session.commit()

    assert where(session, campaign) == {came_back.id: "now_yes", stayed_away.id: "now_no"}
    figures = stats(session, campaign.id)
    assert (figures[("f", "no")], figures[("r", "yes")], figures[("r", "no")]) == (2, 1, 1)
    answers = {j.customer_id: j.state["filters"] for j in journeys(session, campaign)}
    assert answers == {came_back.id: {"f": False, "r": True}, stayed_away.id: {"f": False, "r": False}}


def test_a_refresh_filter_must_name_a_filter_of_the_same_graph(session: Session) -> None:
    body = refresh_graph()
    body["nodes"][3]["settings"] = {"filter_node": "w"}
    assert problems(session, body) == {"nodes.r.settings.filter_node": "Choose a “Filter customers” node"}
    body["nodes"][3]["settings"] = {"filter_node": "gone"}
    assert problems(session, body) == {
        "nodes.r.settings.filter_node": "There is no node with this id in the campaign"
    }


# --- select customers from segment ----------------------------------------------------------------------


def test_members_of_the_segment_go_on_and_the_others_take_the_no_branch(session: Session) -> None:
    member, former = make_customer(session, city="Moscow"), make_customer(session, city="Moscow")
    outsider = make_customer(session, city="Tver")
    moscow = {"root": {"children": [{"metric": "profile.city", "operator": "eq", "value": "Moscow"}]}}
    segment = Segment(name="Moscow", rules=moscow)
    session.add(segment)
    session.flush()
    session.add_all(
        [
            SegmentMembership(segment_id=segment.id, customer_id=member.id),
            SegmentMembership(segment_id=segment.id, customer_id=former.id, exited_at=utcnow()),
        ]
    )
    session.commit()
    action = node("s", "action.select_segment", segment_id=segment.id)
    campaign = active_campaign(session, split(action, {"yes": "in", "no": "out"}))

    former.city = "Kazan"  # left the segment: the membership ended before the purchase
    session.commit()
    for customer in (member, former, outsider):
        buy(session, customer)

    assert where(session, campaign) == {member.id: "in", former.id: "out", outsider.id: "out"}


def test_a_segment_that_does_not_exist_is_refused(session: Session) -> None:
    body = split(node("s", "action.select_segment", segment_id=987654), {"yes": "in"})
    assert problems(session, body) == {"nodes.s.settings.segment_id": "The segment does not exist"}


# --- check e-mail status --------------------------------------------------------------------------------

STATUS_OUTPUTS = {"undelivered": "p_und", "delivered": "p_del", "opened": "p_open", "clicked": "p_click"}


def status_graph(template_id: int) -> dict:
    return graph(
        [
            node("t", "trigger.cheque_issued"),
            node("e", "action.send_email", template_version_id=template_id),
            node("w", "action.wait", amount=1, unit="hours"),
            node("s", "action.check_email_status", email_node="e", settle_hours=6),
            *(parked(target) for target in STATUS_OUTPUTS.values()),
        ],
        [edge("t", "e"), edge("e", "w"), edge("w", "s")]
        + [edge("s", target, out) for out, target in STATUS_OUTPUTS.items()],
    )


def set_status(session: Session, message: Message, status: str, **values: object) -> None:
    session.execute(update(Message).where(Message.id == message.id).values(status=status, **values))
    session.commit()


def test_each_customer_takes_the_output_of_what_became_of_their_email(session: Session) -> None:
    people = [make_customer(session) for _ in range(5)]
    campaign = active_campaign(session, status_graph(email_template(session).id))
    for customer in people:
        buy(session, customer)
    bounced, delivered, opened, clicked, waiting = campaign_messages(session, campaign)
    now = utcnow()
    set_status(session, bounced, "failed", reason="bounced")
    set_status(session, delivered, "sent")
    set_status(session, opened, "opened", opened_at=now)
    set_status(session, clicked, "clicked", opened_at=now, clicked_at=now)
    set_status(session, waiting, "planned")

    with later(1.1):
        engine.advance()
        session.commit()

    expected = {
        bounced.customer_id: "p_und",
        delivered.customer_id: "p_del",
        opened.customer_id: "p_open",
        clicked.customer_id: "p_click",
        waiting.customer_id: "s",  # still waiting to go: looked at again later
    }
    assert where(session, campaign) == expected
    held = next(j for j in journeys(session, campaign) if j.customer_id == waiting.customer_id)
    assert held.status == "waiting" and held.wake_at is not None

    with later(8):  # past the node's six hours: it never went
        engine.advance()
        session.commit()
    assert where(session, campaign)[waiting.customer_id] == "p_und"


def test_an_email_that_goes_while_it_is_waited_for_is_judged_then(session: Session) -> None:
    customer = make_customer(session)
    campaign = active_campaign(session, status_graph(email_template(session).id))
    buy(session, customer)
    [message] = campaign_messages(session, campaign)
    set_status(session, message, "queued")
    with later(1.1):
        engine.advance()
        session.commit()
    assert where(session, campaign)[customer.id] == "s"

    set_status(session, message, "delivered", delivered_at=utcnow())
    with later(1.5):
        engine.advance()
        session.commit()
    assert where(session, campaign)[customer.id] == "p_del"


def test_check_email_status_must_follow_a_send_email_node(session: Session) -> None:
    body = status_graph(email_template(session).id)
    body["nodes"][3]["settings"] = {"email_node": "w"}
    assert problems(session, body) == {"nodes.s.settings.email_node": "Choose a “Send e-mail” node"}
    body["nodes"][3]["settings"] = {"email_node": "e", "settle_hours": 0}
    assert list(problems(session, body)) == ["nodes.s.settings.settle_hours"]
