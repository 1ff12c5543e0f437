"""Polls in a real browser, in English and Russian: a Marketer builds a three-question poll with a visibility
condition, reorders it by drag and drop, saves it and tries the logic in the preview; an Analyst reads the
list and the report of a poll customers have answered, with nothing to change."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Locator, Page, expect

from smartcomm.kit.db import Database
from smartcomm.models import Poll
from smartcomm.polls import answering, links
from tests.browser.conftest import check_layout, sign_in, snapshot
from tests.polls.helpers import make_customer, make_message, make_poll

LANGUAGES = ["en", "ru"]
WORDS = {
    "en": {"saved": "The poll was saved.", "invalid": "is not above this one", "thanks": "Thank you!"},
    "ru": {"saved": "Опрос сохранён.", "invalid": "уже не выше этого", "thanks": "Спасибо!"},
}
WIDTHS = (1280, 1440)


def look(page: Page, name: str) -> None:
    check_layout(page)
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        snapshot(page, f"{name}-{width}")
    page.set_viewport_size({"width": 1440, "height": 900})


def card(page: Page, position: int) -> Locator:
    return page.locator("#questions .sc-question").nth(position)


def titles(page: Page) -> list[str]:
    values: list[str] = page.locator('#questions .sc-question [data-field="title"]').evaluate_all(
        "inputs => inputs.map(i => i.value)"
    )
    return values


def add_question(page: Page, kind: str) -> Locator:
    page.click("#add-question-button")
    page.click(f'[data-add-type="{kind}"]')
    return page.locator("#questions .sc-question").last


def drag_above(page: Page, title: str, target: int) -> None:
    """Drag a question's handle onto the top edge of the card at `target`. A loaded machine may drop a
    mouse gesture short (the list animates while the pointer moves), so it is made again, at most twice,
    until the question is there — as a person would."""
    for _ in range(3):
        handle = (
            page.locator("#questions .sc-question").nth(titles(page).index(title)).locator(".sc-drag-handle")
        )
        handle.drag_to(card(page, target), target_position={"x": 60, "y": 4}, steps=20)
        page.wait_for_timeout(300)  # the list's animation
        if titles(page).index(title) == target:
            return


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_marketer_builds_a_poll_with_a_condition(
    page: Page, staff, live_database: Database, language: str
) -> None:
    sign_in(page, *staff("marketer", language=language))
    page.goto("/polls")
    look(page, f"polls-empty-{language}")
    page.click("#new-poll")

    page.fill("#f-name", "Store visit")
    first = card(page, 0)
    first.locator('[data-field="title"]').fill("Did you like the store?")
    first.locator('[data-choice="options"]').nth(0).fill("Yes")
    first.locator('[data-choice="options"]').nth(1).fill("No")

    second = add_question(page, "open")
    second.locator('[data-field="title"]').fill("What was wrong?")
    second.locator('[data-action="add-condition"]').click()
    second = card(page, 1)
    expect(second.locator("[data-condition-question]")).to_have_value("q1")
    second.locator("[data-condition-option]").nth(1).check()

    third = add_question(page, "open")
    third.locator('[data-field="title"]').fill("Anything else?")
    look(page, f"poll-editor-{language}")

    # Above the question it depends on, the condition is flagged; back below, it holds again.
    card(page, 1).locator('[data-action="move-up"]').click()
    expect(card(page, 0).locator("[data-condition-problem]")).to_contain_text(WORDS[language]["invalid"])
    expect(card(page, 0)).to_have_class(re.compile("sc-question-invalid"))
    card(page, 0).locator('[data-action="move-down"]').click()
    expect(page.locator(".sc-question-invalid")).to_have_count(0)

    drag_above(page, "Anything else?", 1)
    assert titles(page) == ["Did you like the store?", "Anything else?", "What was wrong?"]

    page.click("#save-poll")
    expect(page.locator("#toasts")).to_contain_text(WORDS[language]["saved"])
    code = page.locator("#poll-in-messages [data-poll-code]").inner_text()
    assert re.fullmatch(r"POLL-\d+", code)
    expect(page.locator("#poll-macro")).to_have_value(f"{{{{ client.poll('{code}') }}}}")
    assert titles(page) == ["Did you like the store?", "Anything else?", "What was wrong?"]
    with live_database.session() as session:
        poll = session.query(Poll).filter_by(code=code).one()
        assert [q["id"] for q in poll.questions] == ["q1", "q3", "q2"]
        assert poll.questions[2]["conditions"] == [{"question": "q1", "options": ["a2"]}]
    look(page, f"poll-saved-{language}")

    page.click("#open-preview")
    preview = page.locator("#poll-preview-body")
    conditional = preview.locator('[data-preview-question="q2"]')
    expect(preview.locator('[data-preview-question="q1"]')).to_be_visible()
    expect(conditional).to_be_hidden()
    preview.locator('input[name="pv-q1"][value="a2"]').check()
    expect(conditional).to_be_visible()
    snapshot(page, f"poll-preview-{language}")
    preview.locator('input[name="pv-q1"][value="a1"]').check()
    expect(conditional).to_be_hidden()
    page.click("#preview-send")
    expect(preview.locator("[data-preview-thanks]")).to_contain_text(WORDS[language]["thanks"])


def answered_poll(database: Database) -> int:
    """A poll sent by one mailing to four customers; three of them answered."""
    with database.session() as session:
        poll = make_poll(session, "Shopping habits")
        people = [make_customer(session, first_name="Olga", last_name=f"Ivanova{n}") for n in range(4)]
        messages = [make_message(session, person, source_kind="mailing", source_id=3) for person in people]
        for person, message in zip(people, messages, strict=True):
            links.record_invitation(session, poll, person.id, message.id)
        given = [
            {"q1": "shop", "q2": ["food", "toys"], "q4": {"price": "ok", "staff": "good"}},
            {"q1": "other", "q3": "At the market", "q2": ["food"]},
            {"q1": "shop", "q4": {"price": "good", "staff": "good"}},
        ]
        for person, message, answers in zip(people, messages, given, strict=False):
            answering.answer(session, poll, person.id, message.id, answers)
        session.commit()
        return poll.id


@pytest.mark.parametrize("language", LANGUAGES)
def test_an_analyst_reads_the_list_and_the_report(
    page: Page, staff, live_database: Database, language: str
) -> None:
    poll_id = answered_poll(live_database)
    sign_in(page, *staff("analyst", language=language))
    page.goto("/polls")
    row = page.locator(f'tr[data-poll-id="{poll_id}"]')
    expect(row.locator('[data-count="invited"]')).to_have_text("4")
    expect(row.locator('[data-count="respondents"]')).to_have_text("3")
    expect(row.locator('[data-count="completion"]')).to_contain_text("75")
    expect(page.locator("#new-poll")).to_have_count(0)
    expect(row.locator('[data-action="edit"], [data-action="more"]')).to_have_count(0)
    look(page, f"polls-list-{language}")

    row.locator('[data-action="report"]').click()
    expect(page.locator('[data-total="respondents"]')).to_have_text("3")
    expect(page.locator('[data-total="completion"]')).to_contain_text("75")
    shop = page.locator('[data-question-id="q1"] [data-option-id="shop"]')
    expect(shop.locator('[data-count="option"]')).to_have_text("2")
    expect(shop.locator('[data-percent="option"]')).to_contain_text("66")
    staff_good = page.locator('[data-question-id="q4"] tr[data-row-id="staff"] [data-count="cell"]')
    expect(staff_good.nth(2)).to_have_text("2")
    answer = page.locator('[data-question-id="q3"] [data-open-answer]')
    expect(answer).to_contain_text("At the market")
    expect(answer.locator("a")).to_have_attribute("href", re.compile(r"^/customers/\d+$"))
    expect(page.locator("#poll-days-chart")).to_be_visible()
    expect(page.locator("#edit-poll")).to_have_count(0)
    look(page, f"poll-report-{language}")

    page.select_option("#report-source", "mailing:3")
    expect(page).to_have_url(re.compile(r"source=mailing%3A3"))
    expect(page.locator('[data-total="respondents"]')).to_have_text("3")

    page.click("#view-poll")
    expect(page.locator("#poll-readonly")).to_be_visible()
    expect(page.locator("#poll-form")).to_have_count(0)
    look(page, f"poll-readonly-{language}")
