"""Order metrics of the segment builder on hand-made data with every member pinned, each answer also
checked against the plain-Python reading of the rules (tests/segments/oracle.py); a condition naming a
status code the dictionary lacks is refused naming its parameter."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from smartcomm.models import Category, OrderStatus
from smartcomm.orders.book import StatusBook
from smartcomm.orders.schemas import OrderStatusUpdate
from smartcomm.orders.statuses import order_status_service
from smartcomm.orders.writer import LineRecord, OrderRecord, OrderWriter
from smartcomm.segments.compiler import compile_rules
from smartcomm.segments.rules import SegmentRules
from smartcomm.segments.service import segment_service
from smartcomm.settings.schemas import GeneralSettings
from smartcomm.settings.service import settings_service
from tests.api.conftest import ApiClient, api_client
from tests.delivery.helpers import make_customer
from tests.events.conftest import make_product
from tests.orders.conftest import ACTOR
from tests.segments.oracle import Oracle

NOW = datetime(2027, 3, 31, 9, 0, tzinfo=UTC)  # 12:00 in Moscow
EVERYONE = {"anna", "boris", "vera", "gleb"}
LAST_WEEK = {"kind": "last", "n": 7, "unit": "days"}


def days_ago(days: int) -> datetime:
    return NOW - timedelta(days=days)


@dataclass
class Data:
    ids: dict[str, int]
    products: dict[str, int]
    categories: dict[str, int]

    def name(self, customer_id: int) -> str:
        return {v: k for k, v in self.ids.items()}[customer_id]


@pytest.fixture
def data(session: Session) -> Data:
    """Anna: completed and paid 2 days ago (coffee, 100), cancelled 40 days ago (mug, 50), new and shipped
    10 days ago (coffee, 30). Boris: an order 20 days ago refunded (tea, 500). Vera: an order without
    statuses 5 days ago (an SKU not in the catalogue, 70). Gleb: no orders."""
    settings_service.update(session, ACTOR, GeneralSettings, {"time_zone": "Europe/Moscow"})
    ids = {name: make_customer(session, external_id=name).id for name in sorted(EVERYONE)}
    tea = make_product(session, "TEA", "Tea", "5", ("drinks", "Drinks"))
    coffee = make_product(session, "COF", "Coffee", "5", ("coffee", "Coffee"))
    mug = make_product(session, "MUG", "Mug", "5")
    coffee_category = coffee.category_id
    assert coffee_category is not None and tea.category_id is not None
    # Coffee is a subcategory of drinks.
    node = session.get_one(Category, coffee_category)
    node.parent_id, node.path = tea.category_id, f"/{tea.category_id}/{coffee_category}/"
    session.get_one(Category, tea.category_id).path = f"/{tea.category_id}/"
    session.flush()
    statuses = {(s.dimension, s.code): s.id for s in session.scalars(select(OrderStatus))}

    def order(number: str, who: str, at: datetime, total: str, product: Any, **codes: str) -> OrderRecord:
        sku, product_id, category_id = product
        line = LineRecord(
            sku, Decimal(1), Decimal(total), Decimal(total), product_id=product_id, category_id=category_id
        )
        status_ids = {d: statuses[(d, code)] for d, code in codes.items()}
        return OrderRecord(number, ids[who], at, Decimal(total), status_ids=status_ids, lines=[line])

    coffee_line = ("COF", coffee.id, coffee_category)
    records = [
        order("O1", "anna", days_ago(2), "100", coffee_line, general="completed", payment="paid"),
        order("O2", "anna", days_ago(40), "50", ("MUG", mug.id, None), general="cancelled"),
        order("O3", "anna", days_ago(10), "30", coffee_line, general="new", delivery="shipped"),
        order("O4", "boris", days_ago(20), "500", ("TEA", tea.id, tea.category_id), payment="refunded"),
        order("O5", "vera", days_ago(5), "70", ("LOOSE", None, None)),
    ]
    OrderWriter(session, StatusBook.load(session)).write(records, publish_events=False)
    products = {"coffee": coffee.id, "mug": mug.id, "tea": tea.id}
    return Data(ids, products, {"drinks": tea.category_id, "coffee": coffee_category})


def where(metric: str, operator: str, value: Any = None, **params: Any) -> dict[str, Any]:
    condition: dict[str, Any] = {"metric": metric, "operator": operator, "params": params}
    return condition if value is None else {**condition, "value": value}


def selected(session: Session, data: Data, *conditions: dict[str, Any]) -> set[str]:
    """The customers the conditions select; the Python reading must agree."""
    rules = SegmentRules.model_validate({"root": {"children": list(conditions)}})
    by_sql = set(session.scalars(compile_rules(rules, segment_service.context(session, NOW))))
    assert by_sql == Oracle.load(session, NOW, "Europe/Moscow").matching(rules)
    return {data.name(customer_id) for customer_id in by_sql}


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        # Cancelled (anna's O2) and refunded (boris's O4) orders do not count.
        (where("orders.count", "gte", 2), {"anna"}),
        (where("orders.count", "eq", 0), {"boris", "gleb"}),
        (where("orders.count", "gte", 1, period=LAST_WEEK), {"anna", "vera"}),
        (where("orders.amount", "gte", "130.00"), {"anna"}),
        (where("orders.amount", "between", ["70", "100"], period=LAST_WEEK), {"anna", "vera"}),
        (where("orders.first_date", "before", (days_ago(9)).date().isoformat()), {"anna"}),
        (where("orders.last_date", "in_last", {"n": 3, "unit": "days"}), {"anna"}),
        (where("orders.last_date", "empty"), {"boris", "gleb"}),
        (where("orders.days_since_last", "lte", 5), {"anna", "vera"}),
        (where("orders.days_since_last", "eq", 5), {"vera"}),
        (where("orders.days_since_last", "empty"), {"boris", "gleb"}),
        # A status condition reads every order, counted in analytics or not.
        (where("orders.general_status", "is_true", status="cancelled"), {"anna"}),
        (
            where("orders.general_status", "is_true", status="cancelled", period={"kind": "last", "n": 30}),
            set(),
        ),
        (where("orders.payment_status", "is_true", status="refunded, paid"), {"anna", "boris"}),
        (where("orders.payment_status", "is_true", status=["refunded"]), {"boris"}),
        (where("orders.delivery_status", "is_true", status="shipped"), {"anna"}),
        (where("orders.delivery_status", "is_false", status="shipped"), {"boris", "vera", "gleb"}),
        (where("orders.product_count", "gte", 2, product="COF"), {"anna"}),
        (where("orders.product_count", "eq", 1, product="@product:coffee", period=LAST_WEEK), {"anna"}),
        (where("orders.product_count", "gte", 1, product="MUG"), set()),  # only in a cancelled order
        (where("orders.product_count", "gte", 1, product="LOOSE"), {"vera"}),
        (
            where("orders.category_count", "gte", 2, category="@category:drinks"),
            {"anna"},
        ),  # coffee is a drink
        (where("orders.category_count", "gte", 1, category="@category:coffee"), {"anna"}),
    ],
)
def test_each_metric_selects_the_customers_it_should(
    session: Session, data: Data, condition: dict[str, Any], expected: set[str]
) -> None:
    # "@product:name" and "@category:name" stand for ids of the data set.
    ids = {f"product:{k}": v for k, v in data.products.items()}
    ids |= {f"category:{k}": v for k, v in data.categories.items()}
    params = {
        name: ids[value[1:]] if isinstance(value, str) and value.startswith("@") else value
        for name, value in condition["params"].items()
    }
    assert selected(session, data, {**condition, "params": params}) == expected


def test_leaving_a_status_out_of_analytics_takes_its_orders_out_of_the_counts(
    session: Session, data: Data
) -> None:
    assert selected(session, data, where("orders.count", "gte", 2)) == {"anna"}
    new = session.scalars(select(OrderStatus).where(OrderStatus.code == "new")).one()
    order_status_service.update(session, ACTOR, new.id, OrderStatusUpdate(include_in_analytics=False))
    assert selected(session, data, where("orders.count", "gte", 2)) == set()
    assert selected(session, data, where("orders.amount", "eq", "100")) == {"anna"}
    order_status_service.update(session, ACTOR, new.id, OrderStatusUpdate(include_in_analytics=True))
    assert selected(session, data, where("orders.amount", "eq", "130")) == {"anna"}


@pytest.fixture
def api(client: TestClient, session: Session) -> Iterator[ApiClient]:
    yield api_client(client, session)


def test_a_status_code_the_dictionary_lacks_is_refused_naming_the_parameter(
    api: ApiClient, session: Session, data: Data
) -> None:
    rules = {"root": {"children": [where("orders.delivery_status", "is_true", status="shipped,paid")]}}
    preview = api.post("/api/v1/segments/preview", json=rules)
    assert preview.status_code == 422, preview.text
    (error,) = preview.json()["errors"]
    assert error["field"] == "root.children[0].params.status" and "'paid'" in error["title"]
    fine = {"root": {"children": [where("orders.delivery_status", "is_true", status="shipped")]}}
    assert api.post("/api/v1/segments/preview", json=fine).status_code == 200
