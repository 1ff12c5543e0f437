"""Pop-ups: queued once per key, handed to the visitor's own pages, reported shown, clicked or closed."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from smartcomm.events.web_events import web_event_service
from smartcomm.kit.time import utcnow
from smartcomm.models import Customer, DomainEvent, EventSource, Popup
from smartcomm.popups.schemas import PopupContent
from smartcomm.popups.service import popup_service
from smartcomm.popups.tasks import expire_hourly

OFFER = PopupContent(
    title="10% off your cart",
    body="Only today.",
    image_url="https://shop.example/offer.png",
    button_text="Back to the cart",
    button_url="https://shop.example/cart",
)


def queue(session: Session, customer: Customer, key: str, **values: Any) -> Popup:
    options: dict[str, Any] = {
        "expires_at": None,
        "source_kind": "campaign",
        "source_id": 7,
        "part": "node-3",
    } | values
    popup_service.queue(session, customer.id, key, OFFER, **options)
    return session.scalars(select(Popup).where(Popup.key == key)).one()


def visit(session: Session, visitor: str, customer: Customer) -> None:
    """The visitor identified as the customer (what analytics.identify does)."""
    web_event_service.identify(session, visitor, customer.id, utcnow())


def ask(client: TestClient, shop: EventSource, **query: str) -> Any:
    return client.get("/v1/popups", params={"writeKey": shop.write_key, **query})


def report(client: TestClient, popup: Popup, action: str, **body: str) -> Any:
    return client.post(f"/v1/popups/{popup.id}/{action}", content=json.dumps(body))


def snapshot(session: Session, popup: Popup) -> tuple[Any, ...]:
    session.refresh(popup)
    return (
        popup.status,
        popup.shown_at is not None,
        popup.clicked_at is not None,
        popup.closed_at is not None,
    )


def test_queueing_is_idempotent_by_key(session: Session, anna: Customer) -> None:
    assert popup_service.queue(session, anna.id, "k-1", OFFER, None, "campaign", 7, "node-3") is True
    assert popup_service.queue(session, anna.id, "k-1", OFFER, None, "campaign", 7, "node-3") is False
    stored = session.scalars(select(Popup)).all()
    assert [(p.key, p.status, p.title, p.source_kind, p.source_id, p.source_part) for p in stored] == [
        ("k-1", "queued", "10% off your cart", "campaign", 7, "node-3")
    ]


def test_content_links_must_be_web_addresses() -> None:
    with pytest.raises(ValidationError) as refused:
        PopupContent(title="Hi", button_text="Go", button_url="javascript:alert(1)")
    assert [e["loc"] for e in refused.value.errors()] == [("button_url",)]


def test_the_visitor_gets_its_customers_pending_popups(
    client: TestClient, session: Session, shop: EventSource, anna: Customer, boris: Customer
) -> None:
    first = queue(session, anna, "k-1")
    queue(session, anna, "k-old", expires_at=utcnow() - timedelta(minutes=1))
    queue(session, boris, "k-boris")
    visit(session, "visitor-anna", anna)

    mine = ask(client, shop, anonymousId="visitor-anna", userId="C-1")
    assert mine.status_code == 200
    assert [p["id"] for p in mine.json()["popups"]] == [first.id]
    assert mine.json()["popups"][0] | {"id": 0, "expires_at": None} == {
        "id": 0,
        "title": "10% off your cart",
        "body": "Only today.",
        "image_url": "https://shop.example/offer.png",
        "button_text": "Back to the cart",
        "button_url": "https://shop.example/cart",
        "expires_at": None,
    }
    # A stranger's browser, or someone naming Anna's id from another browser, gets nothing.
    assert ask(client, shop, anonymousId="visitor-x").json() == {"popups": []}
    assert ask(client, shop, anonymousId="visitor-anna", userId="C-2").json() == {"popups": []}


def test_asking_needs_a_write_key_and_the_visitor(
    client: TestClient, session: Session, shop: EventSource, anna: Customer
) -> None:
    visit(session, "visitor-anna", anna)
    wrong_key = client.get("/v1/popups", params={"writeKey": "nope", "anonymousId": "visitor-anna"})
    no_visitor = ask(client, shop, userId="C-1")

    assert wrong_key.status_code == 401
    assert no_visitor.status_code == 422
    assert [e["field"] for e in no_visitor.json()["errors"]] == ["anonymousId"]


def test_shown_then_clicked(client: TestClient, session: Session, shop: EventSource, anna: Customer) -> None:
    popup = queue(session, anna, "k-1")
    visit(session, "visitor-anna", anna)
    who = {"writeKey": shop.write_key, "anonymousId": "visitor-anna", "userId": "C-1"}

    shown = report(client, popup, "shown", **who)
    assert (shown.status_code, shown.json()) == (200, {"success": True, "status": "shown"})
    assert snapshot(session, popup) == ("shown", True, False, False)
    assert ask(client, shop, anonymousId="visitor-anna").json() == {"popups": []}  # shown once

    clicked = report(client, popup, "clicked", **who)
    assert clicked.json()["status"] == "clicked"
    assert snapshot(session, popup) == ("clicked", True, True, False)
    assert report(client, popup, "dismissed", **who).json()["status"] == "clicked"  # the click stands
    kinds = session.scalars(select(DomainEvent.kind).where(DomainEvent.kind.like("popup.%"))).all()
    assert sorted(kinds) == ["popup.clicked", "popup.shown"]


def test_a_closed_popup_counts_as_shown(
    client: TestClient, session: Session, shop: EventSource, anna: Customer
) -> None:
    popup = queue(session, anna, "k-1")
    visit(session, "visitor-anna", anna)
    answer = report(client, popup, "dismissed", writeKey=shop.write_key, anonymousId="visitor-anna")
    assert answer.json()["status"] == "dismissed"
    assert snapshot(session, popup) == ("dismissed", True, False, True)


def test_reports_of_others_or_with_a_wrong_key_write_nothing(
    client: TestClient, session: Session, shop: EventSource, anna: Customer, boris: Customer
) -> None:
    popup = queue(session, anna, "k-1")
    visit(session, "visitor-anna", anna)
    visit(session, "visitor-boris", boris)

    wrong_key = report(client, popup, "clicked", writeKey="nope", anonymousId="visitor-anna")
    someone_else = report(client, popup, "clicked", writeKey=shop.write_key, anonymousId="visitor-boris")
    stranger = report(client, popup, "shown", writeKey=shop.write_key, anonymousId="visitor-x")
    unknown_action = report(client, popup, "opened", writeKey=shop.write_key, anonymousId="visitor-anna")

    assert [r.status_code for r in (wrong_key, someone_else, stranger, unknown_action)] == [
        401,
        404,
        404,
        422,
    ]
    assert snapshot(session, popup) == ("queued", False, False, False)
    assert session.scalars(select(DomainEvent.kind).where(DomainEvent.kind.like("popup.%"))).all() == []


def test_expired_popups_are_not_shown_and_are_marked_by_the_hourly_job(
    client: TestClient, session: Session, shop: EventSource, anna: Customer
) -> None:
    old = queue(session, anna, "k-old", expires_at=utcnow() - timedelta(minutes=1))
    fresh = queue(session, anna, "k-new", expires_at=utcnow() + timedelta(days=1))
    visit(session, "visitor-anna", anna)

    late = report(client, old, "shown", writeKey=shop.write_key, anonymousId="visitor-anna")
    assert late.json()["status"] == "expired"
    assert popup_service.expire_due(session) == 1
    assert (snapshot(session, old)[0], snapshot(session, fresh)[0]) == ("expired", "queued")


def test_the_hourly_job_expires_what_is_due(session: Session, anna: Customer) -> None:
    queue(session, anna, "k-old", expires_at=utcnow() - timedelta(seconds=1))
    queue(session, anna, "k-open")
    assert expire_hourly.call_local() == 1
    assert expire_hourly.call_local() == 0  # already expired
    assert sorted(session.scalars(select(Popup.status))) == ["expired", "queued"]
