"""Every write path publishes what happened — one event per transaction or batch, with the payload later
subscribers need — and the segments subscriber keeps memberships current from those events."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from smartcomm.audit.actor import Actor
from smartcomm.containers.schemas import ContainerChangeIn
from smartcomm.containers.service import container_service
from smartcomm.customers.schemas import ChannelPermissions, CustomerIn, SubscriptionsIn
from smartcomm.customers.service import customer_service
from smartcomm.events.schemas import EventIn, WebEventIn
from smartcomm.events.service import EventSubmission, event_service
from smartcomm.events.web_events import web_event_service
from smartcomm.imports.runner import import_file
from smartcomm.kit.outbox import CUSTOMER_IDS_LIMIT, publish
from smartcomm.models import Event, MailingCategory, SegmentBuild, WebEvent
from smartcomm.segments.schemas import SegmentIn
from smartcomm.segments.service import segment_service
from tests.events.conftest import make_product
from tests.outbox.conftest import checkpoint, latest_event_id, published
from tests.segments.test_builds import MOSCOW, buy, current_members, people, rules

ACTOR = Actor("api", None, "ERP link")
BUYERS = {"metric": "purchases.count", "operator": "gte", "value": 1}


def kinds_and_payloads(session: Session, after: int) -> list[tuple[str, int | None, dict[str, Any]]]:
    return [(event.kind, event.customer_id, event.payload) for event in published(session, after=after)]


def test_a_new_customer_a_change_and_a_channel_switched_off(session: Session) -> None:
    mark = latest_event_id(session)
    anna, _ = customer_service.upsert(session, ACTOR, CustomerIn(external_id="C-1", city="Kazan"))
    session.commit()
    customer_service.upsert(
        session,
        ACTOR,
        CustomerIn(external_id="C-1", city="Moscow", permissions=ChannelPermissions(email=False)),
    )
    session.commit()
    customer_service.upsert(session, ACTOR, CustomerIn(external_id="C-1", city="Moscow"))  # nothing changed
    session.commit()

    created, changed, consent = kinds_and_payloads(session, mark)
    assert created[:2] == ("customer.created", anna.id) and created[2]["external_id"] == "C-1"
    assert {"city", "allow_email"} <= set(created[2]["fields"])
    assert changed == ("customer.changed", anna.id, {"external_id": "C-1", "fields": ["allow_email", "city"]})
    assert consent == (
        "consent.changed",
        anna.id,
        {
            "customers": [
                {
                    "customer_id": anna.id,
                    "external_id": "C-1",
                    "channels_off": ["email"],
                    "channels_on": [],
                    "categories": {},
                }
            ],
            "source": "api",
            "actor": "ERP link",
        },
    )


def test_a_batch_of_customers_is_one_event_and_its_opt_outs_one_more(session: Session) -> None:
    olga, petr = people(session, "Moscow", "Kazan")
    session.commit()
    mark = latest_event_id(session)
    items = [
        CustomerIn(external_id="C0", permissions=ChannelPermissions(sms=False)),
        CustomerIn(external_id="C1", permissions=ChannelPermissions(sms=False, push=False)),
        CustomerIn(external_id="C9", permissions=ChannelPermissions(sms=False)),  # new: not an opt-out
    ]
    outcome = customer_service.upsert_batch(session, ACTOR, items)
    session.commit()

    newcomer = next(item.id for item in outcome.items if item.created)
    batch, consent = kinds_and_payloads(session, mark)
    assert batch == (
        "customers.changed",
        None,
        {"customer_ids": sorted([olga.id, petr.id, newcomer]), "created_ids": [newcomer]},
    )
    assert consent[:2] == ("consent.changed", None)
    assert consent[2]["customer_ids"] == [olga.id, petr.id]
    offs = {entry["external_id"]: entry["channels_off"] for entry in consent[2]["customers"]}
    assert offs == {"C0": ["sms"], "C1": ["sms", "push"]}


def test_a_category_subscription_is_a_consent_change_of_no_whole_channel(session: Session) -> None:
    session.add(MailingCategory(code="promo", name="Promotions"))
    [olga] = people(session, "Moscow")
    session.commit()
    mark = latest_event_id(session)
    customer_service.set_subscriptions(
        session, ACTOR, olga, SubscriptionsIn(categories={"promo": {"email": "N"}})
    )
    session.commit()
    [(kind, customer_id, payload)] = kinds_and_payloads(session, mark)
    assert (kind, customer_id) == ("consent.changed", olga.id)
    assert payload["customers"] == [
        {
            "customer_id": olga.id,
            "external_id": "C0",
            "channels_off": [],
            "channels_on": [],
            "categories": {"promo.email": [None, False]},
        }
    ]


def test_a_receipt_is_written_with_its_id_and_amount_and_moves_the_segments(session: Session) -> None:
    [olga] = people(session, "Moscow")
    segment = segment_service.create(session, ACTOR, SegmentIn(name="Buyers", rules=rules(BUYERS)))
    segment_service.build(session, segment.id, "manual")
    session.commit()
    assert current_members(session, segment.id) == set()
    mark = latest_event_id(session)

    buy(session, olga, "R-1", "123.45")
    session.commit()

    # The receipt's event, then the segment's change the refresh made of it.
    (kind, customer_id, payload), moved = kinds_and_payloads(session, mark)
    assert (kind, customer_id, payload["customer_ids"]) == ("receipt.written", None, [olga.id])
    assert (moved[0], moved[2]["segment_id"], moved[2]["entered"]) == ("segment.changed", segment.id, 1)
    [receipt] = payload["receipts"]
    assert {k: receipt[k] for k in ("customer_id", "number", "status", "total", "replaced")} == {
        "customer_id": olga.id,
        "number": "R-1",
        "status": "paid",
        "total": "123.45",
        "replaced": False,
    }
    assert isinstance(receipt["id"], int) and receipt["purchased_at"].startswith("2026-11-20T10:00:00")
    # The segments subscriber took it: Olga is a member, and its checkpoint stands at the event.
    assert current_members(session, segment.id) == {"C0"}
    [written] = published(session, "receipt.written", after=mark)
    assert checkpoint(session, "segments.refresh").last_id == written.id


def test_a_group_of_api_events_is_one_event_without_repeats(session: Session) -> None:
    olga, petr = people(session, "Moscow", "Kazan")
    session.commit()
    mark = latest_event_id(session)
    first = [EventIn(customer_id=olga.id, name="App opened", message_id="m-1", context={"screen": "home"})]
    second = [
        EventIn(customer_id=petr.id, name="Bonus spent", context={"points": 10}),
        EventIn(customer_id=olga.id, name="App opened", message_id="m-1"),  # a repeat: stored once
    ]
    event_service.record_groups(session, [EventSubmission(ACTOR, first), EventSubmission(ACTOR, second)])
    session.commit()

    [(kind, customer_id, payload)] = kinds_and_payloads(session, mark)
    assert (kind, customer_id, payload["customer_ids"]) == (
        "event.occurred",
        None,
        sorted([olga.id, petr.id]),
    )
    assert payload["names"] == ["App opened", "Bonus spent"]
    stored = session.scalars(select(Event).where(Event.id.in_(payload["event_ids"])).order_by(Event.id)).all()
    entries = [(e.customer_id, e.name, e.context) for e in stored]
    assert entries == [(olga.id, "App opened", {"screen": "home"}), (petr.id, "Bonus spent", {"points": 10})]


def test_web_events_containers_and_identification(session: Session) -> None:
    [olga] = people(session, "Moscow")
    make_product(session, "BAG-1", "Leather bag", "4990.00")
    session.commit()
    mark = latest_event_id(session)
    items = [
        {"kind": "product_view", "visitor_id": "v1", "sku": "BAG-1"},  # anonymous until the login
        {"kind": "login", "visitor_id": "v1", "customer_external_id": "C0"},
        {"kind": "container_change", "customer_external_id": "C0", "container": "cart", "sku": "BAG-1"},
    ]
    web_event_service.write(session, [WebEventIn.model_validate(item) for item in items], path="web_events")
    session.commit()

    found = {kind: (customer_id, payload) for kind, customer_id, payload in kinds_and_payloads(session, mark)}
    assert set(found) == {"web_event.occurred", "container.changed", "customer.identified"}
    occurred = found["web_event.occurred"][1]
    assert occurred["customer_ids"] == [olga.id]
    assert occurred["kinds"] == ["container_change", "login", "product_view"]
    stored = session.scalars(select(WebEvent).where(WebEvent.id.in_(occurred["web_event_ids"]))).all()
    assert sorted(e.kind for e in stored) == ["container_change", "login", "product_view"]
    [change] = found["container.changed"][1]["changes"]
    assert (change["customer_id"], change["container"], change["action"]) == (olga.id, "cart", "add")
    assert found["customer.identified"] == (olga.id, {"visitor_id": "v1"})


def test_a_container_changed_through_the_api(session: Session) -> None:
    [olga] = people(session, "Moscow")
    product = make_product(session, "BAG-1", "Leather bag", "4990.00")
    session.commit()
    mark = latest_event_id(session)
    change = ContainerChangeIn.model_validate({"action": "add", "items": [{"sku": "BAG-1", "quantity": 2}]})
    container_service.change(session, ACTOR, olga, "cart", change)
    session.commit()
    [(kind, customer_id, payload)] = kinds_and_payloads(session, mark)
    assert (kind, customer_id) == ("container.changed", olga.id)
    [entry] = payload["changes"]
    assert (entry["container"], entry["action"], entry["items"]) == (
        "cart", "add", [{"product_id": product.id, "quantity": "2"}]
    )  # fmt: skip


def test_imports_publish_one_event_per_batch(session: Session, tmp_path: Path) -> None:
    [olga] = people(session, "Moscow")
    session.commit()
    mark = latest_event_id(session)
    (customers := tmp_path / "customers.csv").write_text("external_id,city\nC0,Kazan\nC7,Moscow\nC8,Moscow\n")
    import_file("customers", customers)
    header = "number,store,customer_external_id,purchased_at,status,total,sku,quantity,price"
    (receipts := tmp_path / "receipts.csv").write_text(f"{header}\nR1,S1,C0,2026-01-10 10:00,,,A,1,10\n")
    import_file("receipts", receipts)

    events = published(session, after=mark)
    imported = {
        (event.kind, event.payload.get("created")): event.payload["customer_ids"]
        for event in events
        if event.kind == "customers.imported"
    }
    assert (
        imported[("customers.imported", False)] == [olga.id]
        and len(imported[("customers.imported", True)]) == 2
    )
    [written] = [event for event in events if event.kind == "receipts.imported"]
    assert written.payload == {"customer_ids": [olga.id], "created": 1, "replaced": 0}


def test_too_many_customers_rebuild_every_segment(session: Session) -> None:
    people(session, "Moscow")
    segment = segment_service.create(session, ACTOR, SegmentIn(name="Moscow", rules=rules(MOSCOW)))
    session.commit()
    publish(session, "customers.imported", customer_ids=range(1, CUSTOMER_IDS_LIMIT + 2))
    session.commit()
    statement = select(SegmentBuild).where(SegmentBuild.segment_id == segment.id).order_by(SegmentBuild.id)
    builds = session.scalars(statement).all()
    assert [(build.trigger, build.status) for build in builds] == [("rules", "done"), ("data", "done")]
    assert current_members(session, segment.id) == {"C0"}
