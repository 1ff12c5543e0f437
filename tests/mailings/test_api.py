"""Mailings over the API: a draft is prepared by a Marketer and launched by a Senior marketer; what the
API answers, what it refuses (naming the field), and that a refusal writes nothing."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from smartcomm.auth.permissions import Role
from smartcomm.models import AuditEntry, Mailing, Message
from tests.api.conftest import api_client
from tests.delivery.helpers import email_template, make_category, text_template
from tests.mailings.helpers import audience_of, count_rows, customers, mailing_messages, staff_api


def history(session: Session, mailing_id: int) -> list[str]:
    statement = (
        select(AuditEntry.action)
        .where(AuditEntry.object_type == "mailing", AuditEntry.object_id == str(mailing_id))
        .order_by(AuditEntry.id)
    )
    return list(session.scalars(statement))


@pytest.fixture
def draft_body(session: Session) -> dict[str, object]:
    audience = audience_of(session, customers(session, 3))
    version = email_template(session)
    session.commit()
    return {
        "channel": "email",
        "name": "December sale",
        "template_version_id": version.id,
        "include_audience_ids": [audience.id],
        "sender": {"name": "Shop", "address": "news@shop.example"},
        "utm": {"utm_campaign": "december"},
    }


def test_a_marketer_prepares_a_draft_and_a_senior_marketer_sends_it(
    session: Session, client: TestClient, draft_body: dict[str, object]
) -> None:
    marketer = staff_api(client, session, Role.MARKETER)
    senior = staff_api(client, session, Role.SENIOR_MARKETER)
    session.commit()
    created = marketer.post("/api/v1/mailings", json=draft_body)
    assert created.status_code == 201, created.text
    mailing_id = created.json()["id"]
    assert created.json()["status"] == "draft" and created.json()["progress"]["planned"] == 0

    launched = senior.post(f"/api/v1/mailings/{mailing_id}/launch")
    assert launched.status_code == 200, launched.text
    found = senior.get(f"/api/v1/mailings/{mailing_id}").json()
    # Jobs run at once in tests: the audience was collected, sent by the sandbox, and nothing waits.
    assert found["status"] == "sent" and found["finished_at"] is not None
    assert (found["progress"]["sent"], found["progress"]["delivered"], found["progress"]["planned"]) == (
        3,
        3,
        0,
    )
    messages = mailing_messages(session, mailing_id)
    assert {m.options["sender"]["address"] for m in messages} == {"news@shop.example"}
    assert history(session, mailing_id) == ["create", "launch"]
    listed = marketer.get("/api/v1/mailings", params={"channel": "email", "status": "sent"}).json()
    assert [item["id"] for item in listed["items"]] == [mailing_id]


def test_an_integration_with_an_api_token_prepares_and_launches_a_mailing(
    session: Session, client: TestClient, draft_body: dict[str, object]
) -> None:
    integration = api_client(client, session, name="CMS")  # a token from POST /api/v1/token
    created = integration.post("/api/v1/mailings", json=draft_body)
    assert created.status_code == 201, created.text
    launched = integration.post(f"/api/v1/mailings/{created.json()['id']}/launch")
    assert launched.status_code == 200, launched.text
    assert integration.get(f"/api/v1/mailings/{created.json()['id']}").json()["status"] == "sent"


def test_a_marketer_cannot_launch_and_nothing_is_written(
    session: Session, client: TestClient, draft_body: dict[str, object]
) -> None:
    marketer = staff_api(client, session, Role.MARKETER)
    session.commit()
    mailing_id = marketer.post("/api/v1/mailings", json=draft_body).json()["id"]

    refused = marketer.post(f"/api/v1/mailings/{mailing_id}/launch")

    assert refused.status_code == 403
    session.expire_all()
    assert session.get(Mailing, mailing_id).status == "draft"  # type: ignore[union-attr]
    assert count_rows(session, Message) == 0
    assert history(session, mailing_id) == ["create"]


def test_an_analyst_sees_mailings_but_cannot_prepare_one(
    session: Session, client: TestClient, draft_body: dict[str, object]
) -> None:
    analyst = staff_api(client, session, Role.ANALYST)
    session.commit()
    assert analyst.get("/api/v1/mailings").status_code == 200
    assert analyst.post("/api/v1/mailings", json=draft_body).status_code == 403
    assert count_rows(session, Mailing) == 0


def test_only_a_draft_can_be_changed_or_deleted(
    session: Session, client: TestClient, draft_body: dict[str, object]
) -> None:
    senior = staff_api(client, session, Role.SENIOR_MARKETER)
    session.commit()
    mailing_id = senior.post("/api/v1/mailings", json=draft_body).json()["id"]
    renamed = senior.patch(f"/api/v1/mailings/{mailing_id}", json={"name": "Winter sale"})
    assert renamed.status_code == 200 and renamed.json()["name"] == "Winter sale"
    senior.post(f"/api/v1/mailings/{mailing_id}/launch")

    assert senior.patch(f"/api/v1/mailings/{mailing_id}", json={"name": "Other"}).status_code == 409
    assert senior.request("DELETE", f"/api/v1/mailings/{mailing_id}").status_code == 409
    assert senior.post(f"/api/v1/mailings/{mailing_id}/launch").status_code == 409
    session.expire_all()
    assert session.get(Mailing, mailing_id).name == "Winter sale"  # type: ignore[union-attr]

    copy = senior.post(f"/api/v1/mailings/{mailing_id}/copy").json()
    assert (copy["status"], copy["name"]) == ("draft", "Winter sale (copy)")
    assert senior.request("DELETE", f"/api/v1/mailings/{copy['id']}").status_code == 204
    assert senior.get(f"/api/v1/mailings/{copy['id']}").status_code == 404


def test_bad_drafts_are_refused_naming_the_field_and_nothing_is_written(
    session: Session, client: TestClient, draft_body: dict[str, object]
) -> None:
    senior = staff_api(client, session, Role.SENIOR_MARKETER)
    sms = text_template(session, "sms")
    session.commit()
    cases = {
        "template_version_id": {"template_version_id": sms.id},
        "category_id": {"category_id": 999_999},
        "include_audience_ids": {"include_audience_ids": [999_999]},
        "segment_id": {"segment_id": 999_999},
        "control_percent": {"control_percent": 60},
        "sender.address": {"sender": {"address": "not an address"}},
        "scheduled_at": {"scheduled_at": "2030-01-01T10:00:00"},  # a moment needs its UTC offset
    }
    for field, change in cases.items():
        response = senior.post("/api/v1/mailings", json=draft_body | change)
        assert response.status_code == 422, (field, response.text)
        assert field in {error["field"] for error in response.json()["errors"]}, (field, response.text)
    assert count_rows(session, Mailing) == 0


def test_a_draft_without_an_audience_cannot_be_launched(
    session: Session, client: TestClient, draft_body: dict[str, object]
) -> None:
    senior = staff_api(client, session, Role.SENIOR_MARKETER)
    make_category(session)
    session.commit()
    body = {key: value for key, value in draft_body.items() if key != "include_audience_ids"}
    mailing_id = senior.post("/api/v1/mailings", json=body).json()["id"]
    refused = senior.post(f"/api/v1/mailings/{mailing_id}/launch")
    assert refused.status_code == 422
    assert [error["field"] for error in refused.json()["errors"]] == ["segment_id"]
    assert senior.get(f"/api/v1/mailings/{mailing_id}").json()["status"] == "draft"


def test_a_marketer_test_sends_and_a_senior_marketer_resends_to_those_not_reached(
    session: Session, client: TestClient, draft_body: dict[str, object]
) -> None:
    marketer = staff_api(client, session, Role.MARKETER)
    senior = staff_api(client, session, Role.SENIOR_MARKETER)
    session.commit()
    mailing_id = marketer.post("/api/v1/mailings", json=draft_body).json()["id"]

    tested = marketer.post(f"/api/v1/mailings/{mailing_id}/test", json={"recipient": "qa@shop.example"})
    assert tested.status_code == 201, tested.text
    assert (tested.json()["source_kind"], tested.json()["recipient"]) == ("test", "qa@shop.example")
    refused = marketer.post(f"/api/v1/mailings/{mailing_id}/test", json={"recipient": "qa"})
    assert refused.status_code == 422 and "recipient" in refused.text

    early = senior.post(f"/api/v1/mailings/{mailing_id}/resend")
    assert early.status_code == 409
    assert senior.post(f"/api/v1/mailings/{mailing_id}/launch").status_code == 200
    assert marketer.post(f"/api/v1/mailings/{mailing_id}/resend").status_code == 403
    resent = senior.post(f"/api/v1/mailings/{mailing_id}/resend")
    assert resent.status_code == 200, resent.text
    found = senior.get(f"/api/v1/mailings/{mailing_id}").json()
    # Everyone was reached by the sandbox: the resend round records nothing new and settles again.
    assert (found["status"], found["resend_round"], found["progress"]["sent"]) == ("sent", 1, 3)
    assert len(mailing_messages(session, mailing_id)) == 3
    assert history(session, mailing_id)[-3:] == ["launch", "resend"][-3:] or "resend" in history(
        session, mailing_id
    )


def test_an_ab_test_with_a_control_group_over_the_api(
    session: Session, client: TestClient, draft_body: dict[str, object]
) -> None:
    senior = staff_api(client, session, Role.SENIOR_MARKETER)
    other = email_template(session, subject="Second")
    session.commit()
    body = draft_body | {
        "variants": [{}, {"template_version_id": other.id, "subject": "Hi {{ client.first_name }}"}],
        "control_percent": 10,
        "attribution_rule": {"window": "days", "days": 5, "criteria": {"min_amount": "100.50"}},
    }
    created = senior.post("/api/v1/mailings", json=body)
    assert created.status_code == 201, created.text
    out = created.json()
    assert [v.get("subject") for v in out["variants"]] == [None, "Hi {{ client.first_name }}"]
    assert out["attribution_rule"] == {
        "window": "days",
        "days": 5,
        "criteria": {"min_amount": "100.50", "skus": [], "category_ids": []},
    }
    copy = senior.post(f"/api/v1/mailings/{out['id']}/copy").json()
    assert copy["variants"] == out["variants"] and copy["attribution_rule"] == out["attribution_rule"]
