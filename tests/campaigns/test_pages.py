"""Campaign pages, server side: the list with its totals, filters and the actions each role is offered; a new
campaign; the editor's page and what it asks the server (saving the canvas, checking it, the settings
drawer, node lines, the Filter node's builder, funnel numbers); refusals write nothing."""

from __future__ import annotations

import itertools
import json
import re
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from smartcomm.campaigns.schemas import CampaignIn
from smartcomm.campaigns.service import campaign_service
from smartcomm.kit.time import utcnow
from smartcomm.models import AttributedReceipt, AuditEntry, Campaign, CampaignVersion
from smartcomm.personalization.renderer import renderer
from tests.attribution.helpers import make_message, make_receipt
from tests.campaigns.helpers import ACTOR, active_campaign, buy, edge, graph, node
from tests.conftest import UIClient
from tests.delivery.helpers import email_template, make_category, make_customer
from tests.factories import make_user

_names = itertools.count(1)


@pytest.fixture(autouse=True)
def fresh_renderer() -> Any:
    renderer.forget()
    yield
    renderer.forget()


def sign_in_as(client: UIClient, session: Session, role: str) -> UIClient:
    user, password = make_user(session, role=role)
    session.commit()
    client.sign_in(user.email, password)
    return client


def draft(session: Session, body: dict[str, Any] | None = None, **settings: Any) -> Campaign:
    data = CampaignIn.model_validate({"name": f"Draft {next(_names)}", **settings})
    campaign = campaign_service.create(session, ACTOR, data, body)
    session.commit()
    return campaign


def welcome(template_id: int) -> dict[str, Any]:
    return graph(
        [
            node("t", "trigger.cheque_issued"),
            node("w", "action.wait", amount=3, unit="days"),
            node("e", "action.send_email", template_version_id=template_id),
        ],
        [edge("t", "w"), edge("w", "e")],
    )


def json_headers(client: UIClient) -> dict[str, str]:
    return {"X-CSRF-Token": client.csrf, "Accept": "application/json"}


def editor_config(html: str) -> dict[str, Any]:
    found = re.search(r'<script type="application/json" id="editor-config">(.*?)</script>', html, re.S)
    assert found, "no editor config on the page"
    return json.loads(found.group(1))


def rows(session: Session, model: Any) -> int:
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def history(session: Session, campaign_id: int) -> list[str]:
    statement = (
        select(AuditEntry.action)
        .where(AuditEntry.object_type == "campaign", AuditEntry.object_id == str(campaign_id))
        .order_by(AuditEntry.id)
    )
    return list(session.scalars(statement))


# --- the list ------------------------------------------------------------------------------------------


def test_the_list_shows_totals_trigger_and_attributed_orders(session: Session, client: UIClient) -> None:
    campaign = active_campaign(session, welcome(email_template(session).id))
    draft(session)
    customer = make_customer(session)
    message = make_message(session, customer, source_kind="campaign", source_id=campaign.id)
    receipt = make_receipt(session, customer, utcnow(), total="250.00")
    session.add(
        AttributedReceipt(
            receipt_id=receipt.id, message_id=message.id, customer_id=customer.id, source_kind="campaign",
            source_id=campaign.id, channel="email", touched_at=utcnow(), purchased_at=utcnow(),
            amount=Decimal("250.00"), credited=True,
        )
    )  # fmt: skip
    sign_in_as(client, session, "marketer")

    page = client.get("/campaigns").text

    assert re.search(r'data-total="active">1<', page)
    assert re.search(r'data-total="orders">1<', page)
    row = page.split(f'data-campaign-id="{campaign.id}"')[1].split("</tr>")[0]
    assert 'data-count="orders">1<' in row and "250.00" in row
    assert 'data-trigger="trigger.cheque_issued"' in row and "Cheque issued" in row
    assert 'data-action="suspend"' not in page and 'data-action="activate"' not in page  # a Marketer's menu
    assert 'data-action="copy"' in page and 'href="/campaigns/gallery"' in page


