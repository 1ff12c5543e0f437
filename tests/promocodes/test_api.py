"""Promo codes over the API: groups, adding and generating codes, issuing, redeeming (also through a
receipt), blocking; who may read and write; hostile input answers 4xx naming the field."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from smartcomm.auth.permissions import Role
from smartcomm.models import PromoCodeGroup, Receipt
from tests.api.conftest import ApiClient, api_client
from tests.mailings.helpers import staff_api
from tests.promocodes.helpers import actions, codes_of, count_codes, make_customer

GROUP = {"name": "Spring", "code": "SPRING", "nominal": "500 ₽", "valid_from": "2026-03-01"}


@pytest.fixture
def api(client: TestClient, session: Session) -> ApiClient:
    return api_client(client, session)


@pytest.fixture
def group_id(api: ApiClient) -> int:
    created = api.post("/api/v1/promocode-groups", json=GROUP)
    assert created.status_code == 201, created.text
    return int(created.json()["id"])


def test_a_group_is_created_filled_listed_and_its_codes_paged(
    api: ApiClient, session: Session, group_id: int
) -> None:
    added = api.post(f"/api/v1/promocode-groups/{group_id}/codes", json={"codes": ["S-1", "S-2", "S-3"]})
    assert added.status_code == 201, added.text
    assert added.json()["added"] == 3 and added.json()["counts"]["active"] == 3
    generated = api.post(
        f"/api/v1/promocode-groups/{group_id}/codes/generate",
        json={"format": "{string('A-Z', 4)}{string('0-9', 4)}", "quantity": 500},
    )
    assert generated.status_code == 201, generated.text
    listed = api.get("/api/v1/promocode-groups").json()
    assert [(g["code"], g["counts"]["total"], g["stock"]) for g in listed] == [("SPRING", 503, "ok")]
    page = api.get(
        f"/api/v1/promocode-groups/{group_id}/codes", params={"status": "active", "size": 10}
    ).json()
    assert page["total"] == 503 and len(page["items"]) == 10
    assert actions(session) == ["create", "add_codes", "generate_codes"]


def test_a_group_code_is_unique_in_any_letter_case(api: ApiClient, group_id: int) -> None:
    taken = api.post("/api/v1/promocode-groups", json=GROUP | {"code": "spring"})
    assert taken.status_code == 409 and taken.json()["errors"][0]["field"] == "code"


def test_a_customer_gets_a_code_once_per_idempotency_key_and_redeems_it(
    api: ApiClient, session: Session, group_id: int
) -> None:
    customer = make_customer(session, "LP-7")
    session.commit()
    api.post(f"/api/v1/promocode-groups/{group_id}/codes", json={"codes": ["S-1", "S-2"]})
    first = api.post(
        f"/api/v1/promocode-groups/{group_id}/issue", json={"customer_external_id": "LP-7"}, key="k1"
    )
    again = api.post(
        f"/api/v1/promocode-groups/{group_id}/issue", json={"customer_external_id": "LP-7"}, key="k1"
    )
    assert first.status_code == 201, first.text
    assert again.json()["code"] == first.json()["code"] and first.json()["customer_id"] == customer.id
    redeemed = api.post("/api/v1/promocodes/redeem", json={"code": first.json()["code"]})
    assert redeemed.status_code == 200 and redeemed.json()["status"] == "redeemed"
    twice = api.post("/api/v1/promocodes/redeem", json={"code": first.json()["code"]})
    assert twice.status_code == 409
    mine = api.get("/api/v1/customers/LP-7/promocodes").json()
    assert [c["code"] for c in mine["items"]] == [first.json()["code"]]
    assert api.post("/api/v1/promocodes/redeem", json={"code": "NOPE"}).status_code == 404


def test_an_exhausted_group_answers_409_and_a_blocked_code_is_never_issued(
    api: ApiClient, session: Session, group_id: int
) -> None:
    make_customer(session, "LP-8")
    session.commit()
    api.post(f"/api/v1/promocode-groups/{group_id}/codes", json={"codes": ["S-1"]})
    assert api.post("/api/v1/promocodes/block", json={"code": "S-1"}).json()["blocked"] is True
    refused = api.post(f"/api/v1/promocode-groups/{group_id}/issue", json={"customer_external_id": "LP-8"})
    assert refused.status_code == 409
    assert api.post("/api/v1/promocodes/redeem", json={"code": "S-1"}).status_code == 409
    assert codes_of(session, group_id)["S-1"].status == "active"


def test_a_group_that_issued_codes_is_blocked_instead_of_deleted(
    api: ApiClient, session: Session, group_id: int
) -> None:
    make_customer(session, "LP-9")
    session.commit()
    api.post(f"/api/v1/promocode-groups/{group_id}/codes", json={"codes": ["S-1"]})
    api.post(f"/api/v1/promocode-groups/{group_id}/issue", json={"customer_external_id": "LP-9"})
    refused = api.request("DELETE", f"/api/v1/promocode-groups/{group_id}")
    assert refused.status_code == 409 and "block it instead" in refused.json()["errors"][0]["title"]
    assert api.post(f"/api/v1/promocode-groups/{group_id}/block").json()["blocked"] is True
    assert session.get(PromoCodeGroup, group_id) is not None


def test_a_receipt_carrying_codes_redeems_them_after_it_is_stored(
    api: ApiClient, session: Session, group_id: int
) -> None:
    customer = make_customer(session, "LP-10")
    session.commit()
    api.post(f"/api/v1/promocode-groups/{group_id}/codes", json={"codes": ["S-1", "S-2", "S-3"]})
    api.post("/api/v1/promocodes/block", json={"code": "S-3"})
    receipt = {
        "number": "R-1",
        "store": "MAIN",
        "customer_external_id": "LP-10",
        "purchased_at": "2026-12-01T10:00:00+03:00",
        "total": "990.00",
        "promo_codes": [" S-1 ", "S-3", "UNKNOWN"],
    }
    written = api.post("/api/v1/receipts", json=receipt)
    assert written.status_code == 200, written.text
    stored = session.scalars(select(Receipt).where(Receipt.number == "R-1")).one()
    assert stored.promo_codes == ["S-1", "S-3", "UNKNOWN"]
    codes = codes_of(session, group_id)  # the events were dispatched when the request committed
    assert (codes["S-1"].status, codes["S-1"].receipt_id, codes["S-1"].customer_id) == (
        "redeemed",
        stored.id,
        customer.id,
    )
    assert codes["S-1"].redeemed_at is not None
    assert (codes["S-2"].status, codes["S-3"].status) == ("active", "active")


def test_too_many_receipt_codes_are_refused_naming_the_field(api: ApiClient) -> None:
    receipt = {
        "number": "R-2",
        "store": "MAIN",
        "customer_external_id": "LP-11",
        "purchased_at": "2026-12-01T10:00:00+03:00",
        "total": "1",
        "promo_codes": [f"C{n}" for n in range(21)],
    }
    refused = api.post("/api/v1/receipts", json=receipt)
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "promo_codes"


@pytest.mark.parametrize(
    ("url", "body", "field"),
    [
        ("/api/v1/promocode-groups", {"name": "X", "code": "BAD CODE"}, "code"),
        (
            "/api/v1/promocode-groups",
            {"name": "X", "code": "A", "valid_from": "2026-02-01", "valid_to": "2026-01-01"},
            None,
        ),
        ("/api/v1/promocode-groups", {"name": "X\u0000", "code": "A"}, "name"),
        (
            "/api/v1/promocode-groups/{id}/codes/generate",
            {"format": "{string('A-Z', 2)}", "quantity": 1000},
            "format",
        ),
        (
            "/api/v1/promocode-groups/{id}/codes/generate",
            {"format": "{string('A-Z'", "quantity": 10},
            "format",
        ),
        (
            "/api/v1/promocode-groups/{id}/codes/generate",
            {"format": "A{string('A-Z', 9)}", "quantity": 10**7},
            "quantity",
        ),
        ("/api/v1/promocode-groups/{id}/codes", {"codes": ["ok", "bad code", "x" * 65]}, "codes[1]"),
        ("/api/v1/promocode-groups/{id}/codes", {"codes": []}, "codes"),
        ("/api/v1/promocodes/redeem", {"code": ""}, "code"),
        ("/api/v1/promocodes/redeem", {"code": "x" * 1000}, "code"),
        ("/api/v1/promocode-groups/{id}/issue", {"customer_id": 2**70}, "customer_id"),
    ],
)
def test_hostile_input_answers_4xx_naming_the_field_and_writes_nothing(
    api: ApiClient, session: Session, group_id: int, url: str, body: dict[str, object], field: str | None
) -> None:
    before = count_codes(session)
    answer = api.post(url.replace("{id}", str(group_id)), json=body)
    assert 400 <= answer.status_code < 500, answer.text
    if field is not None:
        assert field in {error.get("field") for error in answer.json()["errors"]}, answer.text
    assert count_codes(session) == before


def test_the_api_role_reads_and_writes_and_staff_tokens_may_not(
    client: TestClient, session: Session, group_id: int
) -> None:
    for role in (Role.ANALYST, Role.MARKETER):
        staff = staff_api(client, session, role)
        session.commit()
        assert staff.get("/api/v1/promocode-groups").status_code == 403
        assert staff.post("/api/v1/promocode-groups", json=GROUP | {"code": "OTHER"}).status_code == 403
    integration = api_client(client, session, name="Till")
    assert integration.get(f"/api/v1/promocode-groups/{group_id}").status_code == 200
    assert client.get("/api/v1/promocode-groups").status_code == 401
