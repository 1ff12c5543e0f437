"""Segments over the REST API: rule trees validated by path, live counts, builds, members, the catalogue."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from smartcomm.models import AuditEntry, Segment, SegmentBuild
from tests.api.conftest import ApiClient, api_client
from tests.segments.shop import Shop, build_shop

URL = "/api/v1/segments"


@pytest.fixture
def api(client: TestClient, session: Session) -> Iterator[ApiClient]:
    yield api_client(client, session)


@pytest.fixture
def shop(session: Session) -> Shop:
    made = build_shop(session)
    session.commit()
    return made


def stored_segments(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(Segment)) or 0)


def test_create_builds_the_segment_and_reads_back(api: ApiClient, session: Session, shop: Shop) -> None:
    created = api.post(
        URL, json={"name": "Dairy lovers", "description": "Twice in 90 days", "rules": shop.rules()}
    )

    assert created.status_code == 201, created.text
    segment_id = created.json()["id"]
    # The build queued after the commit ran at once (jobs run in-process in tests).
    body = api.get(f"{URL}/{segment_id}").json()
    assert (body["name"], body["member_count"], body["last_build_status"]) == ("Dairy lovers", 2, "done")
    assert body["base_share"] == pytest.approx(0.3333, abs=1e-4)
    assert (body["revenue_share"], body["average_receipt"], body["ltv"]) == (0.4, "154.14", "539.50")
    assert body["rules"]["root"]["children"][0]["params"]["period"] == {
        "kind": "last",
        "n": 90,
        "unit": "days",
    }
    listed = api.get(URL, params={"q": "dairy"}).json()
    assert (listed["total"], [item["id"] for item in listed["items"]]) == (1, [segment_id])


def test_an_invalid_condition_is_refused_by_its_path_and_nothing_is_written(
    api: ApiClient, session: Session, shop: Shop
) -> None:
    rules = shop.rules()
    rules["root"]["children"][2]["params"] = {"audience": "the blocked ones"}

    response = api.post(URL, json={"name": "Broken", "rules": rules})

    assert response.status_code == 422
    assert response.json()["errors"] == [
        {
            "status": 422,
            "code": "invalid_condition",
            "title": "the parameter 'audience' is an id, or a name given as {\"name\": …}",
            "field": "root.children[2]",
        }
    ]
    assert stored_segments(session) == 0
    assert (
        session.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.object_type == "segment")
        )
        == 0
    )


def test_an_unknown_operator_in_a_nested_group_is_named(api: ApiClient, session: Session, shop: Shop) -> None:
    rules = {
        "root": {
            "children": [{"children": [{"metric": "profile.city", "operator": "gte", "value": "Moscow"}]}]
        }
    }

    response = api.post(f"{URL}/preview", json=rules)

    assert response.status_code == 422
    (error,) = response.json()["errors"]
    assert (error["field"], error["title"]) == (
        "root.children[0].children[0]",
        "operator 'gte' does not apply to profile.city",
    )


def test_preview_counts_without_saving(api: ApiClient, session: Session, shop: Shop) -> None:
    response = api.post(f"{URL}/preview", json=shop.rules())

    assert (response.status_code, response.json()) == (200, {"count": 2, "base": 6, "base_share": 0.3333})
    assert stored_segments(session) == 0


def test_patch_renames_or_changes_the_rules_and_refuses_bad_ones(
    api: ApiClient, session: Session, shop: Shop
) -> None:
    segment_id = api.post(URL, json={"name": "Dairy lovers", "rules": shop.rules()}).json()["id"]
    rules = shop.rules()
    rules["root"]["children"].pop()  # without "not in the audience": Boris joins

    renamed = api.patch(f"{URL}/{segment_id}", json={"name": "Dairy fans"})
    changed = api.patch(f"{URL}/{segment_id}", json={"rules": rules})
    broken = api.patch(
        f"{URL}/{segment_id}", json={"rules": {"root": {"children": [{"metric": "nope", "operator": "eq"}]}}}
    )

    assert (renamed.json()["name"], renamed.json()["member_count"]) == ("Dairy fans", 2)
    assert changed.status_code == 200
    assert api.get(f"{URL}/{segment_id}").json()["member_count"] == 3
    assert broken.status_code == 422
    assert broken.json()["errors"][0]["field"] == "root.children[0]"
    assert len(api.get(f"{URL}/{segment_id}").json()["rules"]["root"]["children"]) == 2


def test_builds_are_queued_and_listed(api: ApiClient, session: Session, shop: Shop) -> None:
    segment_id = api.post(URL, json={"name": "Dairy lovers", "rules": shop.rules()}).json()["id"]

    queued = api.post(f"{URL}/{segment_id}/builds")
    builds = api.get(f"{URL}/{segment_id}/builds").json()

    assert (queued.status_code, queued.json()) == (202, {"segment_id": segment_id, "status": "queued"})
    assert [(b["trigger"], b["status"], b["members"]) for b in builds] == [
        ("manual", "done", 2),
        ("rules", "done", 2),
    ]
    assert [(b["entered"], b["exited"]) for b in builds] == [(0, 0), (2, 0)]
    assert session.scalar(select(func.count()).select_from(SegmentBuild)) == 2


def test_members_are_paged_by_name(api: ApiClient, session: Session, shop: Shop) -> None:
    segment_id = api.post(URL, json={"name": "Dairy lovers", "rules": shop.rules()}).json()["id"]

    first = api.get(f"{URL}/{segment_id}/members", params={"page": 1, "size": 1}).json()
    second = api.get(f"{URL}/{segment_id}/members", params={"page": 2, "size": 1}).json()

    assert (first["total"], first["pages"]) == (2, 2)
    assert [m["external_id"] for m in first["items"] + second["items"]] == ["C-1", "C-5"]
    assert first["items"][0]["email"] == "anna@example.com"


def test_a_customers_segments(api: ApiClient, session: Session, shop: Shop) -> None:
    first = api.post(URL, json={"name": "Dairy lovers", "rules": shop.rules()}).json()["id"]
    everyone = api.post(URL, json={"name": "Everyone", "rules": {"root": {"children": []}}}).json()["id"]

    anna = api.get("/api/v1/customers/C-1/segments").json()
    boris = api.get("/api/v1/customers/C-2/segments").json()
    missing = api.get("/api/v1/customers/NOPE/segments")

    assert [(s["id"], s["name"]) for s in anna] == [(first, "Dairy lovers"), (everyone, "Everyone")]
    assert [s["name"] for s in boris] == ["Everyone"]
    assert missing.status_code == 404


def test_delete_refuses_a_segment_another_one_uses(api: ApiClient, session: Session, shop: Shop) -> None:
    base = api.post(URL, json={"name": "Dairy lovers", "rules": shop.rules()}).json()["id"]
    condition = {"metric": "segments.member", "operator": "is_true", "params": {"segment": base}}
    user = api.post(URL, json={"name": "Loyal dairy", "rules": {"root": {"children": [condition]}}}).json()[
        "id"
    ]

    refused = api.request("DELETE", f"{URL}/{base}")
    assert (refused.status_code, refused.json()["errors"][0]["title"]) == (
        409,
        "The segment is used by: Loyal dairy",
    )
    assert stored_segments(session) == 2

    assert api.request("DELETE", f"{URL}/{user}").status_code == 204
    assert api.request("DELETE", f"{URL}/{base}").status_code == 204
    assert stored_segments(session) == 0


def test_the_metric_catalogue_describes_every_metric_and_custom_fields(
    api: ApiClient, session: Session
) -> None:
    from smartcomm.audit.actor import Actor
    from smartcomm.datasettings.fields import FieldCreate, field_settings

    field_settings.create(
        session,
        Actor.system("tests"),
        FieldCreate(object="customer", code="shoe_size", name="Shoe size", type="integer"),
    )
    session.commit()

    catalogue = {m["key"]: m for m in api.get(f"{URL}/metrics").json()}

    bought = catalogue["purchases.category_count"]
    assert (bought["label"], bought["group"], bought["value_type"]) == (
        "Bought from the category (times)",
        "Purchases",
        "integer",
    )
    assert [o["key"] for o in bought["operators"]] == [
        "eq",
        "ne",
        "gt",
        "gte",
        "lt",
        "lte",
        "between",
        "empty",
        "not_empty",
    ]
    assert bought["operators"][3] == {"key": "gte", "label": "is at least"}
    assert bought["params"] == [
        {"name": "category", "label": "Category (with subcategories)", "kind": "category", "required": True},
        {"name": "period", "label": "Period", "kind": "period", "required": False},
    ]
    assert catalogue["profile.gender"]["choices"] == [
        {"value": "m", "label": "Male"},
        {"value": "f", "label": "Female"},
    ]
    assert catalogue["custom.shoe_size"]["label"] == "Shoe size"
    assert catalogue["custom.shoe_size"]["group"] == "Custom fields"
    groups = list(dict.fromkeys(m["group"] for m in catalogue.values()))
    assert groups[:4] == ["Profile", "Custom fields", "Contacts and consent", "Purchases"]


def test_the_api_needs_a_token(client: TestClient) -> None:
    assert client.get(URL).status_code == 401


# ---------------------------------------------------------------- rows named by key


def keyed_rules(shop: Shop) -> dict[str, object]:
    """The shop's rules naming the category and the audience by key instead of by id."""
    rules = shop.rules()
    children = rules["root"]["children"]
    children[0]["params"]["category"] = {"code": "dairy"}
    children[2]["params"]["audience"] = {"name": "do not DISTURB"}
    return rules


