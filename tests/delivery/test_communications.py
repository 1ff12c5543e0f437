"""The customer profile's Communications: the customer's messages with channel, source, status, opens and
clicks (people and machines apart) and history, each linking to the Outbox; paged, at a fixed cost."""

from __future__ import annotations

from sqlalchemy.orm import Session

from smartcomm.delivery.service import delivery_service
from smartcomm.models import Customer
from tests.conftest import UIClient
from tests.delivery.helpers import email_template, make_customer, request_for
from tests.delivery.test_outbox_pages import counted, signed_in


def messages_to(session: Session, customer: Customer, count: int) -> None:
    version = email_template(session)
    requests = [request_for(customer, version, occurrence=f"n{n}") for n in range(count)]
    delivery_service.plan(session, requests)
    session.commit()


def test_the_profile_lists_the_customers_messages_with_their_history(
    client: UIClient, session: Session
) -> None:
    customer, other = make_customer(session), make_customer(session)
    messages_to(session, customer, 2)
    messages_to(session, other, 1)
    page = signed_in(client, session, "operator").get(f"/customers/{customer.id}?tab=communications").text
    assert page.count('data-message-id="') == 2
    assert 'href="/outbox/' in page and 'data-event="delivered"' in page
    assert 'data-count="delivered"' in page


def test_the_communications_cost_the_same_queries_for_one_message_or_ten(
    client: UIClient, session: Session
) -> None:
    customer = make_customer(session)
    messages_to(session, customer, 1)
    client = signed_in(client, session, "marketer")
    url = f"/customers/{customer.id}?tab=communications"
    with counted(session) as one:
        client.get(url)
    messages_to(session, customer, 9)
    with counted(session) as ten:
        client.get(url)
    assert len(ten) == len(one)


def test_the_section_pages_by_itself(client: UIClient, session: Session) -> None:
    customer = make_customer(session)
    messages_to(session, customer, 12)
    client = signed_in(client, session, "marketer")
    headers = {"HX-Request": "true", "HX-Target": "communications-section"}
    second = client.get(f"/customers/{customer.id}?tab=communications&communications_page=2", headers=headers)
    assert second.text.count('data-message-id="') == 2 and "<html" not in second.text
