"""The demo's trigger campaigns: made from the gallery by the marketing team in every status, their past
walked by the engine so that the reports count every journey, their letters' codes and sales, and what the
worker's first look does — today's birthdays and the carts abandoned a few hours ago enter."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import select
from sqlalchemy.orm import Session

from smartcomm.audit.actor import Actor
from smartcomm.campaigns.reports import campaign_report_service
from smartcomm.campaigns.tasks import advance, check_scheduled
from smartcomm.cli.demo import load_if_empty
from smartcomm.containers.abandoned import abandoned_cart
from smartcomm.delivery.dispatch import Dispatcher
from smartcomm.delivery.ledger import Source, issue_key_of
from smartcomm.demo.communications import add_loyalty_tools
from smartcomm.demo.communications.campaign_plans import CAMPAIGNS
from smartcomm.demo.communications.campaigns import add_campaigns
from smartcomm.kit.db import Database, session_scope
from smartcomm.models import (
    AttributedReceipt,
    AuditEntry,
    Campaign,
    CampaignMessage,
    ContainerState,
    Customer,
    Journey,
    Message,
    PromoCode,
    PromoCodeGroup,
    User,
)
from tests.conftest import UIClient
from tests.demo.conftest import AS_OF, count, make_demo

ACTOR = Actor.system("first run")
NOW = datetime(AS_OF.year, AS_OF.month, AS_OF.day, 9, tzinfo=UTC)  # 12:00 in Moscow, after the 10:00 look
TODAY = AS_OF


@pytest.fixture
def demo(session: Session) -> Iterator[int]:
    with time_machine.travel(NOW, tick=False):
        make_demo(session, customers=1500)
        add_loyalty_tools(session, ACTOR)  # the promo code groups the letters name
        yield add_campaigns(session, ACTOR)


def campaigns(session: Session) -> dict[str, Campaign]:
    return {c.name: c for c in session.scalars(select(Campaign).execution_options(populate_existing=True))}


def journeys(session: Session, campaign: Campaign) -> list[Journey]:
    statement = (
        select(Journey).where(Journey.campaign_id == campaign.id).execution_options(populate_existing=True)
    )
    return list(session.scalars(statement))


def utc(value: datetime | None) -> datetime:
    assert value is not None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def test_the_team_made_a_campaign_of_every_status(session: Session, demo: int) -> None:
    found = campaigns(session)
    statuses = {name: campaign.status for name, campaign in found.items()}
    assert demo == 5 and statuses == {
        "Welcome series": "active",
        "Birthday with a promo code": "active",
        "Abandoned cart": "active",
        "Lost view of a product": "suspended",
        "Win-back": "draft",
    }
    team = {user.id: user.role for user in session.scalars(select(User))}
    for name, campaign in found.items():
        rows = session.scalars(
            select(AuditEntry).where(
                AuditEntry.object_type == "campaign", AuditEntry.object_id == str(campaign.id)
            )
        ).all()
        actions = {row.action: row for row in rows}
        assert team[actions["create"].actor_id or 0] == "marketer"
        assert utc(actions["create"].occurred_at) == utc(campaign.created_at) < NOW
        if "activate" in actions:
            assert team[actions["activate"].actor_id or 0] == "senior_marketer"
            assert utc(actions["activate"].occurred_at) == utc(campaign.activated_at)
        assert ("activate" in actions) == (name != "Win-back")
    assert utc(found["Welcome series"].activated_at) < NOW - timedelta(days=55)


def test_the_welcome_series_report_counts_every_journey_at_each_node(session: Session, demo: int) -> None:
    campaign = campaigns(session)["Welcome series"]
    report = campaign_report_service.report(session, campaign.id)
    walked = journeys(session, campaign)
    assert report.journeys.entered == len(walked) > 20
    assert report.journeys.in_progress == sum(1 for j in walked if j.status == "waiting")
    nodes = {row.id: row for row in report.nodes}
    assert nodes["registered"].arrived == len(walked)
    for row in report.nodes:  # every journey that reached a node left it, stopped there or stands there
        assert row.arrived == row.passed + sum(row.stopped.values()) + row.in_progress
        assert row.in_progress == sum(1 for j in walked if j.status == "waiting" and j.node == row.id)
    outputs = {(row.id, each.output): each.count for row in report.nodes for each in row.outputs}
    assert outputs[("hello", "out")] == nodes["wait"].arrived
    assert outputs[("no_purchase", "yes")] == nodes["promo"].arrived
    figures = {figure.key: figure.value for figure in report.messages}
    assert figures["sent"] > 0 and 0 < figures["opened"] < figures["delivered"] <= figures["sent"]


def test_the_campaigns_letters_went_opened_and_sold(session: Session, demo: int) -> None:
    found = campaigns(session)
    for name in ("Welcome series", "Abandoned cart", "Lost view of a product"):
        messages = session.scalars(
            select(Message).where(Message.source_kind == Source.CAMPAIGN, Message.source_id == found[name].id)
        ).all()
        handed = [m for m in messages if m.handed_over_at is not None]
        assert handed and all(utc(m.sent_at) < NOW for m in handed)
        assert not [m for m in messages if m.status == "planned"]  # nothing of the past waits to go
        assert any(m.opened_at is not None for m in handed)
    credited = session.scalars(
        select(AttributedReceipt).where(
            AttributedReceipt.source_kind == Source.CAMPAIGN, AttributedReceipt.credited.is_(True)
        )
    ).all()
    assert credited and all(utc(receipt.purchased_at) < NOW for receipt in credited)
    cart = found["Abandoned cart"]
    sms = session.scalars(
        select(CampaignMessage).where(
            CampaignMessage.campaign_id == cart.id, CampaignMessage.node == "cart_sms"
        )
    ).all()
    assert sms  # the reminders nobody read were followed by an SMS a day later


def test_the_welcome_codes_are_the_ones_the_letters_showed_when_they_went(
    session: Session, demo: int
) -> None:
    campaign = campaigns(session)["Welcome series"]
    letters = session.scalars(
        select(Message)
        .join(CampaignMessage, CampaignMessage.message_id == Message.id)
        .where(CampaignMessage.campaign_id == campaign.id, CampaignMessage.node == "promo")
        .where(Message.handed_over_at.is_not(None))
    ).all()
    group = session.scalars(select(PromoCodeGroup).where(PromoCodeGroup.code == "WELCOME")).one()
    codes = {
        c.message_id: c for c in session.scalars(select(PromoCode).where(PromoCode.group_id == group.id))
    }
    assert letters
    for letter in letters:
        code = codes[letter.id]
        assert code.customer_id == letter.customer_id
        assert code.issue_key == issue_key_of(letter.idempotency_key, letter.options)
        assert utc(code.issued_at) == utc(letter.sent_at)


def test_carts_abandoned_hours_ago_enter_the_abandoned_cart_campaign_on_its_first_look(
    session: Session, demo: int
) -> None:
    cart = campaigns(session)["Abandoned cart"]
    recent = list(
        session.scalars(
            select(ContainerState.customer_id).where(ContainerState.changed_at > NOW - timedelta(hours=7))
        )
    )
    assert len(recent) >= 3
    assert all(abandoned_cart(session, customer_id, NOW) is not None for customer_id in recent)
    assert utc(cart.next_check_at) <= NOW
    before = {j.id for j in journeys(session, cart)}

    with time_machine.travel(NOW, tick=False):
        check_scheduled.call_local()

    entered = {j.customer_id for j in journeys(session, cart) if j.id not in before}
    assert set(recent) <= entered


def test_todays_birthdays_enter_the_birthday_campaign_on_its_look_and_get_their_code(
    session: Session, demo: int
) -> None:
    birthday = campaigns(session)["Birthday with a promo code"]
    born_today = {
        customer.id
        for customer in session.scalars(select(Customer).where(Customer.birth_date.is_not(None)))
        if customer.birth_date is not None and (customer.birth_date.month, customer.birth_date.day) == (6, 1)
    }
    reachable = set(
        session.scalars(
            select(Customer.id).where(
                Customer.id.in_(born_today), Customer.email_valid.is_(True), Customer.allow_email.is_(True)
            )
        )
    )
    assert len(reachable) >= 5 and not journeys(session, birthday)

    with time_machine.travel(NOW, tick=False):
        check_scheduled.call_local()
        advance.call_local()
        Dispatcher().run(seconds=30)

    assert {j.customer_id for j in journeys(session, birthday)} == born_today
    sent = session.scalars(
        select(Message).where(Message.source_kind == Source.CAMPAIGN, Message.source_id == birthday.id)
    ).all()
    delivered = {m.customer_id for m in sent if m.status == "delivered"}
    assert delivered and delivered <= reachable
    codes = session.scalars(select(PromoCode).where(PromoCode.customer_id.in_(delivered))).all()
    assert {code.customer_id for code in codes if code.message_id is not None} == delivered


def test_the_pages_show_the_demo_campaigns_and_orders(
    session: Session, demo: int, admin_client: UIClient
) -> None:
    listing = admin_client.get("/campaigns")
    assert listing.status_code == 200
    assert all(plan.name in listing.text for plan in CAMPAIGNS)
    for campaign in campaigns(session).values():
        assert admin_client.get(f"/campaigns/{campaign.id}").status_code == 200
        if campaign.status != "draft":
            report = admin_client.get(f"/campaigns/{campaign.id}/report")
            assert report.status_code == 200 and campaign.name in report.text
    orders = admin_client.get("/orders")
    assert orders.status_code == 200 and "W-" in orders.text


def test_a_second_run_adds_nothing(session: Session, demo: int) -> None:
    models = (Campaign, Journey, Message, CampaignMessage, User, AuditEntry)
    before = [count(session, model) for model in models]

    with time_machine.travel(NOW, tick=False):
        assert add_campaigns(session, ACTOR) == len(CAMPAIGNS)

    assert [count(session, model) for model in models] == before


def test_a_campaign_whose_letters_name_a_missing_promo_code_group_stays_a_draft(session: Session) -> None:
    with time_machine.travel(NOW, tick=False):
        make_demo(session, customers=300)  # no promo code groups: the gallery leaves those letters empty
        assert add_campaigns(session, ACTOR) == len(CAMPAIGNS)

    statuses = {name: campaign.status for name, campaign in campaigns(session).items()}
    assert statuses["Welcome series"] == statuses["Birthday with a promo code"] == "draft"
    assert statuses["Abandoned cart"] == "active" and statuses["Lost view of a product"] == "suspended"
    drafts = [campaigns(session)[name] for name in ("Welcome series", "Birthday with a promo code")]
    assert not any(journeys(session, campaign) for campaign in drafts)
    assert count(session, PromoCode) == 0


def test_the_first_run_leaves_the_worker_birthday_and_cart_letters_for_the_outbox(
    live_database: Database,
) -> None:
    """`smartcomm run` loads the demo in transactions that commit; the worker's first minute then looks at
    the scheduled triggers, walks and dispatches: the Outbox shows real campaign e-mails."""
    with time_machine.travel(NOW, tick=False):
        assert load_if_empty(customers=300, seed=5) is not None
        check_scheduled.call_local()
        advance.call_local()
        Dispatcher().run(seconds=30)
    with session_scope(read_only=True) as session:
        found = campaigns(session)
        assert len(found) == len(CAMPAIGNS)
        for name in ("Birthday with a promo code", "Abandoned cart"):
            today = session.scalars(
                select(Message).where(
                    Message.source_kind == Source.CAMPAIGN,
                    Message.source_id == found[name].id,
                    Message.channel == "email",
                    Message.created_at >= NOW,
                )
            ).all()
            assert any(message.status == "delivered" for message in today), name
