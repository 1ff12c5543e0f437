"""The pages a new user tried first, in English and in Russian, as the role that uses each, at 1280 and
1440 px: finding a customer by a full name in any order, the profile's segments and audiences, the
segment pages (names, build times, the builder's problems), the data settings and the action history."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import update

from smartcomm.audiences.schemas import AudienceIn, MembersIn
from smartcomm.audiences.service import audience_service
from smartcomm.audit.actor import Actor
from smartcomm.customers.schemas import CustomerIn
from smartcomm.customers.service import customer_service
from smartcomm.kit.db import Database
from smartcomm.kit.time import utcnow
from smartcomm.models import ImportJob, Segment
from smartcomm.segments.rules import SegmentRules
from smartcomm.segments.schemas import SegmentIn, SegmentUpdate
from smartcomm.segments.service import segment_service
from tests.browser.conftest import check_layout, sign_in, snapshot

ACTOR = Actor("user", None, "Mila Marketer <mila@example.com>")
LANGUAGES = ["en", "ru"]
WORDS = {
    "en": {
        "memberships": "Segments and audiences",
        "in_since": "In since",
        "build_time": "in 17 ms",
        "needs_value": "Enter a value for “Number of receipts”",
        "duplicate": "A segment with this name already exists",
        "reasons": "Unsubscribe reasons",
        "cart": "Cart",
        "catalogue": "Main catalogue",
        "online_store": "Online store",
        "last_name": "Last name",
        "conditions": "Conditions",
        "took": "took 14 ms",
    },
    "ru": {
        "memberships": "Сегменты и аудитории",
        "in_since": "Входит с",
        "build_time": "за 17 мс",
        "needs_value": "Введите значение для условия «Количество чеков»",
        "duplicate": "Сегмент с таким названием уже есть",
        "reasons": "Причины отписки",
        "cart": "Корзина",
        "catalogue": "Основной каталог",
        "online_store": "Интернет-магазин",
        "last_name": "Фамилия",
        "conditions": "Условия",
        "took": "заняло 14 мс",
    },
}


def rules(metric: str, operator: str, value: object) -> SegmentRules:
    condition = {"metric": metric, "operator": operator, "value": value}
    return SegmentRules.model_validate({"version": 1, "root": {"op": "and", "children": [condition]}})


def seed(database: Database) -> dict[str, int]:
    """Three customers, a built segment and an audience holding Eduard, an edited segment, a quick import."""
    with database.session() as session:
        people = [
            ("C-1", "Эдуард", "Ильин", "Гертрудович"),
            ("C-2", "Пётр", "Ильинский", "Эдуардович"),
            ("C-3", "Ольга", "Ильина", "Гертрудовна"),
        ]
        ids = {}
        for external_id, first, last, middle in people:
            customer, _ = customer_service.upsert(
                session,
                ACTOR,
                CustomerIn(external_id=external_id, first_name=first, last_name=last, middle_name=middle),
            )
            ids[external_id] = customer.id
        segment = segment_service.create(
            session, ACTOR, SegmentIn(name="Ильины", rules=rules("profile.last_name", "eq", "Ильин"))
        )
        segment_service.build(session, segment.id, "manual")
        segment_service.update(
            session, ACTOR, segment.id, SegmentUpdate(rules=rules("profile.last_name", "eq", "ильин"))
        )
        segment_service.build(session, segment.id, "rules")
        audience = audience_service.create(session, ACTOR, AudienceIn(name="Гости VIP"))
        audience_service.add_members(session, ACTOR, audience.id, MembersIn(customer_ids=[ids["C-1"]]))
        started = utcnow()
        job = ImportJob(
            kind="customers",
            file_name="three.csv",
            file_path="/nonexistent/three.csv",
            status="done",
            total_rows=3,
            processed_rows=3,
            imported_rows=3,
            started_at=started,
            finished_at=started + timedelta(milliseconds=14),
        )
        session.add(job)
        session.commit()
    with database.session() as session:  # after the builds queued by the commit: a 17 ms build
        session.execute(update(Segment).where(Segment.id == segment.id).values(last_build_ms=17))
        session.commit()
        return {"eduard": ids["C-1"], "segment": segment.id, "audience": audience.id, "import": job.id}


@pytest.mark.parametrize("language", LANGUAGES)
def test_an_operator_finds_a_customer_by_a_full_name_in_any_order(
    page: Page, staff, live_database: Database, language: str
) -> None:
    made = seed(live_database)
    sign_in(page, *staff("operator", language=language))
    page.goto("/customers")
    check_layout(page)

    for typed in ("Ильин Эдуард Гертрудович", "гертрудович ЭДУАРД ильин", "Эдуард Ильин"):
        page.fill("#customer-search", typed)
        expect(page.locator("#customers tbody tr")).to_have_count(1)
        expect(page.locator(f'[data-customer-id="{made["eduard"]}"]')).to_be_visible()
    snapshot(page, f"customers-full-name-{language}")
    check_layout(page)

    page.click(f'[data-customer-id="{made["eduard"]}"] .sc-customer-link')
    card = page.locator("#memberships-card")
    expect(card).to_contain_text(WORDS[language]["memberships"])
    expect(card.locator(f'[data-segment-id="{made["segment"]}"]')).to_contain_text("Ильины")
    expect(card.locator(f'[data-segment-id="{made["segment"]}"]')).to_contain_text(
        WORDS[language]["in_since"]
    )
    expect(card.locator(f'[data-audience-id="{made["audience"]}"]')).to_contain_text("Гости VIP")
    snapshot(page, f"customer-memberships-{language}")
    check_layout(page)


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_marketer_opens_the_segments_and_the_builder_explains_in_words(
    page: Page, staff, live_database: Database, language: str
) -> None:
    made = seed(live_database)
    words = WORDS[language]
    sign_in(page, *staff("marketer", language=language))

    page.goto("/segments")
    expect(page.locator(f'[data-segment-id="{made["segment"]}"]')).to_contain_text(words["build_time"])
    check_layout(page)
    page.goto(f"/segments/{made['segment']}")
    expect(page.locator("#last-build")).to_contain_text(words["build_time"].split(" ", 1)[1])
    expect(page.locator("#members")).to_contain_text("Ильин Эдуард Гертрудович")
    check_layout(page)

    page.goto("/segments/new")
    page.click("#builder-add-condition")
    menu = page.locator("[data-metric-menu]")
    menu.locator("[data-metric-search]").fill("чек" if language == "ru" else "receipts")
    menu.locator('[data-metric="purchases.count"]').click()
    expect(page.locator("#builder-problems")).to_contain_text(words["needs_value"])
    expect(page.locator("#builder-problems")).not_to_contain_text("purchases.count")
    snapshot(page, f"segment-builder-problem-{language}")
    check_layout(page)

    page.locator("[data-condition] [data-value]").fill("1")
    page.fill("#f-name", "ИЛЬИНЫ")
    page.click("#save-segment")
    expect(page.locator('[data-error-for="name"]')).to_contain_text(words["duplicate"])
    snapshot(page, f"segment-duplicate-name-{language}")
    check_layout(page)


@pytest.mark.parametrize("language", LANGUAGES)
def test_an_administrator_reads_the_starting_records_and_the_history_in_the_interface_language(
    page: Page, staff, live_database: Database, language: str
) -> None:
    made = seed(live_database)
    words = WORDS[language]
    sign_in(page, *staff("administrator", language=language))

    for url, texts in (
        ("/settings/fields", (words["last_name"],)),
        ("/settings/dictionaries", (words["reasons"],)),
        ("/settings/containers", (words["cart"],)),
        ("/settings/classifiers", (words["catalogue"],)),
        ("/settings/event-sources", (words["online_store"],)),
        (f"/imports/{made['import']}", (words["took"],)),
    ):
        page.goto(url)
        for text in texts:
            expect(page.locator(".page-body")).to_contain_text(text)
        check_layout(page)

    page.goto("/settings/history?object_type=segment")
    changed = page.locator("#history tr", has=page.locator("details.sc-change-fold.sc-before"))
    expect(changed.locator("summary").first).to_have_text(words["conditions"])
    expect(page.locator("#history")).not_to_contain_text("profile.last_name")
    expect(page.locator("#history")).not_to_contain_text("'root'")
    changed.locator("details.sc-before summary").first.click()
    expect(changed.locator("details.sc-before .sc-w-condition").first).to_contain_text("Ильин")
    snapshot(page, f"history-{language}")
    check_layout(page)
