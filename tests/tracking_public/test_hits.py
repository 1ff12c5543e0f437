"""Opens and clicks written in groups: people and machines apart, milestones moved by people only."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from smartcomm.delivery.tracking import CLICKED, OPENED, Hit, record_hits, record_links
from smartcomm.kit.db import committed
from smartcomm.models import Visitor
from tests.tracking_public.helpers import at, domain_events, events_of, make_customer, make_message, reload

BROWSER = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.4 Safari/605.1.15"
)
PERSON_IP = "93.184.216.34"


def person(kind: str, message_id: int, when, **values) -> Hit:  # type: ignore[no-untyped-def]
    return Hit(kind, message_id, when, ip=PERSON_IP, user_agent=BROWSER, **values)


def test_a_persons_open_moves_the_message_and_counts_as_a_person(session: Session) -> None:
    customer = make_customer(session)
    message = make_message(session, customer)
    with committed(session):
        record_hits(session, [person(OPENED, message.id, at(message, 600))])
    message = reload(session, message)
    assert (message.status, message.opens, message.machine_opens) == ("opened", 1, 0)
    assert message.opened_at == at(message, 600)
    [event] = events_of(session, message)
    assert (event.kind, event.is_machine, event.data["ip"]) == ("opened", False, PERSON_IP)
    [published] = domain_events(session, "message.opened")
    assert (published.payload["customer_ids"], published.payload["message_ids"]) == (
        [customer.id],
        [message.id],
    )


def test_apple_privacy_proxy_opens_are_stored_but_never_counted_as_people(session: Session) -> None:
    message = make_message(session, make_customer(session), status="sent")
    with committed(session):
        record_hits(
            session, [Hit(OPENED, message.id, at(message, 3), ip="17.58.1.1", user_agent="Mozilla/5.0")]
        )
    message = reload(session, message)
    assert (message.opens, message.machine_opens, message.opened_at) == (0, 1, None)
    assert message.status == "delivered"  # the proxy fetched it: it was delivered, nobody read it yet
    assert message.delivered_at == at(message, 3)
    assert [(e.kind, e.is_machine, e.data["machine"]) for e in events_of(session, message)] == [
        ("opened", True, "privacy_proxy")
    ]
    assert domain_events(session, "message.opened") == []


def test_a_click_records_the_open_it_proves_and_moves_to_clicked(session: Session) -> None:
    message = make_message(session, make_customer(session))
    link = record_links(session, ["https://shop.example/sale"])["https://shop.example/sale"]
    with committed(session):
        record_hits(
            session,
            [person(CLICKED, message.id, at(message, 900), link_id=link, url="https://shop.example/sale")],
        )
    message = reload(session, message)
    assert (message.status, message.opens, message.clicks) == ("clicked", 1, 1)
    kinds = [(e.kind, e.is_machine, e.data.get("implied_by_click")) for e in events_of(session, message)]
    assert kinds == [("opened", False, True), ("clicked", False, None)]
    [clicked] = domain_events(session, "message.clicked")
    assert clicked.payload["clicks"] == [[message.id, link]]


def test_a_click_seconds_after_sending_with_no_open_is_a_scanners(session: Session) -> None:
    message = make_message(session, make_customer(session), sent_ago=timedelta(seconds=30))
    link = record_links(session, ["https://shop.example/a"])["https://shop.example/a"]
    with committed(session):
        record_hits(session, [person(CLICKED, message.id, at(message, 4), link_id=link)])
    message = reload(session, message)
    assert (message.clicks, message.machine_clicks, message.opens, message.status) == (0, 1, 0, "delivered")
    assert [(e.kind, e.data["machine"]) for e in events_of(session, message)] == [("clicked", "early_click")]


def test_many_links_clicked_within_seconds_of_delivery_are_a_scanners_even_those_counted_before(
    session: Session,
) -> None:
    # Opened by a person first, so the first click looked like a person's; the second link within the
    # burst window shows the scanner, and the first click moves to the machines too.
    message = make_message(session, make_customer(session), sent_ago=timedelta(minutes=5))
    ids = record_links(session, ["https://shop.example/a", "https://shop.example/b"])
    with committed(session):
        record_hits(session, [person(OPENED, message.id, at(message, 1))])
    with committed(session):
        record_hits(
            session, [person(CLICKED, message.id, at(message, 21), link_id=ids["https://shop.example/a"])]
        )
    assert reload(session, message).clicks == 1
    with committed(session):
        record_hits(
            session, [person(CLICKED, message.id, at(message, 23), link_id=ids["https://shop.example/b"])]
        )
    message = reload(session, message)
    assert (message.clicks, message.machine_clicks, message.clicked_at, message.status) == (
        0,
        2,
        None,
        "opened",
    )
    assert message.opens == 1  # the person's open stands
    clicks = [
        (e.is_machine, e.data.get("machine")) for e in events_of(session, message) if e.kind == "clicked"
    ]
    assert clicks == [(True, "click_burst"), (True, "click_burst")]


def test_later_clicks_by_people_count_however_many_links(session: Session) -> None:
    message = make_message(session, make_customer(session), sent_ago=timedelta(hours=3))
    ids = record_links(session, ["https://shop.example/a", "https://shop.example/b"])
    hits = [
        person(CLICKED, message.id, at(message, 3600 + n), link_id=link)
        for n, link in enumerate(ids.values())
    ]
    with committed(session):
        record_hits(session, hits)
    message = reload(session, message)
    assert (message.clicks, message.machine_clicks) == (2, 0)


def test_a_persons_click_with_the_trackers_cookie_ties_the_visitor_to_the_customer(session: Session) -> None:
    customer = make_customer(session)
    message = make_message(session, customer)
    with committed(session):
        record_hits(session, [person(CLICKED, message.id, at(message, 7200), visitor_id="anon-42")])
    visitor = session.scalar(select(Visitor).where(Visitor.id == "anon-42"))
    assert visitor is not None and visitor.customer_id == customer.id


def test_a_machines_click_with_a_cookie_identifies_nobody(session: Session) -> None:
    message = make_message(session, make_customer(session))
    hit = Hit(CLICKED, message.id, at(message, 7200), user_agent="curl/8.4.0", visitor_id="anon-43")
    with committed(session):
        record_hits(session, [hit])
    assert session.scalar(select(Visitor).where(Visitor.id == "anon-43")) is None


def test_hits_of_one_group_on_many_messages_are_written_together(session: Session) -> None:
    customer = make_customer(session)
    messages = [make_message(session, customer) for _ in range(3)]
    hits = [person(OPENED, m.id, at(m, 60 + n)) for n, m in enumerate(messages)] + [
        Hit(OPENED, messages[0].id, at(messages[0], 61), user_agent="Mozilla/5.0")
    ]
    with committed(session):
        record_hits(session, hits)
    assert [reload(session, m).opens for m in messages] == [1, 1, 1]
    assert reload(session, messages[0]).machine_opens == 1
    [published] = domain_events(session, "message.opened")
    assert published.payload["message_ids"] == sorted(m.id for m in messages)


def test_a_hit_on_a_message_that_is_gone_is_dropped(session: Session) -> None:
    message = make_message(session, make_customer(session))
    with committed(session):
        record_hits(session, [person(OPENED, message.id + 1000, at(message, 60))])
    assert reload(session, message).opens == 0
