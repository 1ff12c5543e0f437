"""A campaign's report in a real browser: an Analyst reads a week of a thank-you series run through the
engine (the cards, the funnel by node with its table a click away, orders per day, e-mail opens by hour,
the channels and the control group's uplift) and the report of one node; a Marketer reads it in Russian
and finds the customer's journeys on the profile."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

import time_machine
from playwright.sync_api import Page, expect
from sqlalchemy import select
from sqlalchemy.orm import Session

from smartcomm.campaigns import engine
from smartcomm.delivery.tracking import links
from smartcomm.kit.db import Database
from smartcomm.kit.time import utcnow
from smartcomm.models import Campaign, Customer, Message
from smartcomm.personalization.renderer import renderer
from tests.browser.conftest import check_layout, sign_in, snapshot
from tests.campaigns.helpers import active_campaign, buy, edge, graph, node
from tests.campaigns.report_helpers import person_hits
from tests.delivery.helpers import email_template, make_customer

FIRST = ("Maria", "Ivan", "Elena", "Dmitry", "Olga", "Pavel", "Anna", "Sergey")
PEOPLE = 60


def thank_you_series(session: Session) -> Campaign:
    """Receipt → control group (20 %) → thank-you e-mail → 2 days → bought again? → no: a reminder."""
    thanks = email_template(session, subject="Thank you, {{ client.first_name }}!").id
    reminder = email_template(session, subject="We miss you, {{ client.first_name }}").id
    rules = {"root": {"children": [{"metric": "purchases.count", "operator": "gte", "value": 2}]}}
    body = graph(
        [
            node("t", "trigger.cheque_issued"),
            node("c", "action.control_group", percent=20),
            node("e1", "action.send_email", template_version_id=thanks),
            node("w", "action.wait", amount=2, unit="days"),
            node("f", "action.filter", rules=rules),
            node("e2", "action.send_email", template_version_id=reminder),
        ],
        [edge("t", "c"), edge("c", "e1"), edge("e1", "w"), edge("w", "f"), edge("f", "e2", "no")],
    )
    return active_campaign(
        session,
        body,
        name="Thank-you series",
        attribution={"window": "days", "days": 14},
        reentry_minutes=None,
    )


def enter(session: Session, chance: random.Random, people: list[Customer], start: datetime) -> None:
    """Each customer's first receipt on one of the week's days enters them (walked at once)."""
    for number, customer in enumerate(people):
        moment = start + timedelta(days=number % 7, hours=chance.choice((9, 11, 14, 19)))
        with time_machine.travel(moment, tick=False):
            buy(session, customer, f"{chance.uniform(300, 3000):.2f}", moment - timedelta(minutes=5))
        later = moment + timedelta(days=chance.uniform(1, 6))
        if number % 3 == 0 and later < utcnow():  # some buy again whatever they were sent
            buy(session, customer, f"{chance.uniform(300, 3000):.2f}", later)


def engage(session: Session, chance: random.Random, campaign: Campaign) -> None:
    """People open many of the e-mails at their own hours; some of them buy in the days after."""
    messages = session.scalars(
        select(Message).where(Message.source_kind == "campaign", Message.source_id == campaign.id)
    ).all()
    for message in messages:
        if message.sent_at is None or chance.random() > 0.55:
            continue
        opened = message.sent_at + timedelta(hours=chance.choice((1, 2, 3, 8, 9, 10, 12, 20, 21)))
        person_hits(session, message, "opened", opened)
        if chance.random() < 0.45 and opened + timedelta(hours=30) < utcnow():
            customer = session.get(Customer, message.customer_id)
            assert customer is not None
            buy(
                session,
                customer,
                f"{chance.uniform(500, 4000):.2f}",
                opened + timedelta(hours=chance.uniform(1, 30)),
            )


def seed(database: Database) -> tuple[Campaign, Customer]:
    renderer.forget()
    links.forget()
    chance = random.Random(14)
    start = utcnow().replace(minute=0, second=0, microsecond=0) - timedelta(days=9)
    with database.session() as session:
        campaign = thank_you_series(session)
        people = [make_customer(session, first_name=chance.choice(FIRST)) for _ in range(PEOPLE)]
        session.commit()
        enter(session, chance, people, start)
        engine.advance()  # the waits that ended: the filter and the reminders
        engage(session, chance, campaign)
        session.commit()
        return campaign, people[0]


def read_the_report(page: Page, campaign: Campaign, name: str) -> None:
    page.goto(f"/campaigns/{campaign.id}/report")
    expect(page.locator('[data-card="entered"] [data-value]')).to_have_text(str(PEOPLE))
    for chart in ("nodes-chart-canvas", "report-days-chart", "opens-chart-canvas"):
        assert page.evaluate(f"() => Boolean(window.Chart.getChart('{chart}'))"), chart
    expect(page.locator("#control-c")).to_be_visible()
    expect(page.locator('#control-c [data-cell="control:recipients"]')).not_to_have_text("0")
    check_layout(page)
    snapshot(page, f"campaign-report-{name}")

    page.click('[data-switch="nodes"] [data-view="table"]')
    expect(page.locator('#nodes-table tr[data-node="f"] [data-output="no"]')).to_be_visible()
    page.click('[data-switch="opens"] [data-view="table"]')
    expect(page.locator(".sc-heatmap-cell")).to_have_count(7 * 24)
    page.click('[data-switch="channels"] [data-view="chart"]')
    assert page.evaluate("() => Boolean(window.Chart.getChart('channels-chart-canvas'))")
    check_layout(page)
    snapshot(page, f"campaign-report-tables-{name}")


def read_one_node(page: Page, name: str) -> None:
    page.select_option("#filter-node", "e2")
    page.click("#filter-apply")
    expect(page.locator("#node-banner")).to_be_visible()
    expect(page.locator('[data-card="arrived"]')).to_be_visible()
    check_layout(page)
    snapshot(page, f"campaign-report-node-{name}")
    page.click("#whole-campaign")
    expect(page.locator("#node-banner")).to_have_count(0)


def test_an_analyst_reads_the_report_and_the_report_of_one_node(
    page: Page, staff, live_database: Database
) -> None:
    campaign, _ = seed(live_database)
    email, password = staff("analyst", full_name="Ana Analyst")
    sign_in(page, email, password)

    read_the_report(page, campaign, "en")
    expect(page.locator("#report-nodes")).to_contain_text("Journeys by node")
    read_one_node(page, "en")


def test_a_marketer_reads_it_in_russian_and_finds_the_journeys_on_the_profile(
    page: Page, staff, live_database: Database
) -> None:
    campaign, customer = seed(live_database)
    email, password = staff("marketer", full_name="Maria Marketer", language="ru")
    sign_in(page, email, password)

    read_the_report(page, campaign, "ru")
    expect(page.locator("#report-nodes")).to_contain_text("Путь клиентов по узлам")
    read_one_node(page, "ru")

    page.goto(f"/customers/{customer.id}")
    card = page.locator("#customer-campaigns")
    expect(card).to_contain_text("Thank-you series")
    expect(card.locator("[data-campaign-link]")).to_have_attribute("href", f"/campaigns/{campaign.id}")
    check_layout(page)
    snapshot(page, "campaign-journeys-profile-ru")
