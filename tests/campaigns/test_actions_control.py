"""Control group: the hash of (campaign, node, customer) draws the share, a target audience can be the
group instead, strata keep their share, and the members are recorded for the report."""

from __future__ import annotations

from collections import Counter
from datetime import date

from sqlalchemy.orm import Session

from smartcomm.campaigns import engine
from smartcomm.campaigns.actions.control import stratum_key
from smartcomm.mailings.draws import unit
from smartcomm.models import Audience, AudienceMember, Campaign, Customer
from tests.campaigns.actions_helpers import problems, split, stats, where
from tests.campaigns.helpers import active_campaign, buy, journeys, node
from tests.campaigns.test_actions_limits import enter_without_walking
from tests.delivery.helpers import make_customer

OUTPUTS = {"out": "main", "control": "held_out"}
TODAY = date(2026, 12, 10)


def control_graph(**settings: object) -> dict:
    return split(node("c", "action.control_group", **settings), OUTPUTS)


def test_the_hash_of_campaign_node_and_customer_draws_the_control_group(session: Session) -> None:
    people = [make_customer(session) for _ in range(40)]
    campaign = active_campaign(session, control_graph(percent=25))

    for customer in people:
        buy(session, customer)

    expected = {c.id: "held_out" if unit(campaign.id, c.id, "control:c") < 0.25 else "main" for c in people}
    assert where(session, campaign) == expected
    held_out = sum(1 for place in expected.values() if place == "held_out")
    assert 0 < held_out < 40
    assert stats(session, campaign.id)[("c", "control")] == held_out
    recorded = {j.customer_id: j.state["control"] for j in journeys(session, campaign)}
    assert recorded == {cid: {"c": place == "held_out"} for cid, place in expected.items()}


def test_a_customer_entering_again_lands_in_the_same_group(session: Session) -> None:
    people = [make_customer(session) for _ in range(12)]
    campaign = active_campaign(
        session, split(node("c", "action.control_group", percent=50), {}), reentry_minutes=0
    )
    for _ in range(2):
        for customer in people:
            buy(session, customer)

    groups: dict[int, set[bool]] = {}
    for journey in journeys(session, campaign):
        groups.setdefault(journey.customer_id, set()).add(journey.state["control"]["c"])
    assert len(groups) == 12 and all(len(answers) == 1 for answers in groups.values())


def test_the_members_of_a_target_audience_are_the_control_group(session: Session) -> None:
    member, other = make_customer(session), make_customer(session)
    audience = Audience(name="Hold-outs", member_count=1)
    session.add(audience)
    session.flush()
    session.add(AudienceMember(audience_id=audience.id, customer_id=member.id))
    session.commit()
    campaign = active_campaign(session, control_graph(mode="audience", audience_id=audience.id))

    buy(session, member)
    buy(session, other)

    assert where(session, campaign) == {member.id: "held_out", other.id: "main"}


def test_each_stratum_keeps_its_share_within_one_customer(session: Session) -> None:
    women = [make_customer(session, gender="f") for _ in range(30)]
    men = [make_customer(session, gender="m") for _ in range(10)]
    campaign = active_campaign(session, control_graph(percent=20, strata=["gender"]))
    enter_without_walking(session, campaign, women[:15] + men[:5])
    engine.advance()
    enter_without_walking(session, campaign, women[15:] + men[5:])  # a second batch, later
    engine.advance()
    session.commit()

    placed = where(session, campaign)
    held = Counter(c.gender for c in (*women, *men) if placed[c.id] == "held_out")
    assert held == {"f": 6, "m": 2}  # exactly 20 % of each: the share is kept as customers arrive


def test_the_draw_is_the_same_whoever_walks_it(session: Session) -> None:
    """Walked twice from the start, a stratified draw picks the same customers: it is the hash's call."""
    people = [make_customer(session, gender="f") for _ in range(20)]
    first = active_campaign(session, control_graph(percent=30, strata=["gender"]))
    enter_without_walking(session, first, people)
    engine.advance()
    session.commit()
    drawn = {cid for cid, place in where(session, first).items() if place == "held_out"}

    assert len(drawn) == 6
    assert stratum_key(["gender"], ["F "], TODAY) == stratum_key(["gender"], ["f"], TODAY)
    assert drawn == set(replay(session, first, people))


def replay(session: Session, campaign: Campaign, people: list[Customer]) -> list[int]:
    """The stratified rule applied by hand: an arrival joins when its draw is under what is missing."""
    held, chosen = 0, []
    for position, customer in enumerate(sorted(people, key=lambda c: c.id), start=1):
        if unit(campaign.id, customer.id, "control:c") < 0.3 * position - held:
            chosen.append(customer.id)
            held += 1
    return chosen


def test_a_share_above_half_and_a_missing_audience_are_refused(session: Session) -> None:
    assert list(problems(session, control_graph(percent=60))) == ["nodes.c.settings.percent"]
    assert problems(session, control_graph(mode="audience", audience_id=31337)) == {
        "nodes.c.settings.audience_id": "The target audience does not exist"
    }
    assert list(problems(session, control_graph(mode="audience"))) == ["nodes.c.settings"]