def test_a_senior_marketer_is_offered_activate_and_suspend(session: Session, client: UIClient) -> None:
    active = active_campaign(session, welcome(email_template(session).id))
    waiting = draft(session)
    sign_in_as(client, session, "senior_marketer")

    page = client.get("/campaigns").text

    active_row = page.split(f'data-campaign-id="{active.id}"')[1].split("</tr>")[0]
    draft_row = page.split(f'data-campaign-id="{waiting.id}"')[1].split("</tr>")[0]
    assert 'data-action="suspend"' in active_row and 'data-action="delete"' not in active_row
    assert 'data-action="activate"' in draft_row and 'data-action="delete"' in draft_row


def test_only_active_search_and_pages(session: Session, client: UIClient) -> None:
    active_campaign(session, welcome(email_template(session).id), name="Birthday greetings")
    for number in range(11):
        draft(session, name=f"Winter draft {number}")
    sign_in_as(client, session, "analyst")

    only_active = client.get("/campaigns", params={"active": "1"}).text
    assert only_active.count("data-campaign-id=") == 1 and "Birthday greetings" in only_active
    searched = client.get("/campaigns", params={"q": "WINTER draft 1"}).text
    assert searched.count("data-campaign-id=") == 2  # 1 and 10
    first = client.get("/campaigns", params={"size": "10"}).text
    second = client.get("/campaigns", params={"size": "10", "page": "2"}).text
    assert (first.count("data-campaign-id="), second.count("data-campaign-id=")) == (10, 2)
    assert 'data-action="more"' not in first  # an Analyst only reads


def test_the_menu_places_campaigns_after_customers(session: Session, client: UIClient) -> None:
    sign_in_as(client, session, "marketer")
    page = client.get("/campaigns").text
    sections = re.findall(r'data-section="([a-z]+)"', page)
    assert sections.index("customers") < sections.index("campaigns") < sections.index("mailings")


def test_a_new_campaign_opens_in_the_editor_and_a_nameless_one_is_refused(
    session: Session, client: UIClient
) -> None:
    sign_in_as(client, session, "marketer")
    before = rows(session, Campaign)

    refused = client.submit("/campaigns/new", {"name": "   "})
    assert refused.status_code == 303 and refused.headers["location"] == "/campaigns"
    assert rows(session, Campaign) == before

    created = client.submit("/campaigns/new", {"name": "Welcome series"})
    assert created.status_code == 303
    campaign_id = int(created.headers["location"].rsplit("/", 1)[1])
    config = editor_config(client.get(f"/campaigns/{campaign_id}").text)
    assert [n["kind"] for n in config["graph"]["nodes"]] == ["trigger.cheque_issued"]
    assert config["readOnly"] is False
    assert {p["field"] for p in config["problems"]} == {"nodes.trigger"}


# --- the editor page -------------------------------------------------------------------------------------


def test_the_editor_hands_the_script_the_graph_palette_lines_and_choices(
    session: Session, client: UIClient
) -> None:
    template = email_template(session)
    campaign = draft(session, welcome(template.id))
    sign_in_as(client, session, "marketer")

    response = client.get(f"/campaigns/{campaign.id}")

    assert response.status_code == 200
    config = editor_config(response.text)
    assert config["described"]["w"]["summary"] == "Wait 3 days"
    assert config["described"]["e"]["summary"].startswith("E-mail: T")
    assert {k["name"] for k in config["palette"]} >= {"action.filter", "action.wait", "trigger.cheque_issued"}
    assert template.id in [t["id"] for t in config["choices"]["templates"]]
    assert config["problems"] == [] and config["canActivate"] is False
    assert 'id="save-graph"' in response.text and 'id="activate-campaign"' not in response.text
    assert "/vendor/drawflow/drawflow.min.js" in response.text


