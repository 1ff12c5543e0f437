"""The campaign report over the API: who may read it, its shape, and bad input answered 4xx naming the
field (never a 5xx)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from smartcomm.auth.permissions import Role
from smartcomm.kit.time import utcnow
from tests.campaigns.helpers import active_campaign, buy, edge, graph, node
from tests.delivery.helpers import email_template, make_customer
from tests.mailings.helpers import staff_api


def make_campaign(session: Session) -> int:
    template = email_template(session).id
    body = graph(
        [node("t", "trigger.cheque_issued"), node("e", "action.send_email", template_version_id=template)],
        [edge("t", "e")],
    )
    campaign = active_campaign(session, body)
    buy(session, make_customer(session), when=utcnow() - timedelta(hours=1))
    return campaign.id


@pytest.mark.parametrize("role", [Role.ANALYST, Role.MARKETER, Role.SENIOR_MARKETER])
def test_the_roles_that_see_campaigns_read_the_report(
    session: Session, client: TestClient, role: Role
) -> None:
    campaign_id = make_campaign(session)
    api = staff_api(client, session, role)
    session.commit()

    response = api.get(f"/api/v1/campaigns/{campaign_id}/report")

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["journeys"] == {"entered": 1, "in_progress": 0, "finished": 1, "exited": 0}
    assert [row["id"] for row in body["nodes"]] == ["t", "e"]
    assert {figure["key"]: figure["value"] for figure in body["messages"]}["sent"] == 1
    assert body["credited"] == {"receipts": 0, "buyers": 0, "amount": "0.00"}
    assert len(body["opens_by_hour"]) == 24 and len(body["opens"]["cells"]) == 7


def test_one_node_and_a_period_are_asked_for_by_query(session: Session, client: TestClient) -> None:
    campaign_id = make_campaign(session)
    api = staff_api(client, session, Role.ANALYST)
    session.commit()
    today = utcnow().date().isoformat()

    response = api.get(f"/api/v1/campaigns/{campaign_id}/report", params={"node": "t", "date_from": today})

    assert response.status_code == 200, response.text
    assert (response.json()["node"], response.json()["date_from"]) == ("t", today)
    assert {figure["key"]: figure["value"] for figure in response.json()["messages"]}["sent"] == 0


def test_an_operator_may_not_read_campaign_reports(session: Session, client: TestClient) -> None:
    campaign_id = make_campaign(session)
    api = staff_api(client, session, Role.OPERATOR)
    session.commit()

    assert api.get(f"/api/v1/campaigns/{campaign_id}/report").status_code == 403


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"node": "nowhere"}, "node"),
        ({"node": "not a node id!"}, "node"),
        ({"date_from": "31.12.2026"}, "date_from"),
        ({"date_to": "2026-02-30"}, "date_to"),
        ({"date_from": "2026-12-10", "date_to": "2026-12-01"}, "date_to"),
    ],
)
def test_bad_input_is_refused_naming_the_field(
    session: Session, client: TestClient, query: dict[str, str], field: str
) -> None:
    campaign_id = make_campaign(session)
    api = staff_api(client, session, Role.ANALYST)
    session.commit()

    response = api.get(f"/api/v1/campaigns/{campaign_id}/report", params=query)

    assert response.status_code == 422, response.text
    assert [error["field"] for error in response.json()["errors"]] == [field]


def test_a_campaign_that_does_not_exist_is_404(session: Session, client: TestClient) -> None:
    api = staff_api(client, session, Role.ANALYST)
    session.commit()

    assert api.get("/api/v1/campaigns/999999/report").status_code == 404