def test_rules_may_name_rows_by_key_and_select_what_ids_select(
    api: ApiClient, session: Session, shop: Shop
) -> None:
    by_id = api.post(f"{URL}/preview", json=shop.rules()).json()
    by_key = api.post(f"{URL}/preview", json=keyed_rules(shop)).json()

    created = api.post(URL, json={"name": "Dairy by code", "rules": keyed_rules(shop)})

    assert by_key == by_id and by_id["count"] == 2
    assert created.status_code == 201, created.text
    params = [child.get("params", {}) for child in created.json()["rules"]["root"]["children"]]
    # The key stays as given, with the id it names beside it.
    assert params[0]["category"] == {"code": "dairy", "id": shop.dairy_id}
    assert params[2]["audience"] == {"name": "do not DISTURB", "id": shop.audience_id}
    assert api.get(f"{URL}/{created.json()['id']}").json()["member_count"] == 2


def test_a_tree_copied_from_another_installation_follows_its_keys_not_its_ids(
    api: ApiClient, session: Session, shop: Shop
) -> None:
    rules = keyed_rules(shop)
    # Ids of another installation travel beside the keys: here they name other rows, or none.
    rules["root"]["children"][0]["params"]["category"] = {"code": "dairy", "id": shop.food_id}
    rules["root"]["children"][2]["params"]["audience"] = {"name": "Do not disturb", "id": 987654}

    created = api.post(URL, json={"name": "Copied", "rules": rules})

    children = created.json()["rules"]["root"]["children"]
    assert children[0]["params"]["category"]["id"] == shop.dairy_id
    assert children[2]["params"]["audience"]["id"] == shop.audience_id