def test_an_active_campaign_opens_read_only_with_an_edit_button(session: Session, client: UIClient) -> None:
    campaign = active_campaign(session, welcome(email_template(session).id))
    sign_in_as(client, session, "marketer")

    page = client.get(f"/campaigns/{campaign.id}").text

    assert editor_config(page)["readOnly"] is True
    assert 'id="start-draft"' in page and 'id="save-graph"' not in page

    started = client.post(f"/campaigns/{campaign.id}/edit", headers=json_headers(client))
    assert started.status_code == 200 and started.json()["ok"] is True
    config = editor_config(client.get(f"/campaigns/{campaign.id}").text)
    assert (config["readOnly"], config["version"]["number"]) == (False, 2)
    assert client.get(f"/campaigns/{campaign.id}", params={"version": 1}).status_code == 200
    assert editor_config(client.get(f"/campaigns/{campaign.id}?version=1").text)["readOnly"] is True


def test_an_analyst_sees_the_canvas_read_only_and_may_not_save(session: Session, client: UIClient) -> None:
    campaign = draft(session, welcome(email_template(session).id))
    sign_in_as(client, session, "analyst")

    page = client.get(f"/campaigns/{campaign.id}").text
    assert editor_config(page)["readOnly"] is True and 'id="start-draft"' not in page

    refused = client.put(f"/campaigns/{campaign.id}/graph", json=graph([], []), headers=json_headers(client))
    assert refused.status_code == 403
    session.expire_all()
    assert len(session.get(CampaignVersion, campaign.draft_version_id).graph["nodes"]) == 3  # type: ignore[union-attr]


def test_saving_the_canvas_pins_problems_and_a_broken_body_writes_nothing(
    session: Session, client: UIClient
) -> None:
    template = email_template(session)
    campaign = draft(session, welcome(template.id))
    sign_in_as(client, session, "marketer")
    body = welcome(template.id)
    body["nodes"].append(node("lost", "action.send_email", template_version_id=template.id))

    saved = client.put(f"/campaigns/{campaign.id}/graph", json=body, headers=json_headers(client))

    assert saved.status_code == 200
    assert saved.json()["problems"] == [
        {"field": "nodes.lost", "message": "Nothing leads to this node: connect it"}
    ]
    checked = client.post(
        f"/campaigns/{campaign.id}/check", json=welcome(template.id), headers=json_headers(client)
    )
    assert checked.json() == {"ok": True, "valid": True, "problems": []}

    before = history(session, campaign.id)
    broken = client.put(
        f"/campaigns/{campaign.id}/graph",
        content=b"{not json",
        headers=json_headers(client) | {"Content-Type": "application/json"},
    )
    assert broken.status_code == 422 and broken.json()["ok"] is False
    assert history(session, campaign.id) == before
    session.expire_all()
    assert [n["id"] for n in session.get(CampaignVersion, campaign.draft_version_id).graph["nodes"]][
        -1
    ] == "lost"  # type: ignore[union-attr]


def test_the_settings_drawer_saves_reentry_exit_rules_and_category(
    session: Session, client: UIClient
) -> None:
    campaign = draft(session)
    category = make_category(session)
    session.commit()
    sign_in_as(client, session, "marketer")
    body = {
        "name": "Renamed",
        "description": "",
        "reentry": "interval",
        "reentry_amount": 2,
        "reentry_unit": "days",
        "exit_rules": [{"kind": "order"}, {"kind": "event", "name": "unsubscribed"}],
        "category_id": category.id,
        "exclude_global_control": False,
    }

    saved = client.post(f"/campaigns/{campaign.id}/settings", json=body, headers=json_headers(client))

    assert saved.status_code == 200, saved.text
    session.expire_all()
    found = session.get(Campaign, campaign.id)
    assert found is not None
    assert (found.name, found.reentry_minutes, found.category_id, found.exclude_global_control) == (
        "Renamed", 2880, category.id, False,
    )  # fmt: skip
    assert found.exit_rules == [{"kind": "order"}, {"kind": "event", "name": "unsubscribed"}]
    page = client.get(f"/campaigns/{campaign.id}").text
    assert re.search(r'name="reentry" value="interval" id="s-reentry-interval" checked', page)

    wrongs = (
        ({"category_id": 999_999}, "category_id"),
        ({"name": ""}, "name"),
        ({"reentry": "interval", "reentry_amount": -5, "reentry_unit": "days"}, "reentry_minutes"),
    )
    for wrong, field in wrongs:
        refused = client.post(
            f"/campaigns/{campaign.id}/settings", json=body | wrong, headers=json_headers(client)
        )
        assert refused.status_code == 422 and field in refused.json()["errors"], (wrong, refused.text)
    session.expire_all()
    assert session.get(Campaign, campaign.id).name == "Renamed"  # type: ignore[union-attr]


