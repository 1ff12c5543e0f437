"""Campaigns in a real browser: a Marketer (English) builds trigger → wait → filter → two e-mails on the
canvas by dragging kinds from the palette and connecting their outputs, sets them up in the side panel (a
filter rule in the segment builder, templates picked), saves, sees the problem pinned on the node left
unconnected, fixes it, copies and pastes a node; a Senior marketer (Russian) activates the campaign and
finds it running in the list; an Analyst (Russian) reads the canvas with its funnel numbers."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import Locator, Page, expect

from smartcomm.campaigns.schemas import CampaignIn
from smartcomm.campaigns.service import campaign_service
from smartcomm.kit.db import Database
from smartcomm.models import Campaign, CampaignVersion
from tests.browser.conftest import check_layout, sign_in, snapshot
from tests.campaigns.helpers import ACTOR, buy, edge, graph, node
from tests.delivery.helpers import email_template, make_customer

WIDTHS = (1280, 1440)


def look(page: Page, name: str) -> None:
    check_layout(page)
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        snapshot(page, f"{name}-{width}")
    page.set_viewport_size({"width": 1440, "height": 900})


def templates(database: Database) -> tuple[int, int]:
    with database.session() as session:
        welcome = email_template(session, subject="Welcome, {{ client.first_name }}")
        reminder = email_template(session, subject="We miss you")
        session.commit()
        return welcome.id, reminder.id


def card(page: Page, node_id: str) -> Locator:
    return page.locator(f'.drawflow-node:has([data-node="{node_id}"])')


def drag_in(page: Page, kind: str, x: int, y: int) -> None:
    """Drag a kind from the palette onto the canvas at (x, y) of the canvas box."""
    page.locator(f'.sc-palette-item[data-kind="{kind}"]').drag_to(
        page.locator("#drawflow"), target_position={"x": x, "y": y}
    )


def connect(page: Page, source: str, output: int, target: str) -> None:
    """Draw a connection from a node's output (1, 2…) to another node's input, as a mouse would."""
    card(page, source).locator(f".outputs .output_{output}").hover()
    page.mouse.down()
    card(page, target).locator(".inputs .input").hover()
    page.mouse.up()


def wait_saved(page: Page) -> None:
    expect(page.locator("#save-state")).to_have_text("Saved")


def stored(database: Database, campaign_id: int) -> dict[str, Any]:
    with database.session() as session:
        campaign = session.get(Campaign, campaign_id)
        assert campaign is not None
        version = session.get(CampaignVersion, campaign.draft_version_id or campaign.published_version_id)
        assert version is not None
        return version.graph


def test_a_marketer_builds_a_campaign_on_the_canvas(page: Page, staff, live_database: Database) -> None:
    welcome_id, reminder_id = templates(live_database)
    email, password = staff("marketer", full_name="Mila Marketer")
    page.set_viewport_size({"width": 1920, "height": 1080})  # room to build beside the open side panel
    sign_in(page, email, password)
    page.goto("/campaigns")
    expect(page.locator("#main-menu [data-section=campaigns]")).to_be_visible()
    page.click("#new-campaign")
    page.fill("#new-campaign-name", "Welcome series")
    page.click("#create-campaign")
    expect(page).to_have_url(re.compile(r"/campaigns/\d+$"))
    campaign_id = int(page.url.rsplit("/", 1)[1])
    expect(card(page, "trigger")).to_contain_text("Cheque issued")

    drag_in(page, "action.wait", 360, 420)
    expect(card(page, "wait")).to_contain_text("Wait 1 day")
    drag_in(page, "action.filter", 360, 640)
    drag_in(page, "action.send_email", 660, 320)
    drag_in(page, "action.send_email", 660, 720)
    expect(card(page, "send_email-2")).to_contain_text("Choose the template")
    page.click("#panel-close")

    connect(page, "trigger", 1, "wait")
    connect(page, "wait", 1, "filter")
    connect(page, "filter", 1, "send_email")  # "yes"
    expect(card(page, "filter").locator('.output[data-output="yes"]')).to_have_attribute("data-label", "Yes")
    expect(page.locator(".drawflow .connection")).to_have_count(3)

    card(page, "wait").click()
    page.fill("#f-amount", "3")
    page.select_option("#f-unit", "days")
    expect(card(page, "wait")).to_contain_text("Wait 3 days")

    card(page, "filter").click()
    page.click("#node-rules-add-condition")
    page.locator("[data-metric-menu] [data-metric-search]").fill("receipts")
    page.locator('[data-metric-menu] [data-metric="purchases.count"]').click()
    page.locator("#node-rules [data-condition] [data-value]").fill("2")
    expect(card(page, "filter")).to_contain_text("1 condition")

    card(page, "send_email").click()
    page.select_option("#f-template_version_id", str(welcome_id))
    expect(page.locator(".sc-template-frame")).to_be_visible()
    expect(card(page, "send_email")).to_contain_text("E-mail: T")
    card(page, "send_email-2").click()
    page.select_option("#f-template_version_id", str(reminder_id))
    look(page, "campaign-editor-building")

    page.click("#save-graph")
    wait_saved(page)
    lost = card(page, "send_email-2")
    expect(lost).to_have_class(re.compile("is-invalid"))
    expect(lost.locator(".sc-node-problem")).to_have_text("Nothing leads to this node: connect it")
    expect(page.locator("#problems-toggle")).to_have_text(re.compile("1 problem"))
    page.locator("#problems-list li").first.click()
    expect(page.locator("#panel-id")).to_contain_text("send_email-2")
    snapshot(page, "campaign-editor-problem")

    connect(page, "filter", 2, "send_email-2")  # "no"
    page.click("#save-graph")
    wait_saved(page)
    expect(page.locator("#problems-toggle")).to_have_text(re.compile("No problems"))
    expect(page.locator(".drawflow-node.is-invalid")).to_have_count(0)
    saved = stored(live_database, campaign_id)
    assert {(e["source"], e["output"], e["target"]) for e in saved["edges"]} == {
        ("trigger", "out", "wait"),
        ("wait", "out", "filter"),
        ("filter", "yes", "send_email"),
        ("filter", "no", "send_email-2"),
    }
    settings = {n["id"]: n["settings"] for n in saved["nodes"]}
    assert settings["wait"] == {"amount": 3, "unit": "days"}
    assert settings["send_email-2"]["template_version_id"] == reminder_id
    assert settings["filter"]["rules"]["root"]["children"][0]["metric"] == "purchases.count"

    # Copy and paste a node (through localStorage), then remove the copy from its context menu.
    card(page, "send_email-2").click()
    page.keyboard.press("Control+c")
    page.keyboard.press("Control+v")
    expect(card(page, "send_email-3")).to_contain_text("E-mail: T")
    card(page, "send_email-3").click(button="right")
    page.locator('#context-menu [data-menu="delete"]').click()
    expect(card(page, "send_email-3")).to_have_count(0)
    expect(page.locator(".drawflow-node")).to_have_count(5)
    expect(page.locator("#node-panel")).to_be_hidden()  # the panel of the removed copy closed with it
    page.click("#zoom-fit")
    look(page, "campaign-editor")


def test_a_pasted_node_travels_to_another_campaign(page: Page, staff, live_database: Database) -> None:
    welcome_id, _ = templates(live_database)
    with live_database.session() as session:
        first = campaign_service.create(session, ACTOR, CampaignIn(name="First"), welcome_graph(welcome_id))
        second = campaign_service.create(session, ACTOR, CampaignIn(name="Second"))
        session.commit()
        first_id, second_id = first.id, second.id
    email, password = staff("marketer")
    sign_in(page, email, password)
    page.goto(f"/campaigns/{first_id}")
    card(page, "e").click()
    page.keyboard.press("Control+c")
    page.goto(f"/campaigns/{second_id}")
    card(page, "trigger").click()
    page.keyboard.press("Control+v")
    expect(card(page, "send_email")).to_contain_text("E-mail: T")
    card(page, "trigger").click()
    page.keyboard.press("Control+c")
    page.keyboard.press("Control+v")  # a second trigger is refused
    expect(page.locator(".drawflow-node")).to_have_count(2)

    # The campaign's settings drawer: re-entry every 7 days, exit on an order or the event "unsubscribed".
    page.click("#open-settings")
    page.check("#s-reentry-interval")
    page.fill("#s-reentry-amount", "7")
    page.select_option("#s-reentry-unit", "days")
    page.check('input[name="exit"][value="order"]')
    page.check("#s-exit-event")
    page.fill("#s-exit-events", "unsubscribed")
    page.fill("#s-name", "Second, renamed")
    # Its own attribution rule: purchases of 500 or more within 10 days of its message.
    expect(page.locator("#s-attribution-days")).to_be_hidden()
    page.locator('#s-attribution label:has(input[value="days"])').click()
    page.fill("#s-attribution-days", "10")
    page.fill("#s-attribution-amount", "500")
    look(page, "campaign-settings-drawer")
    page.click("#save-settings")
    expect(page.locator("#campaign-title")).to_have_text("Second, renamed")
    with live_database.session() as session:
        found = session.get(Campaign, second_id)
        assert found is not None
        assert (found.reentry_minutes, found.exit_rules) == (
            7 * 24 * 60,
            [{"kind": "order"}, {"kind": "event", "name": "unsubscribed"}],
        )
        assert found.attribution["days"] == 10 and found.attribution["criteria"]["min_amount"] == "500"


def test_action_worked_watches_a_node_picked_from_another_campaign(
    page: Page, staff, live_database: Database
) -> None:
    welcome_id, _ = templates(live_database)
    chained = graph([node("t", "trigger.action_worked")], [])
    with live_database.session() as session:
        first = campaign_service.create(session, ACTOR, CampaignIn(name="Welcome"), welcome_graph(welcome_id))
        second = campaign_service.create(session, ACTOR, CampaignIn(name="Follow-up"), chained)
        session.commit()
        first_id, second_id = first.id, second.id
    email, password = staff("marketer")
    sign_in(page, email, password)
    page.goto(f"/campaigns/{second_id}")
    card(page, "t").click()
    expect(page.locator("#f-node")).to_contain_text("Choose the campaign first")

    page.select_option("#f-campaign_id", label="Welcome")
    expect(page.locator("#f-node option")).to_have_text(
        ["Not chosen", "Send e-mail (e)", "Cheque issued (t)", "Wait (w)"]
    )
    page.select_option("#f-node", "e")
    page.click("#save-graph")
    wait_saved(page)
    trigger = stored(live_database, second_id)["nodes"][0]
    assert trigger["settings"] == {"campaign_id": first_id, "node": "e"}


def welcome_graph(template_id: int) -> dict[str, Any]:
    body = graph(
        [
            node("t", "trigger.cheque_issued"),
            node("w", "action.wait", amount=2, unit="hours"),
            node("e", "action.send_email", template_version_id=template_id),
        ],
        [edge("t", "w"), edge("w", "e")],
    )
    for item, (x, y) in zip(body["nodes"], ((40, 200), (360, 200), (680, 200)), strict=True):
        item["x"], item["y"] = x, y
    return body


def test_a_senior_marketer_activates_it_in_russian(page: Page, staff, live_database: Database) -> None:
    welcome_id, _ = templates(live_database)
    broken_graph = welcome_graph(welcome_id)
    broken_graph["edges"] = broken_graph["edges"][:1]  # the e-mail is left unconnected
    with live_database.session() as session:
        campaign = campaign_service.create(
            session, ACTOR, CampaignIn(name="Приветствие"), welcome_graph(welcome_id)
        )
        broken = campaign_service.create(session, ACTOR, CampaignIn(name="Недоделанная"), broken_graph)
        session.commit()
        campaign_id, broken_id = campaign.id, broken.id
    email, password = staff("senior_marketer", language="ru")
    sign_in(page, email, password)
    page.goto(f"/campaigns/{broken_id}")
    page.click("#activate-campaign")
    expect(card(page, "e")).to_have_class(re.compile("is-invalid"))
    expect(page.locator("#problems-list li")).to_have_count(1)
    expect(page.locator('.page-title [data-status="draft"]')).to_be_visible()

    page.goto(f"/campaigns/{campaign_id}")
    expect(page.locator("html")).to_have_attribute("lang", "ru")
    expect(page.locator("#open-settings")).to_contain_text("Настройки")
    expect(page.locator("#activate-campaign")).to_be_visible()

    page.click("#activate-campaign")
    expect(page.locator('.page-title [data-status="active"]')).to_be_visible()
    expect(page.locator("#read-only-banner")).to_be_visible()
    expect(page.locator("#save-graph")).to_have_count(0)
    expect(page.locator("#suspend-campaign")).to_be_visible()
    look(page, "campaign-editor-active-ru")

    page.goto("/campaigns?active=1")
    row = page.locator(f'tr[data-campaign-id="{campaign_id}"]')
    expect(row.locator('[data-status="active"]')).to_be_visible()
    row.locator('[data-action="more"]').click()
    expect(row.locator('[data-action="suspend"]')).to_be_visible()
    look(page, "campaign-list-ru")


def test_an_analyst_reads_the_canvas_with_its_funnel_numbers(
    page: Page, staff, live_database: Database
) -> None:
    welcome_id, _ = templates(live_database)
    with live_database.session() as session:
        campaign = campaign_service.create(
            session, ACTOR, CampaignIn(name="Welcome"), welcome_graph(welcome_id)
        )
        campaign_service.activate(session, ACTOR, campaign.id)
        session.commit()
        for _ in range(3):
            buy(session, make_customer(session))
        campaign_id = campaign.id
    email, password = staff("analyst", language="ru")
    sign_in(page, email, password)
    page.goto(f"/campaigns/{campaign_id}")
    figures = card(page, "w").locator(".sc-node-figures")
    expect(figures.locator('[data-figure="arrived"]')).to_have_text("3")
    expect(figures.locator('[data-figure="in-progress"]')).to_have_text("3")
    expect(card(page, "t").locator(".output")).to_have_attribute("data-label", "3")
    expect(page.locator("#palette")).to_have_count(0)
    expect(page.locator("#start-draft")).to_have_count(0)
    card(page, "e").click()
    expect(page.locator("#f-template_version_id")).to_be_disabled()
    look(page, "campaign-editor-analyst-ru")
