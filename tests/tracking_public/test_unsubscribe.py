"""The unsubscribe page: a GET shows it and changes nothing; a POST acts — on the message's category or
its whole channel, with a reason — and the RFC 8058 one-click POST acts at once."""

from __future__ import annotations

import json

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from smartcomm.audit.actor import Actor
from smartcomm.channels.receipts import DeliveryState, DeliveryUpdate
from smartcomm.delivery.consent import consent_service
from smartcomm.delivery.service import delivery_service
from smartcomm.delivery.tokens import Purpose, sign
from smartcomm.models import AuditEntry, Customer, Message, Subscription, UnsubscribeRecord
from smartcomm.settings.schemas import DeliverySettings, DesignSettings
from smartcomm.settings.service import settings_service
from tests.conftest import UIClient
from tests.tracking_public.helpers import (
    audit_of,
    domain_events,
    events_of,
    make_category,
    make_customer,
    make_message,
    subscribe,
)
from tests.webhooks.conftest import SECRET, LoyaltySystem, loyalty  # noqa: F401 (the loyalty system fixture)

ENGLISH = {"Accept-Language": "en-GB,en;q=0.9"}


def _setup(session: Session) -> tuple[Customer, Message]:
    customer = make_customer(session)
    category = make_category(session)
    subscribe(session, customer, category)
    session.commit()
    return customer, make_message(session, customer, category=category)


def _subscribed(session: Session, customer: Customer) -> bool | None:
    session.expire_all()
    return session.scalar(select(Subscription.subscribed).where(Subscription.customer_id == customer.id))


def _records(session: Session) -> list[UnsubscribeRecord]:
    return list(session.scalars(select(UnsubscribeRecord).order_by(UnsubscribeRecord.id)))


def _url(message: Message) -> str:
    return f"/u/{sign(Purpose.UNSUBSCRIBE, message.id)}"


def test_opening_the_page_changes_nothing(client: UIClient, session: Session) -> None:
    customer, message = _setup(session)
    audit_before = session.scalar(select(func.count()).select_from(AuditEntry))
    response = client.get(_url(message), headers=ENGLISH)
    assert response.status_code == 200
    assert "no-store" in response.headers["cache-control"]
    assert "content-security-policy" in response.headers
    assert "Only “Promotions”" in response.text
    assert "an•••@example.com" in response.text  # the address is shown masked
    assert customer.email is not None and customer.email not in response.text
    assert "I receive messages too often" in response.text  # the reasons of the system dictionary
    assert _subscribed(session, customer) is True
    assert _records(session) == []
    assert session.scalar(select(func.count()).select_from(AuditEntry)) == audit_before


def test_unsubscribing_from_the_category_with_a_reason(client: UIClient, session: Session) -> None:
    customer, message = _setup(session)
    form = {"scope": "category", "reason": "too_often", "comment": "Twice a day is a lot"}
    response = client.post(_url(message), data=form, headers=ENGLISH)
    assert response.status_code == 200
    assert "You will no longer get “Promotions” e-mails." in response.text
    assert _subscribed(session, customer) is False
    assert session.get(Customer, customer.id).allow_email is True  # type: ignore[union-attr]
    [record] = _records(session)
    assert (record.scope, record.source, record.reason_code, record.reason_text, record.message_id) == (
        "category",
        "page",
        "too_often",
        "Twice a day is a lot",
        message.id,
    )
    [entry] = audit_of(session, "customer", customer.id)
    assert (entry.actor_kind, entry.action, entry.changes) == (
        "customer",
        "subscriptions",
        {"promo.email": [True, False]},
    )
    assert "unsubscribe page" in entry.actor_label
    assert [e.kind for e in events_of(session, message)] == ["unsubscribed"]
    [published] = domain_events(session, "message.unsubscribed")
    assert published.payload | {"message_id": 0} == {
        "message_id": 0,
        "channel": "email",
        "scope": "category",
        "source": "page",
        "category": "promo",
    }
    [consent] = domain_events(session, "consent.changed")
    assert consent.payload["customers"][0]["channels_off"] == []  # a category alone is not a channel opt-out


def test_unsubscribing_from_the_whole_channel_tells_the_loyalty_system(
    client: UIClient,
    session: Session,
    loyalty: LoyaltySystem,  # noqa: F811
) -> None:
    settings_service.update(
        session,
        Actor.system("tests"),
        DeliverySettings,
        {"webhook_url": loyalty.url, "webhook_secret": SECRET},
    )
    customer, message = _setup(session)
    response = client.post(_url(message), data={"scope": "channel"}, headers=ENGLISH)
    assert "You will no longer get e-mails from us." in response.text
    session.expire_all()
    assert session.get(Customer, customer.id).allow_email is False  # type: ignore[union-attr]
    [consent] = domain_events(session, "consent.changed")
    assert consent.payload["customers"][0]["channels_off"] == ["email"]
    [request] = loyalty.received
    assert request.signed_correctly
    body = json.loads(request.body)
    assert (body["customer"]["id"], body["channels"], body["source"]) == (customer.id, ["email"], "customer")