def test_the_settings_drawer_sets_the_campaigns_attribution_rule_and_names_a_wrong_field(
    session: Session, client: UIClient
) -> None:
    campaign = draft(session)
    sign_in_as(client, session, "marketer")
    rule = {"window": "days", "days": 10, "criteria": {"min_amount": "500", "skus": ["A-1", "B-2"]}}
    body = {"name": campaign.name, "reentry": "once", "exit_rules": [], "attribution": rule}

    saved = client.post(f"/campaigns/{campaign.id}/settings", json=body, headers=json_headers(client))

    assert saved.status_code == 200, saved.text
    session.expire_all()
    criteria = {"min_amount": "500", "skus": ["A-1", "B-2"], "category_ids": []}
    assert session.get(Campaign, campaign.id).attribution == {  # type: ignore[union-attr]
        "window": "days", "days": 10, "criteria": criteria
    }  # fmt: skip
    page = client.get(f"/campaigns/{campaign.id}").text
    assert re.search(r'name="attribution.window" value="days" class="form-selectgroup-input" checked', page)
    assert 'value="A-1, B-2"' in page
    before = history(session, campaign.id)

    wrongs = (
        ({"window": "days", "days": 0}, "attribution.days"),
        ({"window": "weeks"}, "attribution.window"),
    )
    for wrong, field in wrongs:
        refused = client.post(
            f"/campaigns/{campaign.id}/settings",
            json=body | {"attribution": wrong},
            headers=json_headers(client),
        )
        assert refused.status_code == 422 and field in refused.json()["errors"], (wrong, refused.text)
    session.expire_all()
    assert session.get(Campaign, campaign.id).attribution["days"] == 10  # type: ignore[union-attr,index]
    assert history(session, campaign.id) == before

    back = client.post(
        f"/campaigns/{campaign.id}/settings", json=body | {"attribution": None}, headers=json_headers(client)
    )
    assert back.status_code == 200
    session.expire_all()
    assert not session.get(Campaign, campaign.id).attribution  # type: ignore[union-attr]


def test_action_worked_offers_the_other_campaigns_and_their_nodes(session: Session, client: UIClient) -> None:
    template = email_template(session)
    watched = draft(session, welcome(template.id))
    watching = draft(session)
    sign_in_as(client, session, "marketer")

    config = editor_config(client.get(f"/campaigns/{watching.id}").text)
    nodes = client.get(f"/campaigns/{watched.id}/nodes", headers=json_headers(client))

    offered = [choice["id"] for choice in config["choices"]["campaigns"]]
    assert watched.id in offered and watching.id not in offered
    worked = next(k for k in config["palette"] if k["name"] == "trigger.action_worked")
    assert [(f["name"], f["widget"]) for f in worked["fields"]] == [
        ("campaign_id", "campaign"), ("node", "watched_node")
    ]  # fmt: skip
    assert nodes.status_code == 200
    assert [(n["id"], n["label"]) for n in nodes.json()["nodes"]] == [
        ("e", "Send e-mail"), ("t", "Cheque issued"), ("w", "Wait")
    ]  # fmt: skip
    assert client.get("/campaigns/999999/nodes", headers=json_headers(client)).status_code == 404


