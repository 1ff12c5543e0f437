"""The segment builder's promo code and poll metrics in a real browser: a Marketer picks a poll, one of its
questions, a matrix row and options (the pickers offer only what the chosen poll and question have), and a
promo code group — in English and in Russian."""

from __future__ import annotations

import re
from datetime import timedelta

from playwright.sync_api import Page, expect

from smartcomm.kit.db import Database
from smartcomm.kit.time import utcnow
from tests.browser.conftest import check_layout, sign_in, snapshot
from tests.browser.test_segments import add_condition, choose, live_count
from tests.delivery.helpers import make_customer
from tests.segments.promo_poll_data import answer, make_code, make_group, make_poll


def seed(database: Database) -> None:
    """Anna finds the prices good, Boris poor; Vera took another poll; Anna and Vera hold SPRING codes."""
    now = utcnow()
    with database.session() as session:
        anna, boris, vera = (
            make_customer(session, external_id=name).id for name in ("anna", "boris", "vera")
        )
        taste, other = make_poll(session), make_poll(session, "Delivery survey")
        answer(session, taste, anna, {"q1": "a2", "q3": {"r1": "m2", "r2": "m2"}}, now - timedelta(days=1))
        answer(session, taste, boris, {"q1": "a1", "q3": {"r1": "m1", "r2": "m2"}}, now - timedelta(days=2))
        answer(session, other, vera, {"q1": "a2"}, now - timedelta(days=1))
        spring = make_group(session, "SPRING", "Spring offer")
        make_code(session, spring, anna, issued_at=now - timedelta(days=1))
        make_code(session, spring, vera, issued_at=now - timedelta(days=1))
        session.commit()


def test_a_marketer_selects_those_who_chose_an_option(page: Page, staff, live_database: Database) -> None:
    seed(live_database)
    email, password = staff("marketer")
    sign_in(page, email, password)
    page.goto("/segments/new")
    expect(live_count(page)).to_have_text("3")

    chose = add_condition(page, "chose option", "polls.chose")
    choose(chose, "poll", "taste", "Taste survey")
    # Only the poll's choice questions are offered: not its open question or its text block.
    chose.locator('[data-param="question"] [data-lookup-button]').click()
    expect(chose.locator("[data-lookup-menu] [data-option]")).to_have_count(3)
    chose.locator('[data-lookup-menu] [data-option="q3"]').click()
    choose(chose, "row", "pri", "Prices")
    choose(chose, "options", "good", "Good")
    expect(chose.locator('[data-param="options"] [data-lookup-label]')).to_have_text("Good")
    expect(live_count(page)).to_have_text("1")  # Anna
    choose(chose, "options", "poor", "Poor")  # a second option: any of them
    expect(chose.locator('[data-param="options"] [data-lookup-label]')).to_have_text("Good, Poor")
    expect(live_count(page)).to_have_text("2")

    issued = add_condition(page, "issued a code", "promocodes.issued_from_group")
    choose(issued, "group", "spring", "Spring offer")
    expect(live_count(page)).to_have_text("1")  # Anna: Boris has no code
    snapshot(page, "segment-promo-poll-metrics")
    check_layout(page)

    page.fill("#f-name", "Rated our prices, got a spring code")
    page.click("#save-segment")
    expect(page).to_have_url(re.compile(r"/segments/\d+$"))
    expect(page.locator("#segment-rules")).to_contain_text(
        "Chose option in poll Taste survey Rate our shop Prices"
    )
    expect(page.locator("#segment-rules")).to_contain_text("Good, Poor")
    expect(page.locator("[data-kpi=members] .sc-kpi-value")).to_have_text("1")

    # Reopened, the builder names the question, row and options it stored.
    page.goto(page.url + "/edit")
    stored = page.locator("[data-condition]").first
    expect(stored.locator('[data-param="question"] [data-lookup-label]')).to_have_text("Rate our shop")
    expect(stored.locator('[data-param="options"] [data-lookup-label]')).to_have_text("Good, Poor")


def test_choosing_another_poll_clears_its_question_and_options(
    page: Page, staff, live_database: Database
) -> None:
    seed(live_database)
    email, password = staff("marketer", language="ru")
    sign_in(page, email, password)
    page.goto("/segments/new")

    page.click("#builder-add-condition")
    page.locator("[data-metric-search]").fill("опрос")
    expect(page.locator("[data-metric-menu] .sc-menu-group")).to_have_text(["Опросы"])
    page.locator('[data-metric="polls.chose"]').click()
    chose = page.locator("[data-condition]").last
    expect(chose).to_contain_text("Выбрал вариант ответа в опросе")
    choose(chose, "poll", "taste", "Taste survey")
    choose(chose, "question", "tea", "Tea or coffee?")
    choose(chose, "options", "coffee", "Coffee")
    expect(live_count(page)).to_have_text("1")  # Anna: Vera's coffee was in the other poll

    choose(chose, "poll", "delivery", "Delivery survey")
    expect(chose.locator('[data-param="question"] [data-lookup-label]')).to_be_hidden()
    expect(chose.locator('[data-param="options"] [data-lookup-label]')).to_be_hidden()
    choose(chose, "question", "tea", "Tea or coffee?")
    choose(chose, "options", "coffee", "Coffee")
    expect(live_count(page)).to_have_text("1")  # Vera
    snapshot(page, "segment-promo-poll-metrics-ru")
    check_layout(page)