def test_the_one_click_post_of_a_mailbox_provider_acts_at_once(client: UIClient, session: Session) -> None:
    customer, message = _setup(session)
    response = client.post(
        _url(message),
        content=b"List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 200
    assert _subscribed(session, customer) is False
    [record] = _records(session)
    assert (record.source, record.scope) == ("one_click", "category")


def test_one_click_on_a_message_without_a_category_unsubscribes_from_the_channel(
    client: UIClient, session: Session
) -> None:
    customer = make_customer(session)
    message = make_message(session, customer, channel="sms")
    client.post(_url(message), data={"List-Unsubscribe": "One-Click"})
    session.expire_all()
    assert session.get(Customer, customer.id).allow_sms is False  # type: ignore[union-attr]


def test_a_reason_not_offered_is_refused_and_nothing_is_written(client: UIClient, session: Session) -> None:
    customer, message = _setup(session)
    response = client.post(_url(message), data={"scope": "category", "reason": "made_up"}, headers=ENGLISH)
    assert response.status_code == 422
    assert 'data-error-for="reason"' in response.text
    assert "Choose one of the reasons offered" in response.text
    assert _subscribed(session, customer) is True
    assert _records(session) == []
    assert domain_events(session, "message.unsubscribed") == []


def test_unsubscribing_twice_records_it_once(client: UIClient, session: Session) -> None:
    _, message = _setup(session)
    for _ in range(2):
        assert client.post(_url(message), data={"scope": "category"}).status_code == 200
    assert len(_records(session)) == 1
    page = client.get(_url(message), headers=ENGLISH)
    assert "You are already unsubscribed from these messages." in page.text


def test_a_copy_to_a_watcher_has_nothing_to_unsubscribe(client: UIClient, session: Session) -> None:
    message = make_message(session, None, source_kind="watcher", recipient="boss@shop.example")
    page = client.get(_url(message), headers=ENGLISH)
    assert page.status_code == 200 and 'id="no-customer"' in page.text
    assert client.post(_url(message), data={"scope": "channel"}).status_code == 200
    assert _records(session) == []


def test_unknown_and_gone_links_get_a_page_not_an_error(client: UIClient, session: Session) -> None:
    _, message = _setup(session)
    assert client.get("/u/definitely-not-a-token", headers=ENGLISH).status_code == 404
    assert client.post("/u/definitely-not-a-token", data={"scope": "channel"}).status_code == 404
    url = _url(message)
    session.execute(delete(Message).where(Message.id == message.id))
    session.commit()
    gone = client.get(url, headers=ENGLISH)
    assert gone.status_code == 410
    assert "This link is no longer valid" in gone.text


def test_the_page_speaks_the_customers_language(client: UIClient, session: Session) -> None:
    customer, message = _setup(session)
    russian = client.get(_url(message), headers={"Accept-Language": "ru-RU,ru;q=0.9,en;q=0.5"})
    assert 'lang="ru"' in russian.text and "Отписаться" in russian.text
    customer.custom = {"language": "en"}
    session.commit()
    english = client.get(_url(message), headers={"Accept-Language": "ru"})
    assert 'lang="en"' in english.text  # the customer's own language wins over the browser's
    chosen = client.get(_url(message) + "?lang=ru", headers=ENGLISH)
    assert 'lang="ru"' in chosen.text  # and the one picked on the page wins over both


def test_the_design_texts_and_colours_are_used(client: UIClient, session: Session) -> None:
    _, message = _setup(session)
    design = {"unsubscribe_title_en": "Leaving so soon?", "primary_color": "#ff5a1f"}
    settings_service.update(session, Actor.system("tests"), DesignSettings, design)
    session.commit()
    page = client.get(_url(message), headers=ENGLISH).text
    assert "Leaving so soon?" in page
    assert "--brand:#ff5a1f" in page


def test_a_complaint_unsubscribes_from_the_channel(session: Session) -> None:
    customer, message = _setup(session)
    assert consent_service.complained(session, message, "abuse report from the mailbox provider")
    session.commit()
    assert session.get(Customer, customer.id).allow_email is False  # type: ignore[union-attr]
    [record] = _records(session)
    assert (record.source, record.scope, record.reason_text) == (
        "complaint",
        "channel",
        "abuse report from the mailbox provider",
    )
    assert not consent_service.complained(session, message)  # a second report changes nothing


def test_a_providers_complaint_callback_unsubscribes_from_the_channel(session: Session) -> None:
    customer, message = _setup(session)
    message.provider_message_id = "esp-42"
    session.commit()
    update = DeliveryUpdate("esp-42", DeliveryState.COMPLAINT, detail="feedback loop: abuse")
    assert delivery_service.apply_receipts(session, [update]) == 1
    session.commit()
    session.expire_all()
    assert session.get(Customer, customer.id).allow_email is False  # type: ignore[union-attr]
    [record] = _records(session)
    assert (record.source, record.scope, record.message_id) == ("complaint", "channel", message.id)
    assert [e.kind for e in events_of(session, message)] == ["unsubscribed"]
