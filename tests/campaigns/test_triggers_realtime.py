"""Real-time triggers of purchases, orders, registrations and events, each through its real write path:
the right customers enter once, an event of another kind, name or product enters nobody, and the same
domain event handed over twice enters nobody twice."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from smartcomm.campaigns.service import campaign_service
from smartcomm.containers.schemas import ContainerChangeIn
from smartcomm.containers.service import container_service
from smartcomm.customers.schemas import CustomerIn
from smartcomm.customers.service import customer_service
from smartcomm.events.schemas import EventIn, WebEventIn
from smartcomm.events.service import event_service
from smartcomm.events.web_events import web_event_service
from smartcomm.imports.runner import import_file
from smartcomm.models import Campaign
from smartcomm.orders.schemas import OrderIn
from smartcomm.orders.service import order_service
from smartcomm.receipts.schemas import ReceiptIn
from smartcomm.receipts.service import receipt_service
from tests.audiences.helpers import city_segment
from tests.campaigns.helpers import ACTOR, journeys
from tests.campaigns.trigger_helpers import (
    Catalogue,
    buy_items,
    campaign_on,
    catalogue_fixture,  # noqa: F401 (the fixture `catalogue`)
    context_of,
    entered,
    fresh_watch_list,  # noqa: F401 (fixture)
    hand_over_again,
    mark,
    occurrences,
    passing,
)
from tests.delivery.helpers import make_customer
from tests.orders.conftest import order_body

# --- purchases -----------------------------------------------------------------------------------------


def test_item_purchased_enters_the_buyer_of_a_chosen_product_once_per_receipt(
    session: Session, catalogue: Catalogue
) -> None:
    anna, boris = make_customer(session), make_customer(session)
    campaign = campaign_on(session, "trigger.item_purchased", skus=["COF-250"])
    before = mark(session)

    buy_items(session, anna, ("COF-250", "2"), ("MUG", "1"), price="450.00")
    buy_items(session, boris, ("MUG", "1"), ("TEA-100", "3"))

    assert entered(session, campaign) == [anna.id]
    context = context_of(session, campaign)
    assert (context["product_ids"], context["product"]["name"]) == ([catalogue.coffee], "Coffee 250 g")
    assert (Decimal(context["quantity"]), Decimal(context["amount"])) == (Decimal(2), Decimal("900.00"))
    assert context["receipt_number"].startswith("RT-")
    hand_over_again(session, "receipt.written", after=before)
    assert entered(session, campaign) == [anna.id]


def test_item_purchased_counts_the_minimum_quantity_and_knows_products_by_id(
    session: Session, catalogue: Catalogue
) -> None:
    anna, boris = make_customer(session), make_customer(session)
    campaign = campaign_on(
        session, "trigger.item_purchased", product_ids=[catalogue.coffee, catalogue.tea], minimum_quantity="3"
    )

    buy_items(session, anna, ("COF-250", "2"))  # two only
    buy_items(session, boris, ("COF-250", "1"), ("TEA-100", "2"))  # three of the chosen together

    assert entered(session, campaign) == [boris.id]


def test_a_category_purchase_counts_its_subcategories(session: Session, catalogue: Catalogue) -> None:
    anna, boris, olga = make_customer(session), make_customer(session), make_customer(session)
    drinks = campaign_on(session, "trigger.category_purchased", product_category_id=catalogue.drinks)
    coffee = campaign_on(session, "trigger.category_purchased", product_category_id=catalogue.coffee_category)
    before = mark(session)

    buy_items(session, anna, ("COF-250", "1"))  # Coffee, a subcategory of Drinks
    buy_items(session, boris, ("TEA-100", "1"))  # Drinks itself
    buy_items(session, olga, ("MUG", "1"))

    assert entered(session, drinks) == [anna.id, boris.id]
    assert entered(session, coffee) == [anna.id]
    assert context_of(session, coffee)["product"]["sku"] == "COF-250"
    hand_over_again(session, "receipt.written", after=before)
    assert entered(session, drinks) == [anna.id, boris.id]


def test_a_corrected_receipt_sent_again_is_not_a_new_purchase(session: Session, catalogue: Catalogue) -> None:
    anna = make_customer(session)
    campaign = campaign_on(session, "trigger.item_purchased", skus=["COF-250"])
    body = {
        "number": "SAME-1",
        "store": "MSK-01",
        "customer_external_id": anna.external_id,
        "purchased_at": "2026-12-01T10:00:00+00:00",
        "lines": [{"sku": "COF-250", "quantity": "1", "price": "450"}],
    }
    for _ in range(2):
        receipt_service.write(session, ACTOR, [ReceiptIn.model_validate(body)])
        session.commit()

    assert entered(session, campaign) == [anna.id]


# --- orders --------------------------------------------------------------------------------------------


def orders_on(session: Session) -> None:
    order_service.set_enabled(session, ACTOR, True)
    session.commit()


def place(session: Session, number: str, customer: str, **values: object) -> None:
    order_service.write(session, ACTOR, [OrderIn.model_validate(order_body(number, customer, **values))])
    session.commit()


def test_order_created_enters_each_new_order_from_the_minimum_total(
    session: Session, catalogue: Catalogue
) -> None:
    orders_on(session)
    anna, boris = make_customer(session), make_customer(session)
    campaign = campaign_on(session, "trigger.order_created", minimum_total="2000")
    before = mark(session)

    place(session, "W-1", anna.external_id)  # 2,100 with delivery
    place(session, "W-2", boris.external_id, lines=[{"sku": "MUG", "quantity": "1", "price": "990"}])
    place(session, "W-1", anna.external_id, statuses={"general": "confirmed"})  # the same order again

    assert entered(session, campaign) == [anna.id]
    context = context_of(session, campaign)
    assert (context["order_number"], context["order_total"], context["statuses"]["general"]) == (
        "W-1", "2100.00", "new",
    )  # fmt: skip
    hand_over_again(session, "order.created", after=before)
    assert entered(session, campaign) == [anna.id]


def test_order_status_changed_enters_on_the_chosen_status_of_the_chosen_dimension(
    session: Session, catalogue: Catalogue
) -> None:
    orders_on(session)
    anna = make_customer(session)
    paid = campaign_on(session, "trigger.order_status_changed", dimension="payment", status="paid")
    from_new = campaign_on(
        session, "trigger.order_status_changed", dimension="general", status="confirmed", from_status="new"
    )
    place(session, "W-1", anna.external_id)
    before = mark(session)

    order_service.change_status(session, ACTOR, "W-1", "delivery", "shipped")
    order_service.change_status(session, ACTOR, "W-1", "payment", "paid")
    order_service.change_status(session, ACTOR, "W-1", "payment", "paid")  # no change: nothing published
    session.commit()

    assert entered(session, paid) == [anna.id]
    context = context_of(session, paid)
    assert (context["order_number"], context["from_status"], context["to_status"]) == (
        "W-1",
        "awaiting_payment",
        "paid",
    )
    assert entered(session, from_new) == []
    hand_over_again(session, "order.status_changed", after=before)
    assert entered(session, paid) == [anna.id]


def test_an_unknown_status_code_is_pinned_to_its_field(session: Session) -> None:
    orders_on(session)

    problems = campaign_service.check(
        session, passing("trigger.order_status_changed", dimension="payment", status="shipped")
    )
    assert [error.field for error in problems.errors] == ["nodes.t.settings.status"]


def test_items_and_categories_ordered(session: Session, catalogue: Catalogue) -> None:
    orders_on(session)
    anna, boris = make_customer(session), make_customer(session)
    coffee = campaign_on(session, "trigger.item_ordered", skus=["COF-250"])
    drinks = campaign_on(session, "trigger.category_ordered", product_category_id=catalogue.drinks)
    before = mark(session)

    place(session, "W-1", anna.external_id)  # Coffee and a mug
    place(session, "W-2", boris.external_id, lines=[{"sku": "MUG", "quantity": "1", "price": "990"}])

    assert (entered(session, coffee), entered(session, drinks)) == ([anna.id], [anna.id])
    assert context_of(session, coffee)["product"]["name"] == "Coffee 250 g"
    assert occurrences(session, coffee)[0].startswith("order:")
    hand_over_again(session, "order.created", after=before)
    assert (entered(session, coffee), entered(session, drinks)) == ([anna.id], [anna.id])


# --- registrations -------------------------------------------------------------------------------------


def test_registration_enters_new_customers_of_every_write_path_once(session: Session, tmp_path: Path) -> None:
    known = make_customer(session, external_id="OLD-1")
    campaign = campaign_on(session, "trigger.customer_registered")
    before = mark(session)

    one, _ = customer_service.upsert(session, ACTOR, CustomerIn(external_id="NEW-1", first_name="Ann"))
    customer_service.upsert(session, ACTOR, CustomerIn(external_id="OLD-1", first_name="Changed"))
    session.commit()
    batch = customer_service.upsert_batch(
        session, ACTOR, [CustomerIn(external_id="NEW-2"), CustomerIn(external_id="OLD-1", last_name="Again")]
    )
    session.commit()
    path = tmp_path / "customers.csv"
    path.write_text("external_id,first_name\nNEW-3,Olga\nOLD-1,Still\n")
    assert import_file("customers", path).status == "done"

    two = next(outcome.id for outcome in batch.items if outcome.external_id == "NEW-2")
    three = customer_service.get_by_external_id(session, "NEW-3").id
    assert entered(session, campaign) == [one.id, two, three]
    assert known.id not in entered(session, campaign)
    assert [j["registered_via"] for j in _contexts(session, campaign)] == ["profile", "batch", "import"]
    hand_over_again(session, "customer.created", "customers.changed", "customers.imported", after=before)
    assert len(entered(session, campaign)) == 3


def test_registration_with_a_filter_enters_the_new_customers_it_matches(session: Session) -> None:
    rules = {"root": {"children": [{"metric": "profile.city", "operator": "eq", "value": "Kazan"}]}}
    campaign = campaign_on(session, "trigger.customer_registered_filtered", rules=rules)
    before = mark(session)

    kazan, _ = customer_service.upsert(session, ACTOR, CustomerIn(external_id="K-1", city="Kazan"))
    customer_service.upsert(session, ACTOR, CustomerIn(external_id="M-1", city="Moscow"))
    session.commit()

    assert entered(session, campaign) == [kazan.id]
    hand_over_again(session, "customer.created", after=before)
    assert entered(session, campaign) == [kazan.id]


def _contexts(session: Session, campaign: Campaign) -> list[dict[str, Any]]:
    return [journey.context for journey in journeys(session, campaign)]


# --- events --------------------------------------------------------------------------------------------


def record(session: Session, *items: dict[str, object]) -> None:
    event_service.record(session, ACTOR, [EventIn.model_validate(item) for item in items])
    session.commit()


def wish(session: Session, customer_external_id: str, sku: str, container: str = "wishlist") -> None:

    customer = customer_service.get_by_external_id(session, customer_external_id)
    change = ContainerChangeIn.model_validate({"action": "add", "items": [{"sku": sku}]})
    container_service.change(session, ACTOR, customer, container, change)
    session.commit()


def test_a_system_event_reaches_those_with_the_product_in_the_container(
    session: Session, catalogue: Catalogue
) -> None:
    anna, boris, olga = make_customer(session), make_customer(session), make_customer(session)
    wish(session, anna.external_id, "COF-250")
    wish(session, boris.external_id, "TEA-100")
    wish(session, olga.external_id, "COF-250", container="cart")
    campaign = campaign_on(session, "trigger.system_event", name="back_in_stock", audience="container",
                           container="wishlist")  # fmt: skip
    before = mark(session)

    record(session, {"name": "back_in_stock", "context": {"sku": "COF-250"}})
    record(session, {"name": "back_in_stock", "customer_external_id": boris.external_id})  # a customer's own
    record(session, {"name": "price_list_updated", "context": {"sku": "TEA-100"}})

    assert entered(session, campaign) == [anna.id]
    context = context_of(session, campaign)
    assert (context["event_name"], context["event"], context["product"]["name"]) == (
        "back_in_stock", {"sku": "COF-250"}, "Coffee 250 g",
    )  # fmt: skip
    assert occurrences(session, campaign) == [f"system_event:{context['event_id']}"]
    hand_over_again(session, "event.occurred", after=before)
    assert entered(session, campaign) == [anna.id]


def test_a_system_event_reaches_a_segments_members_or_the_products_viewers(
    session: Session, catalogue: Catalogue
) -> None:

    anna = make_customer(session, city="Kazan")
    boris = make_customer(session, city="Moscow")
    segment = city_segment(session, "Kazan", "Kazan")
    session.commit()
    view = {"kind": "product_view", "customer_id": boris.id, "sku": "COF-250"}
    web_event_service.record(session, ACTOR, [WebEventIn.model_validate(view)])
    session.commit()
    members = campaign_on(session, "trigger.system_event", name="new_collection", segment_id=segment.id)
    viewers = campaign_on(session, "trigger.system_event", name="new_collection", audience="viewed")

    record(session, {"name": "new_collection", "context": {"product_id": "COF-250"}})

    assert (entered(session, members), entered(session, viewers)) == ([anna.id], [boris.id])


def test_a_customer_event_enters_its_customer_not_the_system_trigger(session: Session) -> None:
    anna = make_customer(session)
    own = campaign_on(session, "trigger.event_occurred", name="called")
    system = campaign_on(session, "trigger.system_event", name="called", segment_id=_any_segment(session))

    record(session, {"name": "called", "customer_external_id": anna.external_id}, {"name": "called"})

    assert (entered(session, own), entered(session, system)) == ([anna.id], [])


def _any_segment(session: Session) -> int:

    segment = city_segment(session, "Nowhere", "Atlantis")
    session.commit()
    return segment.id
