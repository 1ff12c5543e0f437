"""Target audiences over the REST API: lists, members by id, errors naming the field, a customer's lists."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from smartcomm.audiences.schemas import AudienceIn
from smartcomm.audiences.service import audience_service
from smartcomm.models import Audience, AudienceMember, AuditEntry
from smartcomm.segments.rules import SegmentRules
from smartcomm.segments.schemas import SegmentIn
from smartcomm.segments.service import segment_service
from tests.api.conftest import ApiClient
from tests.audiences.helpers import ACTOR, customer

URL = "/api/v1/audiences"


def members_in_db(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(AudienceMember)) or 0)


def test_create_read_rename_and_list(api: ApiClient, session: Session) -> None:
    created = api.post(URL, json={"name": "  Coffee lovers ", "description": "Bought coffee twice"})
    assert created.status_code == 201, created.text
    body = created.json()
    assert (body["name"], body["description"], body["member_count"]) == (
        "Coffee lovers",
        "Bought coffee twice",
        0,
    )
    assert body["created_by_id"] == api.user.id
    renamed = api.patch(f"{URL}/{body['id']}", json={"name": "Coffee fans"})
    assert (renamed.status_code, renamed.json()["name"], renamed.json()["description"]) == (
        200,
        "Coffee fans",
        "Bought coffee twice",
    )
    api.post(URL, json={"name": "Autumn promo"})
    listed = api.get(URL, params={"size": 1})
    assert (listed.json()["total"], listed.json()["pages"]) == (2, 2)
    assert [a["name"] for a in listed.json()["items"]] == ["Autumn promo"]
    assert [a["name"] for a in api.get(URL, params={"q": "fan"}).json()["items"]] == ["Coffee fans"]
    assert api.get(f"{URL}/{body['id']}").json()["name"] == "Coffee fans"
    assert api.get(f"{URL}/999999").status_code == 404
    actions = session.scalars(select(AuditEntry.action).where(AuditEntry.object_type == "audience")).all()
    assert sorted(actions) == ["create", "create", "update"]


def test_a_taken_name_or_a_bad_field_is_refused_naming_the_field(api: ApiClient, session: Session) -> None:
    api.post(URL, json={"name": "VIP"})
    taken = api.post(URL, json={"name": "vip"})
    assert taken.status_code == 409
    assert taken.json()["errors"][0]["field"] == "name"
    empty = api.post(URL, json={"name": " "})
    assert (empty.status_code, empty.json()["errors"][0]["field"]) == (422, "name")
    long = api.post(URL, json={"name": "x", "description": "d" * 1001})
    assert (long.status_code, long.json()["errors"][0]["field"]) == (422, "description")
    assert session.scalar(select(func.count()).select_from(Audience)) == 1


def test_members_are_added_listed_and_removed_by_id(api: ApiClient, session: Session) -> None:
    maria = customer(session, "LP-1", "Sokolova", email="maria@example.com", phone="+7 916 111-22-33")
    customer(session, "LP-2", "Antonov")
    audience_id = api.post(URL, json={"name": "VIP"}).json()["id"]
    added = api.post(f"{URL}/{audience_id}/members", json={"external_ids": ["LP-1", "LP-2", "LP-404"]})
    assert added.status_code == 200, added.text
    assert added.json() == {"added": 2, "already_members": 0, "unknown": ["LP-404"], "member_count": 2}
    again = api.post(f"{URL}/{audience_id}/members", json={"customer_ids": [maria.id, 987654]})
    assert again.json() == {"added": 0, "already_members": 1, "unknown": [987654], "member_count": 2}

    page = api.get(f"{URL}/{audience_id}/members", params={"size": 1}).json()
    assert (page["total"], page["pages"]) == (2, 2)
    assert page["items"][0]["external_id"] == "LP-2"
    second = api.get(f"{URL}/{audience_id}/members", params={"size": 1, "page": 2}).json()["items"][0]
    assert (second["customer_id"], second["name"], second["phone"], second["email"]) == (
        maria.id,
        "Sokolova Test",
        "+79161112233",
        "maria@example.com",
    )
    assert second["added_at"]

    removed = api.request("DELETE", f"{URL}/{audience_id}/members", json={"external_ids": ["LP-2", "LP-9"]})
    assert removed.json() == {"removed": 1, "not_members": 0, "unknown": ["LP-9"], "member_count": 1}
    assert api.get(f"{URL}/{audience_id}").json()["member_count"] == 1
    assert members_in_db(session) == 1


def test_a_malformed_member_body_writes_nothing(api: ApiClient, session: Session) -> None:
    customer(session, "LP-1", "Sokolova")
    audience_id = api.post(URL, json={"name": "VIP"}).json()["id"]
    both = api.post(f"{URL}/{audience_id}/members", json={"external_ids": ["LP-1"], "customer_ids": [1]})
    assert both.status_code == 422
    assert "either external_ids or customer_ids" in both.json()["errors"][0]["title"]
    bad_item = api.post(f"{URL}/{audience_id}/members", json={"external_ids": ["LP-1", ""]})
    assert (bad_item.status_code, bad_item.json()["errors"][0]["field"]) == (422, "external_ids[1]")
    too_many = api.post(f"{URL}/{audience_id}/members", json={"customer_ids": list(range(1, 10_002))})
    assert (too_many.status_code, too_many.json()["errors"][0]["field"]) == (422, "customer_ids")
    assert api.post(f"{URL}/999999/members", json={"external_ids": ["LP-1"]}).status_code == 404
    assert members_in_db(session) == 0
    assert session.scalars(select(AuditEntry.action).where(AuditEntry.object_type == "audience")).all() == [
        "create"
    ]


def test_an_audience_in_a_segment_rule_is_not_deleted(api: ApiClient, session: Session) -> None:
    vip = audience_service.create(session, ACTOR, AudienceIn(name="VIP"))
    spare = audience_service.create(session, ACTOR, AudienceIn(name="Spare"))
    condition = {"metric": "audiences.member", "operator": "is_true", "params": {"audience": vip.id}}
    rules = SegmentRules.model_validate({"root": {"children": [condition]}})
    segment_service.create(session, ACTOR, SegmentIn(name="VIP buyers", rules=rules))
    refused = api.request("DELETE", f"{URL}/{vip.id}")
    assert refused.status_code == 409
    assert "VIP buyers" in refused.json()["errors"][0]["title"]
    assert api.request("DELETE", f"{URL}/{spare.id}").status_code == 204
    assert [a.name for a in session.scalars(select(Audience))] == ["VIP"]


def test_the_audiences_of_a_customer(api: ApiClient, session: Session) -> None:
    customer(session, "LP-1", "Sokolova")
    for name in ("Newcomers", "Coffee lovers", "Empty"):
        audience_id = api.post(URL, json={"name": name}).json()["id"]
        if name != "Empty":
            api.post(f"{URL}/{audience_id}/members", json={"external_ids": ["LP-1"]})
    found = api.get("/api/v1/customers/LP-1/audiences")
    assert found.status_code == 200
    assert [a["name"] for a in found.json()] == ["Coffee lovers", "Newcomers"]
    assert found.json()[0]["added_at"]
    assert api.get("/api/v1/customers/NOBODY/audiences").status_code == 404
