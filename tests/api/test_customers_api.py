"""Customers over the REST API: upserts, batches, consent, contacts, subscriptions, receipts, history."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from smartcomm.models import AuditEntry, Customer, FieldDefinition, MailingCategory, PushToken, Subscription
from tests.api.conftest import ApiClient

URL = "/api/v1/customers"


def count(session: Session, model: type, *conditions: object) -> int:
    return int(session.scalar(select(func.count()).select_from(model).where(*conditions)) or 0)


def add_categories(session: Session, *codes: str) -> None:
    session.add_all([MailingCategory(code=code, name=code.title()) for code in codes])
    session.commit()


def test_put_creates_then_changes_only_the_fields_sent(api: ApiClient, session: Session) -> None:
    created = api.put(
        f"{URL}/C-1",
        json={
            "first_name": "Ivan",
            "last_name": "Petrov",
            "phone": "8 (916) 123-45-67",
            "email": " Ivan.Petrov@Example.COM",
            "gender": "male",
            "birth_date": "1990-05-17",
        },
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert (body["external_id"], body["phone"], body["phone_type"], body["phone_valid"]) == (
        "C-1",
        "+79161234567",
        "mobile",
        True,
    )
    assert (body["email"], body["email_valid"], body["gender"]) == ("ivan.petrov@example.com", True, "m")

    updated = api.put(f"{URL}/C-1", json={"city": "Kazan", "email": "not-an-email"})
    assert updated.status_code == 200
    after = api.get(f"{URL}/C-1").json()
    assert (after["first_name"], after["last_name"], after["birth_date"], after["phone"]) == (
        "Ivan",
        "Petrov",
        "1990-05-17",
        "+79161234567",
    )
    assert (after["city"], after["email"], after["email_valid"]) == ("Kazan", "not-an-email", False)
    assert after["id"] == body["id"] and count(session, Customer) == 1


def test_put_with_another_external_id_in_the_body_is_refused(api: ApiClient, session: Session) -> None:
    response = api.put(f"{URL}/C-1", json={"external_id": "C-2", "first_name": "Ivan"})
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["external_id"]
    assert count(session, Customer) == 0
    same = api.put(f"{URL}/C-1", json={"external_id": "C-1", "first_name": "Ivan"})
    assert same.status_code == 201


def test_unknown_customer_is_a_json_404(api: ApiClient) -> None:
    response = api.get(f"{URL}/NOPE")
    assert response.status_code == 404
    assert response.json()["errors"][0] == {
        "status": 404,
        "code": "not_found",
        "title": "Customer NOPE not found",
        "field": None,
    }
    assert api.get(f"{URL}/NOPE/channel").status_code == 404


def test_batch_creates_and_updates(api: ApiClient, session: Session) -> None:
    api.put(f"{URL}/B-1", json={"first_name": "Old"})
    response = api.post(
        f"{URL}/batch",
        json={
            "customers": [
                {"external_id": "B-1", "first_name": "Anna"},
                {"external_id": "B-2", "phone": "+7 916 765 43 21"},
            ]
        },
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["created"], body["updated"]) == (1, 1)
    assert [(i["external_id"], i["created"]) for i in body["items"]] == [("B-1", False), ("B-2", True)]
    assert api.get(f"{URL}/B-1").json()["first_name"] == "Anna"
    assert api.get(f"{URL}/B-2").json()["phone"] == "+79167654321"


def test_one_bad_item_rejects_the_batch_and_writes_nothing(api: ApiClient, session: Session) -> None:
    session.add(FieldDefinition(object="customer", code="shoe_size", name="Shoe size", type="integer"))
    session.commit()
    response = api.post(
        f"{URL}/batch",
        json={
            "customers": [
                {"external_id": "B-1", "custom": {"shoe_size": 42}},
                {"external_id": "B-2", "custom": {"shoe_size": "big"}},
                {"external_id": "B-3", "custom": {"hat": "L"}},
            ]
        },
    )
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == [
        "customers[1].custom.shoe_size",
        "customers[2].custom.hat",
    ]
    assert count(session, Customer) == 0
    assert count(session, AuditEntry, AuditEntry.object_type == "customer_batch") == 0

    invalid = api.post(
        f"{URL}/batch", json={"customers": [{"external_id": "B-1"}, {"external_id": "B-2", "gender": "x"}]}
    )
    assert invalid.status_code == 422
    assert [e["field"] for e in invalid.json()["errors"]] == ["customers[1].gender"]
    assert count(session, Customer) == 0


def test_channel_permissions_round_trip(api: ApiClient, session: Session) -> None:
    api.put(f"{URL}/C-1", json={"first_name": "Ivan"})
    assert api.get(f"{URL}/C-1/channel").json() == {"email": True, "sms": True, "viber": True, "push": True}

    changed = api.post(f"{URL}/C-1/channel", json={"sms": False, "push": False})
    assert changed.status_code == 200
    assert changed.json() == {"email": True, "sms": False, "viber": True, "push": False}
    assert api.get(f"{URL}/C-1/channel").json() == {"email": True, "sms": False, "viber": True, "push": False}
    assert api.post(f"{URL}/C-1/channel", json={"fax": True}).json()["errors"][0]["field"] == "fax"


def test_subscriptions_follow_y_n_nd(api: ApiClient, session: Session) -> None:
    add_categories(session, "news", "promo", "digest")
    api.put(f"{URL}/C-1", json={"first_name": "Ivan"})
    first = api.patch(
        f"{URL}/C-1/subscribe",
        json={
            "categories": {
                "news": {"email": "Y", "sms": "N"},
                "promo": {"email": "Y"},
                "digest": {"push": "Y"},
            }
        },
    )
    assert first.status_code == 200, first.text
    assert {s["category"]: (s["email"], s["sms"], s["push"]) for s in first.json()} == {
        "digest": (None, None, True),
        "news": (True, False, None),
        "promo": (True, None, None),
    }

    api.patch(f"{URL}/C-1/subscribe", json={"categories": {"promo": {"email": "ND"}, "news": {"email": "N"}}})
    listed = api.get(f"{URL}/C-1/subscribe").json()
    # Only categories subscribed on some channel are listed: news is now off everywhere, promo was left.
    assert [(s["category"], s["push"]) for s in listed] == [("digest", True)]
    customer_id = api.get(f"{URL}/C-1").json()["id"]
    rows = session.execute(
        select(MailingCategory.code, Subscription.channel, Subscription.subscribed)
        .join(MailingCategory, MailingCategory.id == Subscription.category_id)
        .where(Subscription.customer_id == customer_id)
        .order_by(MailingCategory.code, Subscription.channel)
    ).all()
    assert [tuple(row) for row in rows] == [
        ("digest", "push", True),
        ("news", "email", False),
        ("news", "sms", False),
    ]


def test_unknown_category_names_it_and_changes_nothing(api: ApiClient, session: Session) -> None:
    add_categories(session, "news")
    api.put(f"{URL}/C-1", json={"first_name": "Ivan"})
    response = api.patch(
        f"{URL}/C-1/subscribe", json={"categories": {"news": {"email": "Y"}, "nope": {"sms": "Y"}}}
    )
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["categories.nope"]
    assert count(session, Subscription) == 0
    bad_value = api.patch(f"{URL}/C-1/subscribe", json={"categories": {"news": {"email": "maybe"}}})
    assert bad_value.json()["errors"][0]["field"] == "categories.news.email"


def test_contacts_are_normalised_and_push_tokens_move_to_their_last_owner(
    api: ApiClient, session: Session
) -> None:
    api.put(f"{URL}/A", json={"first_name": "Anna"})
    api.put(f"{URL}/B", json={"first_name": "Boris"})
    token = {"token": "fcm-token-0001", "platform": "android", "app": "shop"}
    response = api.post(f"{URL}/A/contacts", json={"phone": "8 (916) 123-45-67", "push_tokens": [token]})
    assert response.status_code == 204 and response.content == b""
    assert api.get(f"{URL}/A").json()["phone"] == "+79161234567"

    again = api.post(f"{URL}/B/contacts", json={"push_tokens": [{**token, "platform": "ios"}]})
    assert again.status_code == 204
    stored = session.scalars(select(PushToken)).all()
    owner = session.scalar(select(Customer.external_id).where(Customer.id == stored[0].customer_id))
    assert [(t.token, t.platform) for t in stored] == [("fcm-token-0001", "ios")] and owner == "B"


def test_customer_receipts_come_paged_with_lines(api: ApiClient) -> None:
    api.put(f"{URL}/C-1", json={"first_name": "Ivan"})
    receipts = [
        {
            "number": f"R{n}",
            "store": "S1",
            "customer_external_id": "C-1",
            "purchased_at": f"2026-0{n}-10T10:00:00Z",
            "lines": [{"sku": "A", "quantity": "2", "price": "10.50"}, {"sku": "B", "price": "1"}],
        }
        for n in (1, 2, 3)
    ]
    assert api.post("/api/v1/receipts/batch", json={"receipts": receipts}).status_code == 200
    first = api.get(f"{URL}/C-1/receipts?page=1&size=2").json()
    assert (first["total"], first["pages"], [r["number"] for r in first["items"]]) == (3, 2, ["R3", "R2"])
    assert [(line["sku"], line["amount"]) for line in first["items"][0]["lines"]] == [
        ("A", "21.00"),
        ("B", "1.00"),
    ]
    second = api.get(f"{URL}/C-1/receipts?page=2&size=2").json()
    assert [r["number"] for r in second["items"]] == ["R1"]
    customer = api.get(f"{URL}/C-1").json()
    assert (customer["receipt_count"], Decimal(customer["total_amount"])) == (3, Decimal("66.00"))


def test_api_changes_are_in_the_history_as_the_api_client(api: ApiClient, session: Session) -> None:
    created = api.put(f"{URL}/C-1", json={"first_name": "Ivan"}).json()
    api.post(f"{URL}/C-1/channel", json={"email": False})
    api.post(f"{URL}/batch", json={"customers": [{"external_id": "C-2"}]})
    entries = session.scalars(
        select(AuditEntry)
        .where(AuditEntry.object_type.in_(["customer", "customer_batch"]))
        .order_by(AuditEntry.id)
    ).all()
    assert [(e.object_type, e.object_id, e.action) for e in entries] == [
        ("customer", str(created["id"]), "create"),
        ("customer", str(created["id"]), "update"),
        ("customer_batch", "1 customers", "upsert"),
    ]
    assert {(e.actor_kind, e.actor_id) for e in entries} == {("api", api.user.id)}
    assert entries[1].changes == {"allow_email": [True, False]}
