"""The catalogue over the REST API: category trees and their paths, products, stores, receipt backfill."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from smartcomm.models import AuditEntry, Category, FieldDefinition, Product, ReceiptLine, Store
from tests.api.conftest import ApiClient


def categories(api: ApiClient, *items: dict[str, object]):
    return api.post("/api/v1/categories/batch", json={"categories": list(items)})


def paths(session: Session) -> dict[str, str]:
    session.expire_all()
    return {c.code: c.path for c in session.scalars(select(Category))}


def ids(session: Session) -> dict[str, int]:
    return {c.code: c.id for c in session.scalars(select(Category))}


def test_parents_may_come_later_in_the_batch(api: ApiClient, session: Session) -> None:
    response = categories(
        api,
        {"code": "milk", "name": "Milk", "parent": "dairy"},
        {"code": "dairy", "name": "Dairy", "parent": "food"},
        {"code": "food", "name": "Food"},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["created"], body["updated"]) == (3, 0)
    i = ids(session)
    expected = {
        "food": f"/{i['food']}/",
        "dairy": f"/{i['food']}/{i['dairy']}/",
        "milk": f"/{i['food']}/{i['dairy']}/{i['milk']}/",
    }
    assert paths(session) == expected
    assert {item["code"]: item["path"] for item in body["items"]} == expected
    assert {item["classifier"] for item in body["items"]} == {"default"}


def test_moving_a_category_moves_its_whole_subtree(api: ApiClient, session: Session) -> None:
    categories(
        api,
        {"code": "food", "name": "Food"},
        {"code": "dairy", "name": "Dairy", "parent": "food"},
        {"code": "milk", "name": "Milk", "parent": "dairy"},
        {"code": "kefir", "name": "Kefir", "parent": "dairy"},
    )
    moved = categories(
        api, {"code": "dairy", "name": "Dairy", "parent": "drinks"}, {"code": "drinks", "name": "Drinks"}
    )
    assert moved.status_code == 200 and (moved.json()["created"], moved.json()["updated"]) == (1, 1)
    i = ids(session)
    assert paths(session) == {
        "food": f"/{i['food']}/",
        "drinks": f"/{i['drinks']}/",
        "dairy": f"/{i['drinks']}/{i['dairy']}/",
        "milk": f"/{i['drinks']}/{i['dairy']}/{i['milk']}/",
        "kefir": f"/{i['drinks']}/{i['dairy']}/{i['kefir']}/",
    }
    # A parent not sent stays; null makes a top category.
    categories(
        api, {"code": "milk", "name": "Milk and cream"}, {"code": "dairy", "name": "Dairy", "parent": None}
    )
    assert paths(session)["milk"] == f"/{i['dairy']}/{i['milk']}/"
    assert session.scalar(select(Category.name).where(Category.code == "milk")) == "Milk and cream"


def test_cycles_and_unknown_parents_are_refused_without_writing(api: ApiClient, session: Session) -> None:
    categories(api, {"code": "food", "name": "Food"}, {"code": "dairy", "name": "Dairy", "parent": "food"})
    before = paths(session)
    cycle = categories(
        api, {"code": "food", "name": "Food", "parent": "dairy"}, {"code": "new", "name": "New"}
    )
    assert cycle.status_code == 422
    assert [(e["field"], e["code"]) for e in cycle.json()["errors"]] == [("categories[0].parent", "cycle")]
    unknown = categories(api, {"code": "new", "name": "New"}, {"code": "x", "name": "X", "parent": "nowhere"})
    assert [(e["field"], e["code"]) for e in unknown.json()["errors"]] == [
        ("categories[1].parent", "unknown")
    ]
    own = categories(api, {"code": "food", "name": "Food", "parent": "food"})
    assert [e["field"] for e in own.json()["errors"]] == ["categories[0].parent"]
    assert paths(session) == before
    other = categories(api, {"code": "y", "name": "Y", "classifier": "nope"})
    assert [e["field"] for e in other.json()["errors"]] == ["categories[0].classifier"]


def test_products_tie_earlier_receipt_lines_to_them(api: ApiClient, session: Session) -> None:
    api.put("/api/v1/customers/C-1", json={"first_name": "Ivan"})
    receipt = {
        "number": "R1",
        "store": "S1",
        "customer_external_id": "C-1",
        "purchased_at": "2026-01-10T10:00:00Z",
        "lines": [{"sku": "A1", "price": "89.90"}, {"sku": "B2", "price": "5"}, {"sku": "A1", "price": "80"}],
    }
    api.post("/api/v1/receipts", json=receipt)
    categories(api, {"code": "milk", "name": "Milk"}, {"code": "bread", "name": "Bread"})

    response = api.post(
        "/api/v1/products/batch",
        json={
            "products": [
                {
                    "sku": "A1",
                    "name": "Milk 1 l",
                    "price": "89.90",
                    "category": "milk",
                    "url": "https://shop.example/a1",
                },
                {"sku": "C3", "name": "Rye bread", "category": "bread", "stock": "12.5"},
            ]
        },
    )
    assert response.status_code == 200, response.text
    assert (response.json()["created"], response.json()["receipt_lines_linked"]) == (2, 2)
    milk_id = ids(session)["milk"]
    product_id = session.scalar(select(Product.id).where(Product.sku == "A1"))
    lines = session.execute(
        select(ReceiptLine.sku, ReceiptLine.product_id, ReceiptLine.category_id).order_by(
            ReceiptLine.position
        )
    ).all()
    assert [tuple(line) for line in lines] == [
        ("A1", product_id, milk_id),
        ("B2", None, None),
        ("A1", product_id, milk_id),
    ]

    # A product that moves to another category keeps the category its earlier sales were made in.
    moved = api.post(
        "/api/v1/products/batch", json={"products": [{"sku": "A1", "name": "Milk", "category": "bread"}]}
    )
    assert (moved.json()["updated"], moved.json()["receipt_lines_linked"]) == (1, 0)
    assert session.scalar(select(func.count()).where(ReceiptLine.category_id == milk_id)) == 2
    # A receipt that arrives after its product gets the product at once.
    api.post("/api/v1/receipts", json=receipt | {"number": "R2", "lines": [{"sku": "C3", "price": "40"}]})
    assert session.scalar(select(ReceiptLine.product_id).where(ReceiptLine.sku == "C3")) is not None


def test_products_keep_unsent_fields_and_validate_custom_fields(api: ApiClient, session: Session) -> None:
    session.add_all(
        [
            FieldDefinition(object="product", code="brand", name="Brand", type="string"),
            FieldDefinition(object="product", code="weight", name="Weight", type="decimal"),
        ]
    )
    session.commit()
    categories(api, {"code": "milk", "name": "Milk"})
    first = api.post(
        "/api/v1/products/batch",
        json={
            "products": [
                {
                    "sku": "A1",
                    "name": "Milk",
                    "price": "89.90",
                    "category": "milk",
                    "custom": {"brand": "Acme", "weight": "1,5"},
                },
            ]
        },
    )
    assert first.status_code == 200, first.text
    api.post(
        "/api/v1/products/batch", json={"products": [{"sku": "A1", "name": "Milk 1 l", "is_active": False}]}
    )
    product = api.get("/api/v1/products/A1").json()
    assert (product["name"], product["price"], product["category"], product["is_active"]) == (
        "Milk 1 l",
        "89.90",
        "milk",
        False,
    )
    assert product["custom"] == {"brand": "Acme", "weight": "1.5"} and product["classifier"] == "default"

    refused = api.post(
        "/api/v1/products/batch",
        json={
            "products": [
                {"sku": "B1", "name": "Bread"},
                {"sku": "B2", "name": "Bun", "custom": {"weight": "heavy"}},
                {"sku": "B3", "name": "Roll", "category": "nowhere"},
            ]
        },
    )
    assert refused.status_code == 422
    assert [e["field"] for e in refused.json()["errors"]] == [
        "products[1].custom.weight",
        "products[2].category",
    ]
    assert session.scalar(select(func.count()).select_from(Product)) == 1
    assert api.get("/api/v1/products/B1").status_code == 404


def test_stores_are_upserted_by_code(api: ApiClient, session: Session) -> None:
    created = api.post(
        "/api/v1/stores/batch",
        json={
            "stores": [
                {"code": "S1", "name": "Tverskaya", "city": "Moscow", "time_zone": "Europe/Moscow"},
                {"code": "web", "name": "Online shop", "is_online": True},
            ]
        },
    )
    assert created.status_code == 200 and created.json()["created"] == 2
    updated = api.post("/api/v1/stores/batch", json={"stores": [{"code": "S1", "name": "Tverskaya 7"}]})
    assert (updated.json()["created"], updated.json()["updated"]) == (0, 1)
    listed = api.get("/api/v1/stores").json()
    assert [(s["code"], s["name"], s["city"], s["time_zone"], s["is_online"]) for s in listed["items"]] == [
        ("S1", "Tverskaya 7", "Moscow", "Europe/Moscow", False),
        ("web", "Online shop", None, None, True),
    ]
    bad = api.post(
        "/api/v1/stores/batch", json={"stores": [{"code": "S2", "name": "X", "time_zone": "Mars/Base"}]}
    )
    assert [e["field"] for e in bad.json()["errors"]] == ["stores[0].time_zone"]
    assert session.scalar(select(func.count()).select_from(Store)) == 2


def test_classifiers_list_the_main_catalogue_first(api: ApiClient) -> None:
    classifiers = api.get("/api/v1/classifiers").json()
    assert (classifiers[0]["code"], classifiers[0]["is_system"]) == ("default", True)


def test_each_catalogue_batch_is_one_history_row(api: ApiClient, session: Session) -> None:
    categories(api, {"code": "milk", "name": "Milk"}, {"code": "bread", "name": "Bread"})
    api.post(
        "/api/v1/products/batch",
        json={"products": [{"sku": "A1", "name": "Milk"}, {"sku": "A2", "name": "Kefir"}]},
    )
    api.post("/api/v1/stores/batch", json={"stores": [{"code": "S1", "name": "Main"}]})
    entries = session.scalars(
        select(AuditEntry).where(AuditEntry.object_type.like("%_batch")).order_by(AuditEntry.id)
    ).all()
    assert [(e.object_type, e.object_id, e.actor_kind, e.actor_id) for e in entries] == [
        ("category_batch", "2 categories", "api", api.user.id),
        ("product_batch", "2 products", "api", api.user.id),
        ("store_batch", "1 stores", "api", api.user.id),
    ]
    assert entries[1].changes == {
        "created": [None, 2],
        "updated": [None, 0],
        "receipt_lines_linked": [None, 0],
    }


def test_a_classifier_lists_its_category_tree_in_tree_order(api: ApiClient, session: Session) -> None:
    categories(
        api,
        {"code": "milk", "name": "Milk", "parent": "dairy"},
        {"code": "drinks", "name": "Drinks"},
        {"code": "dairy", "name": "Dairy", "parent": "food"},
        {"code": "food", "name": "Food"},
        {"code": "bread", "name": "Bread", "parent": "food"},
        {"code": "kefir", "name": "Kefir", "parent": "dairy", "custom": {}},
    )
    categories(api, {"code": "tea", "name": "Tea", "classifier": None})

    response = api.get("/api/v1/classifiers/default/categories")

    assert response.status_code == 200
    listed = [(c["code"], c["parent"], c["level"], "/".join(c["path"])) for c in response.json()]
    assert listed == [
        ("drinks", None, 1, "drinks"),
        ("food", None, 1, "food"),
        ("bread", "food", 2, "food/bread"),
        ("dairy", "food", 2, "food/dairy"),
        ("kefir", "dairy", 3, "food/dairy/kefir"),
        ("milk", "dairy", 3, "food/dairy/milk"),
        ("tea", None, 1, "tea"),
    ]
    first = response.json()[3]
    assert (first["id"], first["parent_id"], first["name"]) == (
        ids(session)["dairy"],
        ids(session)["food"],
        "Dairy",
    )


def test_an_unknown_classifier_has_no_tree(api: ApiClient) -> None:
    response = api.get("/api/v1/classifiers/nowhere/categories")

    assert response.status_code == 404
    assert response.json()["errors"][0]["title"] == "Classifier nowhere not found"
