"""Audience actions, award points, accrue bonus points and show pop-up, through the engine: each acts on
the customers that reach it, once, however often the step is walked."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from smartcomm.models import Audience, AudienceMember, LoyaltyAccount, LoyaltyRequest, PointsEntry, Popup
from tests.campaigns.actions_helpers import problems, split, walk_again, where
from tests.campaigns.helpers import active_campaign, buy, node
from tests.delivery.helpers import make_customer


def audience(session: Session, *member_ids: int) -> Audience:
    found = Audience(name=f"Audience {len(member_ids)}", member_count=len(member_ids))
    session.add(found)
    session.flush()
    session.add_all(AudienceMember(audience_id=found.id, customer_id=cid) for cid in member_ids)
    session.commit()
    return found


def members(session: Session, found: Audience) -> tuple[set[int], int]:
    session.refresh(found)
    ids = set(
        session.scalars(select(AudienceMember.customer_id).where(AudienceMember.audience_id == found.id))
    )
    return ids, found.member_count


def test_customers_are_added_to_an_audience_and_its_count_stays_right(session: Session) -> None:
    already, new_one = make_customer(session), make_customer(session)
    target = audience(session, already.id)
    campaign = active_campaign(
        session, split(node("a", "action.audience", audience_id=target.id), {"out": "after"})
    )

    buy(session, already)
    buy(session, new_one)

    assert members(session, target) == ({already.id, new_one.id}, 2)
    assert where(session, campaign) == {already.id: "after", new_one.id: "after"}
    walk_again(session, campaign, "a")
    assert members(session, target) == ({already.id, new_one.id}, 2)


def test_customers_are_removed_from_an_audience(session: Session) -> None:
    member, stranger = make_customer(session), make_customer(session)
    target = audience(session, member.id)
    action = node("a", "action.audience", audience_id=target.id, operation="remove")
    campaign = active_campaign(session, split(action, {"out": "after"}))

    buy(session, member)
    buy(session, stranger)

    assert members(session, target) == (set(), 0)
    walk_again(session, campaign, "a")
    assert members(session, target) == (set(), 0)


def test_points_are_awarded_once_per_journey_step(session: Session) -> None:
    customer = make_customer(session)
    action = node("p", "action.award_points", points=150, reason="Welcome")
    campaign = active_campaign(session, split(action, {"out": "after"}))

    buy(session, customer)
    walk_again(session, campaign, "p")

    entries = session.scalars(select(PointsEntry).where(PointsEntry.customer_id == customer.id)).all()
    assert [(e.points, e.reason, e.source_kind, e.source_id) for e in entries] == [
        (150, "Welcome", "campaign", str(campaign.id))
    ]
    account = session.get(LoyaltyAccount, customer.id)
    assert account is not None and account.points_balance == 150


def test_an_accrual_is_asked_of_the_loyalty_system_once(session: Session) -> None:
    customer = make_customer(session)
    action = node("b", "action.accrue_bonuses", amount="250.50", comment="Birthday")
    campaign = active_campaign(session, split(action, {"out": "after"}))

    buy(session, customer)
    walk_again(session, campaign, "b")

    requests = session.scalars(select(LoyaltyRequest).where(LoyaltyRequest.customer_id == customer.id)).all()
    assert [(r.amount, r.comment, r.source_kind, r.part) for r in requests] == [
        (Decimal("250.50"), "Birthday", "campaign", f"v{campaign.published_version_id}.b")
    ]
    assert where(session, campaign) == {customer.id: "after"}


def test_a_popup_is_queued_for_the_site_once(session: Session) -> None:
    customer = make_customer(session)
    action = node(
        "u", "action.show_popup", title="10 % off today", body="Only for you", image_url="https://shop.example/a.png",
        button_text="Shop now", button_url="https://shop.example/sale", lifetime_hours=24,
    )  # fmt: skip
    campaign = active_campaign(session, split(action, {"out": "after"}))

    buy(session, customer)
    walk_again(session, campaign, "u")

    [popup] = session.scalars(select(Popup).where(Popup.customer_id == customer.id)).all()
    assert (popup.title, popup.button_url, popup.source_kind, popup.source_id) == (
        "10 % off today",
        "https://shop.example/sale",
        "campaign",
        campaign.id,
    )
    assert popup.expires_at is not None
    assert timedelta(hours=23) < popup.expires_at - popup.created_at <= timedelta(hours=24)


def test_bad_settings_of_customer_actions_are_refused(session: Session) -> None:
    assert problems(session, split(node("a", "action.audience", audience_id=999999), {})) == {
        "nodes.a.settings.audience_id": "The target audience does not exist"
    }
    assert problems(session, split(node("p", "action.award_points", points=0), {})) == {
        "nodes.p.settings.points": "Give a number of points other than 0"
    }
    assert list(problems(session, split(node("b", "action.accrue_bonuses", amount="-5"), {}))) == [
        "nodes.b.settings.amount"
    ]
    popup = node("u", "action.show_popup", title="Hi", button_url="javascript:alert(1)")
    assert list(problems(session, split(popup, {}))) == ["nodes.u.settings.button_url"]