def test_products_stores_and_segments_by_key(api: ApiClient, session: Session, shop: Shop) -> None:
    base = api.post(URL, json={"name": "Dairy lovers", "rules": shop.rules()}).json()
    condition = {
        "metric": "purchases.product_count",
        "operator": "gte",
        "value": 1,
        "params": {"product": {"sku": "MILK-1"}},
    }
    in_store = {
        "metric": "purchases.count",
        "operator": "gte",
        "value": 1,
        "params": {"store": {"code": "S1"}},
    }
    member = {
        "metric": "segments.member",
        "operator": "is_true",
        "params": {"segment": {"name": "dairy LOVERS"}},
    }
    rules = {"root": {"children": [condition, in_store, member]}}

    created = api.post(URL, json={"name": "Milk in S1 among dairy lovers", "rules": rules})

    assert created.status_code == 201, created.text
    params = [child["params"] for child in created.json()["rules"]["root"]["children"]]
    assert params[2]["segment"] == {"name": "dairy LOVERS", "id": base["id"]}
    assert api.get(f"{URL}/{created.json()['id']}").json()["member_count"] == 2
    # The segment named by key is a dependency like one named by id: it cannot be deleted.
    assert api.request("DELETE", f"{URL}/{base['id']}").status_code == 409


@pytest.mark.parametrize(
    ("params", "field", "title"),
    [
        ({"category": {"code": "cheese"}}, "category", "no category with the code 'cheese'"),
        (
            {"category": {"code": "dairy", "classifier": "online"}},
            "category",
            "no category with the code 'dairy' in the classifier 'online'",
        ),
        ({"category": {"name": "Dairy"}}, "category", "unexpected field 'name': give {'code': …} or an id"),
    ],
)
def test_an_unknown_key_is_refused_naming_its_parameter_and_nothing_is_written(
    api: ApiClient, session: Session, shop: Shop, params: dict[str, object], field: str, title: str
) -> None:
    rules = shop.rules()
    rules["root"]["children"][0]["params"] = {**params, "period": {"kind": "all"}}

    created = api.post(URL, json={"name": "Unknown", "rules": rules})
    previewed = api.post(f"{URL}/preview", json=rules)

    assert created.status_code == previewed.status_code == 422
    assert created.json()["errors"] == [
        {"status": 422, "code": "unknown", "title": title, "field": f"root.children[0].params.{field}"}
    ]
    assert stored_segments(session) == 0


def test_an_audience_named_by_key_cannot_be_deleted_while_a_segment_uses_it(
    api: ApiClient, session: Session, shop: Shop
) -> None:
    api.post(URL, json={"name": "Dairy by code", "rules": keyed_rules(shop)})

    response = api.request("DELETE", f"/api/v1/audiences/{shop.audience_id}")

    assert response.status_code == 409
