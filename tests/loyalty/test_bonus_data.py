"""Bonus data arrive with the customer data of the API (upserts and batches): the balance and the expiring
portions are stored (portions replaced as a whole), read back at /customers/{id}/bonuses, audited, and
`bonus.changed` names the customers whose data changed; bad input is refused naming the field, writing
nothing. The profile shows them."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from smartcomm.kit.time import utcnow
from smartcomm.models import AuditEntry, LoyaltyAccount
from tests.api.conftest import ApiClient
from tests.conftest import UIClient
from tests.loyalty.conftest import changed_customers, counts, member
from tests.loyalty.data import give_bonuses

URL = "/api/v1/customers"
TODAY = utcnow().astimezone(ZoneInfo("Europe/Moscow")).date()  # the project's day (its default time zone)


def day(offset: int) -> str:
    return (TODAY + timedelta(days=offset)).isoformat()


def bonuses(api: ApiClient, external_id: str = "C-1") -> dict[str, object]:
    response = api.get(f"{URL}/{external_id}/bonuses")
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_bonus_data_sent_with_a_customer_are_stored_and_read_back(api: ApiClient, session: Session) -> None:
    body = {
        "first_name": "Anna",
        "bonus_balance": "1250.50",
        "expiring_bonuses": [
            {"amount": "300", "expires_on": day(30)},
            {"amount": "200.25", "expires_on": day(7)},
        ],
    }
    created = api.put(f"{URL}/C-1", json=body)
    assert created.status_code == 201, created.text

    stored = bonuses(api)
    assert stored["bonus_balance"] == "1250.50" and stored["points_balance"] == 0
    assert stored["expiring_bonuses"] == [
        {"amount": "200.25", "expires_on": day(7)},
        {"amount": "300.00", "expires_on": day(30)},
    ]
    assert stored["bonus_updated_at"] is not None
    customer_id = created.json()["id"]
    assert changed_customers(session) == [[customer_id]]
    entry = session.scalars(select(AuditEntry).where(AuditEntry.object_type == "customer")).one()
    assert entry.changes["bonus_balance"] == [None, "1250.50"]
    assert entry.changes["expiring_bonuses"] == [[], [f"200.25 {day(7)}", f"300.00 {day(30)}"]]


def test_portions_are_replaced_as_a_whole_and_unsent_fields_stay(api: ApiClient, session: Session) -> None:
    first = {"bonus_balance": "100", "expiring_bonuses": [{"amount": "50", "expires_on": day(3)}]}
    customer_id = api.put(f"{URL}/C-1", json=first).json()["id"]

    replaced = api.put(f"{URL}/C-1", json={"expiring_bonuses": [{"amount": "70", "expires_on": day(10)}]})
    assert replaced.status_code == 200
    stored = bonuses(api)
    assert stored["bonus_balance"] == "100.00"  # not sent: kept
    assert stored["expiring_bonuses"] == [{"amount": "70.00", "expires_on": day(10)}]

    api.put(f"{URL}/C-1", json={"city": "Kazan"})  # no bonus field: nothing about bonuses changes
    api.put(f"{URL}/C-1", json={"bonus_balance": "100.00"})  # the same balance: no change either
    assert changed_customers(session) == [[customer_id], [customer_id]]

    cleared = api.put(f"{URL}/C-1", json={"bonus_balance": None, "expiring_bonuses": []})
    assert cleared.status_code == 200
    assert bonuses(api) | {"bonus_updated_at": None} == {
        "bonus_balance": None,
        "bonus_updated_at": None,
        "expiring_bonuses": [],
        "points_balance": 0,
    }
    assert changed_customers(session)[-1] == [customer_id] and len(changed_customers(session)) == 3


def test_a_batch_stores_each_customers_bonus_data_with_one_event(api: ApiClient, session: Session) -> None:
    anna = member(session, "C-1")
    give_bonuses(session, anna.id, "10.00")
    session.commit()
    batch = {
        "customers": [
            {"external_id": "C-1", "bonus_balance": "10.00"},  # unchanged
            {
                "external_id": "C-2",
                "bonus_balance": "5",
                "expiring_bonuses": [{"amount": "5", "expires_on": day(1)}],
            },
            {"external_id": "C-3", "first_name": "Oleg"},  # no bonus data at all
            {"external_id": "C-2", "bonus_balance": "6"},  # the later item wins, its portions stay
        ]
    }
    response = api.post(f"{URL}/batch", json=batch)
    assert response.status_code == 200, response.text

    ids = {item["external_id"]: item["id"] for item in response.json()["items"]}
    assert changed_customers(session) == [[ids["C-2"]]]
    assert bonuses(api, "C-2")["bonus_balance"] == "6.00"
    assert bonuses(api, "C-2")["expiring_bonuses"] == [{"amount": "5.00", "expires_on": day(1)}]
    assert bonuses(api, "C-3")["bonus_updated_at"] is None
    assert session.get(LoyaltyAccount, ids["C-3"]) is None
    audit = session.scalars(select(AuditEntry).where(AuditEntry.object_type == "customer_batch")).one()
    assert audit.changes["bonus_changed"] == [None, 1]


def test_bad_bonus_data_are_refused_naming_the_field_and_nothing_is_written(
    api: ApiClient, session: Session
) -> None:
    before = counts(session)
    batch = {
        "customers": [
            {"external_id": "C-1", "bonus_balance": "12.5"},
            {"external_id": "C-2", "expiring_bonuses": [{"amount": "-5", "expires_on": day(1)}]},
        ]
    }
    response = api.post(f"{URL}/batch", json=batch)
    assert response.status_code == 422
    assert "customers.1.expiring_bonuses.0.amount" in response.text.replace("[", ".").replace("]", "")
    for body, field in (
        ({"bonus_balance": "1.234"}, "bonus_balance"),
        ({"expiring_bonuses": [{"amount": "5", "expires_on": "soon"}]}, "expires_on"),
        ({"expiring_bonuses": [{"amount": "5"}]}, "expires_on"),
        ({"bonus_balance": "1e30"}, "bonus_balance"),
    ):
        refused = api.put(f"{URL}/C-9", json=body)
        assert refused.status_code == 422 and field in refused.text, refused.text
    assert counts(session) == before


def test_the_profile_shows_the_bonuses(admin_client: UIClient, session: Session) -> None:
    anna = member(session, "C-1", first_name="Anna")
    give_bonuses(session, anna.id, Decimal("1250.5"), [("300", TODAY + timedelta(days=3)), ("20", TODAY)], 40)
    oleg = member(session, "C-2", first_name="Oleg")
    session.commit()

    page = admin_client.get(f"/customers/{anna.id}").text
    assert 'data-kpi="bonus-balance">1,250.50<' in page
    assert 'data-kpi="points-balance">40<' in page
    assert f'data-expires-on="{TODAY.isoformat()}"' in page and ">today<" in page
    assert "in 3 days" in page
    empty = admin_client.get(f"/customers/{oleg.id}").text
    assert 'id="no-bonus-data"' in empty and 'data-kpi="bonus-balance">—<' in empty
