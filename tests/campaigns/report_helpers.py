"""Test data of campaign reports: campaigns run through the engine, people opening their e-mails through
the tracking pixel, and purchases after them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from smartcomm.delivery.tokens import open_pixel_url
from smartcomm.delivery.tracking import Hit, links, record_hits, recorder
from smartcomm.models import Campaign, Customer, Message
from smartcomm.personalization.renderer import renderer

BROWSER = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0"


@pytest.fixture
def hits_written_inline(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Opens written as the pixel answers (not by the recorder's thread), templates compiled afresh (the
    caches outlive a rolled-back test)."""
    monkeypatch.setattr(recorder, "inline", True)
    for cache in (renderer, links, renderer):
        cache.forget()
    yield
    for cache in (renderer, links):
        cache.forget()


def message_of(session: Session, campaign: Campaign, customer: Customer, node: str | None = None) -> Message:
    """The customer's (first) message of the campaign."""
    statement = select(Message).where(
        Message.source_kind == "campaign",
        Message.source_id == campaign.id,
        Message.customer_id == customer.id,
    )
    return session.scalars(statement.order_by(Message.id)).first()  # type: ignore[return-value]


def open_email(client: TestClient, message: Message) -> None:
    """The recipient's mail program fetches the open pixel, as a person's browser does."""
    path = "/" + open_pixel_url(message.id).split("://", 1)[1].split("/", 1)[1]
    assert client.get(path, headers={"User-Agent": BROWSER}).status_code == 200


def person_hits(session: Session, message: Message, kind: str, at: datetime) -> None:
    """A person's open or click of the message at a moment, written as the pixel or the redirect would
    (committed: its domain event attributes the purchases after it)."""
    url = "https://shop.example/sale" if kind == "clicked" else None
    record_hits(session, [Hit(kind, message.id, at, url=url, ip="203.0.113.7", user_agent=BROWSER)])
    session.commit()