def test_nodes_are_described_and_the_filter_gets_the_segment_builder(
    session: Session, client: UIClient
) -> None:
    sign_in_as(client, session, "marketer")

    described = client.post(
        "/campaigns/describe",
        json={"nodes": [
            {"id": "w", "kind": "action.wait", "settings": {"amount": 2, "unit": "hours"}},
            {"id": "f", "kind": "action.filter", "settings": {}},
            {"id": "x", "kind": "nope", "settings": {}},
        ]},
        headers=json_headers(client),
    ).json()  # fmt: skip
    assert described["w"] == {"outputs": ["out"], "output_labels": {"out": ""}, "summary": "Wait 2 hours"}
    assert described["f"]["outputs"] == ["yes", "no"] and "x" not in described

    builder = client.post(
        "/campaigns/rules-builder",
        json={"rules": {"version": 1, "root": {"type": "group", "op": "and", "children": []}}, "errors": {}},
        headers=json_headers(client),
    )
    assert builder.status_code == 200
    assert 'id="node-rules"' in builder.text and 'x-data="segmentBuilder(' in builder.text
    assert 'hx-post="/segments/preview"' in builder.text


def test_the_figures_of_a_campaign(session: Session, client: UIClient) -> None:
    campaign = active_campaign(session, welcome(email_template(session).id))
    buy(session, make_customer(session))
    sign_in_as(client, session, "analyst")

    found = client.get(f"/campaigns/{campaign.id}/figures").json()["nodes"]

    assert (found["t"]["arrived"], found["w"]["in_progress"]) == (1, 1)


# --- actions ------------------------------------------------------------------------------------------------


def test_activation_is_for_senior_marketers_and_refused_with_problems(
    session: Session, client: UIClient
) -> None:
    broken = draft(session)  # a trigger alone
    sign_in_as(client, session, "marketer")
    assert client.submit(f"/campaigns/{broken.id}/activate").status_code == 403

    client.cookies.clear()
    sign_in_as(client, session, "senior_marketer")
    refused = client.submit(f"/campaigns/{broken.id}/activate")
    assert refused.status_code == 303 and refused.headers["location"] == f"/campaigns/{broken.id}"
    as_json = client.post(f"/campaigns/{broken.id}/activate", headers=json_headers(client))
    assert as_json.status_code == 422
    assert [p["field"] for p in as_json.json()["problems"]] == ["nodes.trigger"]
    session.expire_all()
    assert session.get(Campaign, broken.id).status == "draft"  # type: ignore[union-attr]
    assert history(session, broken.id) == ["create"]

    ready = draft(session, welcome(email_template(session).id))
    session.commit()
    assert client.submit(f"/campaigns/{ready.id}/activate").status_code == 303
    session.expire_all()
    assert session.get(Campaign, ready.id).status == "active"  # type: ignore[union-attr]
    assert (
        client.post(f"/campaigns/{ready.id}/suspend", headers=json_headers(client)).json()["status"]
        == "suspended"
    )


def test_copy_and_delete_from_the_list(session: Session, client: UIClient) -> None:
    active = active_campaign(session, welcome(email_template(session).id))
    sign_in_as(client, session, "marketer")

    copied = client.submit(f"/campaigns/{active.id}/copy")
    copy_id = int(copied.headers["location"].rsplit("/", 1)[1])
    assert session.get(Campaign, copy_id).status == "draft"  # type: ignore[union-attr]

    refused = client.submit(f"/campaigns/{active.id}/delete")
    assert refused.status_code == 303
    session.expire_all()
    assert session.get(Campaign, active.id) is not None
    assert client.submit(f"/campaigns/{copy_id}/delete").status_code == 303
    session.expire_all()
    assert session.get(Campaign, copy_id) is None
