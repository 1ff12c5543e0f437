"""Double opt-in: a new or changed address is asked once by a confirmation e-mail; until its link is used
(a POST — opening it confirms nothing), e-mail is suppressed with the reason `not_confirmed`."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from smartcomm.audit.actor import Actor
from smartcomm.customers.schemas import CustomerIn
from smartcomm.customers.service import customer_service
from smartcomm.delivery.ledger import Source
from smartcomm.delivery.schemas import InlineSource, PlanRequest
from smartcomm.delivery.service import delivery_service
from smartcomm.models import Customer, EmailConfirmation, Message, MessageContent
from smartcomm.settings.schemas import DeliverySettings
from smartcomm.settings.service import settings_service
from tests.conftest import UIClient
from tests.tracking_public.helpers import audit_of, domain_events

ACTOR = Actor.system("tests")
ENGLISH = {"Accept-Language": "en"}


def _double_opt_in(session: Session, on: bool = True) -> None:
    settings_service.update(session, ACTOR, DeliverySettings, {"double_opt_in": on})
    session.commit()


def _customer(session: Session, email: str, external_id: str = "C-7") -> Customer:
    customer, _ = customer_service.upsert(session, ACTOR, CustomerIn(external_id=external_id, email=email))
    session.commit()  # the outbox hands customer.created to its subscribers after the commit
    return customer


def _confirmations(session: Session, customer: Customer) -> list[EmailConfirmation]:
    session.expire_all()
    statement = select(EmailConfirmation).where(EmailConfirmation.customer_id == customer.id)
    return list(session.scalars(statement.order_by(EmailConfirmation.id)))


def _newsletter(session: Session, customer: Customer, occasion: str) -> Message:
    parts = {"subject": "News", "html": "<p>Hello</p>", "text": "Hello"}
    request = PlanRequest(
        source_kind=Source.MAILING,
        channel="email",
        customer_id=customer.id,
        source_id=1,
        occurrence=occasion,
        inline=InlineSource("email", parts),
    )
    [message] = delivery_service.plan(session, [request])
    session.commit()
    return message


def _confirm_link(session: Session, confirmation: EmailConfirmation) -> str:
    """The link the customer received, read from the e-mail the sandbox delivered."""
    content = session.get(MessageContent, confirmation.message_id)
    assert content is not None and content.content is not None
    found = re.search(r"http://[^\"'\s]+(/confirm/[A-Za-z0-9_-]+)", content.content["html"])
    assert found, content.content["html"][:500]
    return found.group(1)


def test_a_new_address_is_asked_once_and_gets_no_other_email_until_confirmed(
    client: UIClient, session: Session
) -> None:
    _double_opt_in(session)
    customer = _customer(session, "olga@example.com")
    [confirmation] = _confirmations(session, customer)
    assert confirmation.email == "olga@example.com" and confirmation.confirmed_at is None
    asking = session.get(Message, confirmation.message_id)
    assert asking is not None and asking.source_kind == "confirmation"
    assert asking.status in ("sent", "delivered")  # the confirmation itself is never held back
    assert _newsletter(session, customer, "before").reason == "not_confirmed"

    link = _confirm_link(session, confirmation)
    page = client.get(link, headers=ENGLISH)
    assert page.status_code == 200 and 'id="confirm-button"' in page.text
    session.expire_all()
    assert session.get(Customer, customer.id).confirmed_email is None  # type: ignore[union-attr]

    done = client.post(link, headers=ENGLISH)
    assert done.status_code == 200 and "Your e-mail address is confirmed." in done.text
    session.expire_all()
    confirmed = session.get(Customer, customer.id)
    assert confirmed is not None and confirmed.confirmed_email == "olga@example.com"
    assert confirmed.email_confirmed_at is not None
    [proof] = _confirmations(session, customer)
    assert proof.confirmed_at is not None and proof.ip_address == "testclient"
    entry = [e for e in audit_of(session, "customer", customer.id) if e.action == "confirm_email"]
    assert [(e.actor_kind, e.changes) for e in entry] == [
        ("customer", {"confirmed_email": [None, "olga@example.com"]})
    ]
    assert any(
        e.payload["customers"][0].get("email_confirmed") for e in domain_events(session, "consent.changed")
    )
    assert _newsletter(session, customer, "after").reason != "not_confirmed"

    customer_service.upsert(session, ACTOR, CustomerIn(external_id="C-7", first_name="Olga"))
    session.commit()
    assert len(_confirmations(session, customer)) == 1  # a change of name asks nothing


def test_a_changed_address_is_asked_again_and_the_old_link_confirms_nothing(
    client: UIClient, session: Session
) -> None:
    _double_opt_in(session)
    customer = _customer(session, "olga@example.com")
    old_link = _confirm_link(session, _confirmations(session, customer)[0])
    customer_service.upsert(session, ACTOR, CustomerIn(external_id="C-7", email="olga.new@example.com"))
    session.commit()
    old, new = _confirmations(session, customer)
    assert (old.email, new.email) == ("olga@example.com", "olga.new@example.com")
    response = client.post(old_link, headers=ENGLISH)
    assert response.status_code == 410
    assert "This address is no longer yours" in response.text
    session.expire_all()
    assert session.get(Customer, customer.id).confirmed_email is None  # type: ignore[union-attr]


def test_nothing_is_asked_or_held_back_while_double_opt_in_is_off(session: Session) -> None:
    _double_opt_in(session, on=False)
    customer = _customer(session, "ivan@example.com")
    assert _confirmations(session, customer) == []
    assert _newsletter(session, customer, "off").reason is None


def test_an_unknown_confirmation_link_is_a_404_page(client: UIClient) -> None:
    assert client.get("/confirm/not-a-token", headers=ENGLISH).status_code == 404
    assert client.post("/confirm/not-a-token").status_code == 404
