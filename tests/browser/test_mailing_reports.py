"""A mailing's report and the messaging calendar in a real browser: an Analyst reads the overview (cards,
receipts chart, opens heat map), the groups tab with the control group and the calendar; a Senior marketer
does the same in Russian."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from playwright.sync_api import Page, expect
from sqlalchemy.orm import Session

from smartcomm.kit.db import Database
from smartcomm.kit.time import utcnow
from smartcomm.models import Customer, Mailing
from tests.browser.conftest import check_layout, sign_in, snapshot
from tests.mailings.report_helpers import (
    add_control,
    add_message,
    add_open,
    assign,
    credit,
    make_mailing,
    make_receipt,
)

FIRST = ("Maria", "Ivan", "Elena", "Dmitry", "Olga", "Pavel", "Anna", "Sergey")


def people(session: Session, count: int, chance: random.Random) -> list[Customer]:
    made = [
        Customer(external_id=f"MR-{chance.randrange(10**9)}", first_name=chance.choice(FIRST))
        for _ in range(count)
    ]
    session.add_all(made)
    session.flush()
    return made


def engage(
    session: Session, chance: random.Random, mailing: Mailing, customer: Customer, start: datetime
) -> None:
    """A message that most people get, many open (at their own hour), some click and some buy after."""
    delivered = chance.random() < 0.93
    opened = delivered and chance.random() < 0.45
    clicked = opened and chance.random() < 0.3
    when = start + timedelta(hours=chance.choice((1, 2, 3, 9, 10, 11, 12, 13, 20, 21, 33, 58)))
    status = "clicked" if clicked else "opened" if opened else "delivered" if delivered else "failed"
    message = add_message(
        session, mailing, customer, status=status, reason=None if delivered else "bounced", sent_at=start,
        handed_over_at=start, delivered_at=start if delivered else None, opened_at=when if opened else None,
        clicked_at=when if clicked else None, opens=int(opened), clicks=int(clicked),
        machine_opens=int(chance.random() < 0.1),
    )  # fmt: skip
    if opened:
        add_open(session, message, when)
        if chance.random() < 0.35:
            receipt = make_receipt(session, customer, when + timedelta(hours=chance.uniform(1, 60)),
                                   total=f"{chance.uniform(400, 4000):.2f}")  # fmt: skip
            credit(session, receipt, message)


def seed(database: Database) -> Mailing:
    """An A/B-tested e-mail mailing five days ago with a control group, and a few more on the calendar."""
    chance = random.Random(11)
    start = utcnow().replace(minute=0, second=0, microsecond=0) - timedelta(days=5)
    with database.session() as session:
        mailing = make_mailing(
            session, name="Winter sale", started_at=start, finished_at=start + timedelta(hours=2),
            variants=[{"subject": "-20 % on coats"}, {"subject": "Your winter coat is waiting"}],
            winner_variant=1, winner_chosen_at=start + timedelta(hours=4),
            winner_reason={
                "metric": "opens",
                "winner": "B",
                "variants": {
                    "A": {"sent": 14, "opened": 2, "clicked": 0, "revenue": "0", "score": 0.1429},
                    "B": {"sent": 14, "opened": 5, "clicked": 1, "revenue": "0", "score": 0.3571},
                },
            },
        )  # fmt: skip
        a, b, control = people(session, 70, chance), people(session, 70, chance), people(session, 20, chance)
        assign(session, mailing, a, 0)
        assign(session, mailing, b, 1)
        add_control(session, mailing, control)
        for customer in [*a, *b]:
            engage(session, chance, mailing, customer, start)
        for customer in control[:3]:
            make_receipt(session, customer, start + timedelta(days=1), total="900.00")
        make_mailing(session, name="Weekend SMS", channel="sms", status="scheduled", started_at=None,
                     scheduled_at=utcnow() + timedelta(days=2))  # fmt: skip
        make_mailing(session, name="New arrivals (idea)", status="draft", started_at=None,
                     scheduled_at=utcnow() + timedelta(days=3))  # fmt: skip
        session.commit()
        return mailing


def read_the_report(page: Page, mailing: Mailing, name: str) -> None:
    page.goto(f"/mailings/{mailing.id}/report")
    expect(page.locator('[data-card="sent"] [data-value]')).to_have_text("140")
    expect(page.locator("#report-days-chart")).to_be_visible()
    assert page.evaluate("() => Boolean(window.Chart.getChart('report-days-chart'))")  # drawn by the script
    expect(page.locator(".sc-heatmap-cell")).to_have_count(7 * 24)
    check_layout(page)
    snapshot(page, f"mailing-report-{name}")

    page.click('[data-tab="groups"]')
    expect(page.locator('[data-group="variant-A"]')).to_be_visible()
    expect(page.locator('[data-cell="control:recipients"]')).to_have_text("20")
    expect(page.locator("#winner")).to_contain_text("B")
    expect(page.locator("#winner tbody tr")).to_have_count(2)  # why: each variant's figures
    expect(page.locator('[data-compared="variant-B"] [data-col="verdict"]')).to_be_visible()
    check_layout(page)
    snapshot(page, f"mailing-groups-{name}")


def read_the_calendar(page: Page, mailing: Mailing, name: str) -> None:
    page.goto("/mailings/calendar")
    entry = page.locator(f'[data-mailing="{mailing.id}"]')
    if entry.count() == 0:  # started in the previous month: go back one
        page.click("#calendar-prev")
    expect(entry).to_have_attribute("data-kind", "done")
    assert page.evaluate("() => Boolean(window.Chart.getChart('calendar-volume-chart'))")
    check_layout(page)
    snapshot(page, f"mailing-calendar-{name}")
    page.click('[data-view="week"]')
    expect(page.locator(".sc-calendar-week")).to_be_visible()
    check_layout(page)
    snapshot(page, f"mailing-calendar-week-{name}")


def test_an_analyst_reads_the_report_its_groups_and_the_calendar(
    page: Page, staff, live_database: Database
) -> None:
    mailing = seed(live_database)
    email, password = staff("analyst", full_name="Ana Analyst")
    sign_in(page, email, password)

    read_the_report(page, mailing, "en")
    expect(page.locator("#groups-significance")).to_contain_text("Welch")
    read_the_calendar(page, mailing, "en")
    page.goto("/mailings/calendar?channel=sms")
    expect(page.locator(".sc-calendar-entry")).to_have_count(1)
    page.locator(".sc-calendar-entry").first.click()
    expect(page).to_have_url(f"{page.url.split('/mailings')[0]}/mailings/{mailing.id + 1}")


def test_a_senior_marketer_reads_them_in_russian(page: Page, staff, live_database: Database) -> None:
    mailing = seed(live_database)
    email, password = staff("senior_marketer", full_name="Sergey Senior", language="ru")
    sign_in(page, email, password)

    read_the_report(page, mailing, "ru")
    page.click('[data-tab="overview"]')
    expect(page.locator("#report-figures")).to_contain_text("Доставлено")
    read_the_calendar(page, mailing, "ru")
    expect(page.locator(".sc-calendar-weekday").first).to_have_text("пн")  # weeks start on Monday
