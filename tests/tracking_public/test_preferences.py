"""The preferences page: every channel and every category × channel, changed by the customer."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from smartcomm.delivery.tokens import Purpose, sign
from smartcomm.models import Customer, Subscription, UnsubscribeRecord
from tests.conftest import UIClient
from tests.tracking_public.helpers import (
    audit_of,
    domain_events,
    make_category,
    make_customer,
    make_message,
    subscribe,
)

ENGLISH = {"Accept-Language": "en"}


def checked(page: str, element_id: str) -> bool:
    """Whether the page's checkbox with this id is ticked."""
    found = re.search(rf'<input[^>]*id="{element_id}"[^>]*>', page)
    assert found, element_id
    return " checked" in found.group(0)


def _cells(session: Session, customer: Customer) -> dict[tuple[str, str], bool]:
    session.expire_all()
    rows = session.scalars(select(Subscription).where(Subscription.customer_id == customer.id))
    return {(str(row.category_id), row.channel): row.subscribed for row in rows}


def test_the_page_shows_channels_and_topics_as_they_stand(client: UIClient, session: Session) -> None:
    customer = make_customer(session, allow_viber=False)
    promo, news = make_category(session, "promo", "Promotions"), make_category(session, "news", "News")
    subscribe(session, customer, promo, "email")
    message = make_message(session, customer, category=promo)
    session.commit()
    page = client.get(f"/p/{sign(Purpose.PREFERENCES, message.id)}", headers=ENGLISH).text
    assert checked(page, "allow-email") and not checked(page, "allow-viber")
    assert checked(page, "sub-promo-email") and not checked(page, "sub-news-email")
    assert news.name in page


def test_saving_switches_a_channel_off_and_picks_topics(client: UIClient, session: Session) -> None:
    customer = make_customer(session)
    promo, news = make_category(session, "promo", "Promotions"), make_category(session, "news", "News")
    subscribe(session, customer, promo, "email")
    message = make_message(session, customer, category=promo)
    session.commit()
    form = {"allow_email": "on", "allow_viber": "on", "allow_push": "on", f"sub_{news.id}_email": "on"}
    response = client.post(f"/p/{sign(Purpose.PREFERENCES, message.id)}", data=form, headers=ENGLISH)
    assert response.status_code == 200
    assert 'id="saved"' in response.text
    session.expire_all()
    assert session.get(Customer, customer.id).allow_sms is False  # type: ignore[union-attr]
    assert _cells(session, customer) == {(str(promo.id), "email"): False, (str(news.id), "email"): True}
    records = {
        (r.channel, r.category_id, r.scope, r.source) for r in session.scalars(select(UnsubscribeRecord))
    }
    assert records == {
        ("sms", None, "channel", "preferences"),
        ("email", promo.id, "category", "preferences"),
    }
    actions = sorted(entry.action for entry in audit_of(session, "customer", customer.id))
    assert actions == ["subscriptions", "update"]
    assert all(entry.actor_kind == "customer" for entry in audit_of(session, "customer", customer.id))
    off = [
        event.payload["customers"][0]["channels_off"] for event in domain_events(session, "consent.changed")
    ]
    assert ["sms"] in off


def test_saving_the_same_choices_changes_nothing(client: UIClient, session: Session) -> None:
    customer = make_customer(session)
    message = make_message(session, customer)
    session.commit()
    form = {f"allow_{channel}": "on" for channel in ("email", "sms", "viber", "push")}
    client.post(f"/p/{sign(Purpose.PREFERENCES, message.id)}", data=form)
    assert audit_of(session, "customer", customer.id) == []
    assert domain_events(session, "consent.changed") == []


def test_an_unsubscribe_token_does_not_open_the_preferences(client: UIClient, session: Session) -> None:
    message = make_message(session, make_customer(session))
    assert client.get(f"/p/{sign(Purpose.UNSUBSCRIBE, message.id)}").status_code == 404
