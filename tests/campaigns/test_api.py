"""Campaigns over the API: a Marketer builds a campaign and a Senior marketer activates it; what the API
answers, the problems pinned to their nodes, what each role is refused, and that a refusal writes nothing."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import status_code_conformance
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from smartcomm.app import create_app
from smartcomm.auth.permissions import Role
from smartcomm.models import AuditEntry, Campaign, CampaignVersion
from smartcomm.personalization.renderer import renderer
from tests.campaigns.helpers import active_campaign, buy, edge, graph, node
from tests.delivery.helpers import email_template, make_category, make_customer
from tests.mailings.helpers import staff_api


@pytest.fixture(autouse=True)
def fresh_renderer() -> Any:
    renderer.forget()
    yield
    renderer.forget()


def welcome(template_id: int) -> dict[str, Any]:
    """Cheque issued → wait 3 days → filter → an e-mail on each branch."""
    return graph(
        [
            node("t", "trigger.cheque_issued"),
            node("w", "action.wait", amount=3, unit="days"),
            node("f", "action.filter"),
            node("yes-mail", "action.send_email", template_version_id=template_id),
            node("no-mail", "action.send_email", template_version_id=template_id),
        ],
        [edge("t", "w"), edge("w", "f"), edge("f", "yes-mail", "yes"), edge("f", "no-mail", "no")],
    )


def history(session: Session, campaign_id: int) -> list[str]:
    statement = (
        select(AuditEntry.action)
        .where(AuditEntry.object_type == "campaign", AuditEntry.object_id == str(campaign_id))
        .order_by(AuditEntry.id)
    )
    return list(session.scalars(statement))


def rows(session: Session, model: Any) -> int:
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_a_marketer_builds_a_campaign_and_a_senior_marketer_activates_it(
    session: Session, client: TestClient
) -> None:
    template = email_template(session)
    marketer = staff_api(client, session, Role.MARKETER)
    senior = staff_api(client, session, Role.SENIOR_MARKETER)
    session.commit()

    created = marketer.post("/api/v1/campaigns", json={"name": "Welcome", "graph": welcome(template.id)})
    assert created.status_code == 201, created.text
    body = created.json()
    campaign_id = body["id"]
    assert (body["status"], body["trigger_kind"], body["problems"]) == ("draft", "trigger.cheque_issued", [])
    assert (body["version_number"], body["read_only"]) == (1, False)

    refused = marketer.post(f"/api/v1/campaigns/{campaign_id}/activate")
    assert refused.status_code == 403
    activated = senior.post(f"/api/v1/campaigns/{campaign_id}/activate")
    assert activated.status_code == 200, activated.text
    found = activated.json()
    assert (found["status"], found["read_only"], found["published_version_id"]) == (
        "active",
        True,
        found["version_id"],
    )
    assert [(v["number"], v["published_by"] is not None) for v in found["versions"]] == [(1, True)]

    listed = marketer.get("/api/v1/campaigns", params={"status": "active"}).json()
    assert [item["id"] for item in listed["items"]] == [campaign_id]
    assert marketer.get("/api/v1/campaigns/totals").json()["active"] == 1
    assert history(session, campaign_id) == ["create", "activate"]


def test_saving_the_graph_of_an_active_campaign_makes_a_new_draft_version(
    session: Session, client: TestClient
) -> None:
    template = email_template(session)
    campaign = active_campaign(session, welcome(template.id))
    marketer = staff_api(client, session, Role.MARKETER)
    session.commit()
    changed = welcome(template.id)
    changed["nodes"][1]["settings"] = {"amount": 1, "unit": "hours"}

    saved = marketer.put(f"/api/v1/campaigns/{campaign.id}/graph", json=changed)

    assert saved.status_code == 200, saved.text
    assert (saved.json()["valid"], saved.json()["version_number"]) == (True, 2)
    found = marketer.get(f"/api/v1/campaigns/{campaign.id}").json()
    assert (found["status"], found["read_only"], found["version_number"]) == ("active", False, 2)
    published = session.get(CampaignVersion, found["published_version_id"])
    assert published is not None and published.number == 1
    assert published.graph["nodes"][1]["settings"] == {"amount": 3, "unit": "days"}


def test_problems_come_back_pinned_to_their_nodes_and_the_draft_is_saved_anyway(
    session: Session, client: TestClient
) -> None:
    marketer = staff_api(client, session, Role.MARKETER)
    session.commit()
    campaign_id = marketer.post("/api/v1/campaigns", json={"name": "Half-built"}).json()["id"]
    body = graph(
        [
            node("t", "trigger.cheque_issued"),
            node("w", "action.wait", amount=0, unit="days"),
            node("lonely", "action.send_email"),
        ],
        [edge("t", "w")],
    )

    saved = marketer.put(f"/api/v1/campaigns/{campaign_id}/graph", json=body)

    assert saved.status_code == 200
    problems = {(p["field"], p["message"]) for p in saved.json()["problems"]}
    assert ("nodes.lonely", "Nothing leads to this node: connect it") in problems
    assert ("nodes.lonely.settings.template_version_id", "Choose the message's template") in problems
    assert any(field == "nodes.w.settings.amount" for field, _ in problems)
    stored = marketer.get(f"/api/v1/campaigns/{campaign_id}").json()
    assert [n["id"] for n in stored["graph"]["nodes"]] == ["t", "w", "lonely"]
    checked = marketer.post(f"/api/v1/campaigns/{campaign_id}/validate").json()
    assert checked["valid"] is False and len(checked["problems"]) == len(problems)


def test_activating_a_graph_with_problems_is_refused_listing_them_and_nothing_changes(
    session: Session, client: TestClient
) -> None:
    senior = staff_api(client, session, Role.SENIOR_MARKETER)
    session.commit()
    campaign_id = senior.post("/api/v1/campaigns", json={"name": "Trigger only"}).json()["id"]

    refused = senior.post(f"/api/v1/campaigns/{campaign_id}/activate")

    assert refused.status_code == 422
    assert {e["field"] for e in refused.json()["errors"]} == {"nodes.trigger"}
    session.expire_all()
    campaign = session.get(Campaign, campaign_id)
    assert campaign is not None and (campaign.status, campaign.published_version_id) == ("draft", None)
    assert history(session, campaign_id) == ["create"]


def test_an_analyst_reads_campaigns_and_changes_nothing(session: Session, client: TestClient) -> None:
    template = email_template(session)
    campaign = active_campaign(session, welcome(template.id))
    analyst = staff_api(client, session, Role.ANALYST)
    session.commit()
    before = (rows(session, Campaign), rows(session, CampaignVersion), rows(session, AuditEntry))

    assert analyst.get("/api/v1/campaigns").status_code == 200
    assert analyst.get(f"/api/v1/campaigns/{campaign.id}").status_code == 200
    assert analyst.get("/api/v1/campaigns/palette").status_code == 200
    for method, url, body in (
        ("POST", "/api/v1/campaigns", {"name": "Mine"}),
        ("PATCH", f"/api/v1/campaigns/{campaign.id}", {"name": "Renamed"}),
        ("PUT", f"/api/v1/campaigns/{campaign.id}/graph", welcome(template.id)),
        ("POST", f"/api/v1/campaigns/{campaign.id}/suspend", None),
        ("POST", f"/api/v1/campaigns/{campaign.id}/copy", None),
        ("DELETE", f"/api/v1/campaigns/{campaign.id}", None),
    ):
        assert analyst.request(method, url, json=body).status_code == 403, (method, url)

    session.expire_all()
    assert (rows(session, Campaign), rows(session, CampaignVersion), rows(session, AuditEntry)) == before
    assert session.get(Campaign, campaign.id).status == "active"  # type: ignore[union-attr]


def test_suspend_copy_and_delete(session: Session, client: TestClient) -> None:
    template = email_template(session)
    campaign = active_campaign(session, welcome(template.id), reentry_minutes=60)
    senior = staff_api(client, session, Role.SENIOR_MARKETER)
    session.commit()

    assert senior.request("DELETE", f"/api/v1/campaigns/{campaign.id}").status_code == 409
    suspended = senior.post(f"/api/v1/campaigns/{campaign.id}/suspend")
    assert suspended.status_code == 200 and suspended.json()["status"] == "suspended"
    assert senior.post(f"/api/v1/campaigns/{campaign.id}/suspend").status_code == 409

    copied = senior.post(f"/api/v1/campaigns/{campaign.id}/copy")
    assert copied.status_code == 201
    copy = copied.json()
    assert (copy["name"], copy["status"], copy["reentry_minutes"]) == (f"{campaign.name} (copy)", "draft", 60)
    assert [n["id"] for n in copy["graph"]["nodes"]] == ["t", "w", "f", "yes-mail", "no-mail"]

    assert senior.request("DELETE", f"/api/v1/campaigns/{copy['id']}").status_code == 204
    assert senior.get(f"/api/v1/campaigns/{copy['id']}").status_code == 404
    assert history(session, copy["id"]) == ["create", "delete"]


def test_settings_change_with_patch_and_a_missing_category_is_named(
    session: Session, client: TestClient
) -> None:
    category = make_category(session)
    marketer = staff_api(client, session, Role.MARKETER)
    session.commit()
    campaign_id = marketer.post("/api/v1/campaigns", json={"name": "Settings"}).json()["id"]

    patched = marketer.patch(
        f"/api/v1/campaigns/{campaign_id}",
        json={
            "reentry_minutes": 7 * 24 * 60,
            "exit_rules": [{"kind": "order"}, {"kind": "event", "name": "unsubscribed"}],
            "category_id": category.id,
        },
    )
    assert patched.status_code == 200, patched.text
    found = patched.json()
    assert (found["name"], found["reentry_minutes"], found["category_id"]) == ("Settings", 10080, category.id)
    assert found["exit_rules"] == [{"kind": "order"}, {"kind": "event", "name": "unsubscribed"}]

    refused = marketer.patch(f"/api/v1/campaigns/{campaign_id}", json={"category_id": 999_999})
    assert refused.status_code == 422
    assert [e["field"] for e in refused.json()["errors"]] == ["category_id"]
    bad_rule = marketer.patch(f"/api/v1/campaigns/{campaign_id}", json={"exit_rules": [{"kind": "moon"}]})
    assert bad_rule.status_code == 422 and "exit_rules" in bad_rule.json()["errors"][0]["field"]
    session.expire_all()
    assert session.get(Campaign, campaign_id).category_id == category.id  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "body",
    [
        [],
        "graph",
        {"nodes": "many"},
        {"nodes": [{"id": "no spaces allowed", "kind": "action.wait"}]},
        {"nodes": [], "edges": [], "extra": 1},
        {"nodes": [{"id": "a", "kind": "action.wait", "x": float("nan")}]},
        {"nodes": [{"id": "a", "kind": "action.wait", "settings": {"note": "a\u0000b"}}]},
    ],
)
def test_a_body_that_is_not_a_graph_is_refused_and_the_draft_stays(
    session: Session, client: TestClient, body: Any
) -> None:
    marketer = staff_api(client, session, Role.MARKETER)
    session.commit()
    campaign = marketer.post("/api/v1/campaigns", json={"name": "Kept"}).json()

    refused = marketer.put(
        f"/api/v1/campaigns/{campaign['id']}/graph",
        content=_json(body),
        headers={"Content-Type": "application/json"},
    )

    assert refused.status_code == 422, refused.text
    assert all(error["field"] for error in refused.json()["errors"])
    assert marketer.get(f"/api/v1/campaigns/{campaign['id']}").json()["graph"] == campaign["graph"]
    assert history(session, campaign["id"]) == ["create"]


def test_the_palette_names_every_kind_with_its_form(session: Session, client: TestClient) -> None:
    marketer = staff_api(client, session, Role.MARKETER)
    session.commit()

    kinds = {entry["name"]: entry for entry in marketer.get("/api/v1/campaigns/palette").json()}

    assert kinds["action.filter"]["outputs"] == ["yes", "no"]
    assert kinds["action.filter"]["output_labels"] == {"yes": "Yes", "no": "No"}
    wait = {field["name"]: field for field in kinds["action.wait"]["fields"]}
    assert (wait["amount"]["widget"], wait["amount"]["min"], wait["unit"]["widget"]) == (
        "number",
        1,
        "select",
    )
    assert [o["value"] for o in wait["unit"]["options"]] == ["minutes", "hours", "days", "weeks"]
    email = {field["name"]: field for field in kinds["action.send_email"]["fields"]}
    assert (email["template_version_id"]["widget"], email["template_version_id"]["channel"]) == (
        "template",
        "email",
    )
    assert kinds["action.wait"]["settings_schema"]["properties"]["unit"]["enum"][2] == "days"
    assert next(iter(kinds)).startswith("trigger.")


def test_the_figures_count_what_passed_each_node(session: Session, client: TestClient) -> None:
    template = email_template(session)
    campaign = active_campaign(session, welcome(template.id))
    for _ in range(2):
        buy(session, make_customer(session))
    marketer = staff_api(client, session, Role.MARKETER)
    session.commit()

    figures = marketer.get(f"/api/v1/campaigns/{campaign.id}/figures").json()["nodes"]

    assert (figures["t"]["arrived"], figures["t"]["outputs"]) == (2, {"out": 2})
    assert (figures["w"]["arrived"], figures["w"]["in_progress"]) == (2, 2)
    assert "f" not in figures


def _json(body: Any) -> str:
    import json

    return json.dumps(body)  # NaN is written as the bare word JavaScript would never send


# --- hostile bodies never answer 5xx ------------------------------------------------------------------

schema = schemathesis.openapi.from_asgi("/api/openapi.json", create_app(rate_limit="1000000/minute")).include(
    path_regex="^/api/v1/campaigns"
)


@pytest.fixture
def senior_headers(backend: str, client: TestClient, session: Session) -> dict[str, str]:
    if backend != "sqlite":
        pytest.skip("the schema is fuzzed on SQLite only")
    token = staff_api(client, session, Role.SENIOR_MARKETER).token
    email_template(session)
    make_category(session)
    session.commit()
    return {"Authorization": f"Bearer {token}"}


@schema.parametrize()
@settings(
    max_examples=15,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.function_scoped_fixture,
    ],
)
def test_campaign_routes_never_fail_and_answer_only_documented_statuses(
    case: schemathesis.Case, senior_headers: dict[str, str]
) -> None:
    case.call_and_validate(headers=senior_headers, checks=[not_a_server_error, status_code_conformance])


JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=25,
)
NODE = st.fixed_dictionaries(
    {
        "id": st.sampled_from(["t", "w", "f", "e", "x y"]),
        "kind": st.sampled_from(
            ["trigger.cheque_issued", "action.wait", "action.filter", "action.send_email", "nope"]
        ),
    },
    optional={
        "settings": st.dictionaries(
            st.sampled_from(
                ["amount", "unit", "rules", "template_version_id", "minimum_total", "store_ids", "x"]
            ),
            JSON,
            max_size=3,
        ),
        "x": JSON,
        "y": st.floats(allow_nan=False, allow_infinity=False),
    },
)
GRAPHS = JSON | st.fixed_dictionaries(
    {"nodes": st.lists(NODE, max_size=5)},
    optional={
        "edges": st.lists(st.fixed_dictionaries({"source": JSON, "target": JSON}, optional={"output": JSON}))
    },
)


@given(body=GRAPHS)
@settings(
    max_examples=60,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_random_graphs_are_saved_with_problems_or_refused_never_a_server_error(
    session: Session, client: TestClient, body: Any
) -> None:
    marketer = staff_api(client, session, Role.MARKETER)
    campaign = Campaign(name="Fuzzed", status="draft", exit_rules=[], attribution={})
    session.add(campaign)
    session.commit()
    version = CampaignVersion(campaign_id=campaign.id, number=1, graph={})
    session.add(version)
    session.flush()
    campaign.draft_version_id = version.id
    session.commit()

    for method, url in (("PUT", "graph"), ("POST", "validate")):
        answer = marketer.request(method, f"/api/v1/campaigns/{campaign.id}/{url}", json=body)
        assert answer.status_code in (200, 422), (answer.status_code, answer.text)
