"""The Outbox: the list filtered and searched, a message's page with its content and history, the e-mail
served apart with its own strict policy, and the sandbox's simulation buttons (a form POST with the CSRF
token, audited); a page costs the same number of queries however many messages it lists."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from smartcomm.delivery import outbox_queries
from smartcomm.delivery.ledger import Reason, Status
from smartcomm.delivery.service import delivery_service
from smartcomm.models import AuditEntry, Customer, Message
from tests.conftest import UIClient
from tests.delivery.helpers import email_template, make_customer, reload, request_for, text_template
from tests.factories import make_user


def signed_in(client: UIClient, session: Session, role: str) -> UIClient:
    user, password = make_user(session, role=role)
    client.sign_in(user.email, password)
    return client


def sent_messages(session: Session, count: int = 1, channel: str = "email") -> list[Message]:
    version = email_template(session) if channel == "email" else text_template(session, channel)
    customers = [make_customer(session, phone=f"+7916555{n:04d}") for n in range(count)]
    planned = delivery_service.plan(
        session, [request_for(c, version, options={"deliver_immediately": True}) for c in customers]
    )
    session.commit()
    return [reload(session, message) for message in planned]


@contextmanager
def counted(session: Session) -> Iterator[list[str]]:
    statements: list[str] = []
    engine = session.get_bind().engine  # type: ignore[union-attr]

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def test_the_outbox_lists_messages_with_recipient_excerpt_and_status(
    client: UIClient, session: Session
) -> None:
    [message] = sent_messages(session)
    page = signed_in(client, session, "marketer").get("/outbox")
    assert page.status_code == 200
    assert message.recipient in page.text and "Hello Ivan" in page.text
    assert 'data-status="delivered"' in page.text


def test_filters_and_search_narrow_the_list(client: UIClient, session: Session) -> None:
    [email] = sent_messages(session)
    [sms] = sent_messages(session, channel="sms")
    client = signed_in(client, session, "operator")
    only_sms = client.get("/outbox?channel=sms").text
    assert f'data-message-id="{sms.id}"' in only_sms and f'data-message-id="{email.id}"' not in only_sms
    assert email.recipient is not None
    found = client.get(
        f"/outbox?q={email.recipient[:6].upper()}",
        headers={"HX-Request": "true", "HX-Target": "outbox-table"},
    )
    assert f'data-message-id="{email.id}"' in found.text and "<html" not in found.text
    assert "No messages match" in client.get("/outbox?status=failed").text


def test_a_list_page_costs_the_same_queries_for_one_message_or_twenty(
    client: UIClient, session: Session
) -> None:
    sent_messages(session)
    client = signed_in(client, session, "marketer")
    with counted(session) as one:
        client.get("/outbox")
    sent_messages(session, 19)
    with counted(session) as twenty:
        client.get("/outbox")
    assert len(twenty) == len(one)


def test_a_messages_page_shows_headers_history_and_the_email_in_a_sandboxed_frame(
    client: UIClient, session: Session
) -> None:
    [message] = sent_messages(session)
    client = signed_in(client, session, "marketer")
    page = client.get(f"/outbox/{message.id}").text
    assert f'src="/outbox/{message.id}/body" sandbox=""' in page
    assert 'data-header="Message-ID"' in page and 'data-header="List-Unsubscribe"' in page
    assert [kind for kind in ("planned", "sent", "delivered") if f'data-event="{kind}"' in page] == [
        "planned",
        "sent",
        "delivered",
    ]
    body = client.get(f"/outbox/{message.id}/body")
    assert "Dear Ivan" in body.text
    assert (
        "sandbox" in body.headers["content-security-policy"]
        and "script-src" not in body.headers["content-security-policy"]
    )
    assert "/t/o/" not in body.text  # no open pixel: looking at it here is not an open


def test_an_sms_shows_as_a_phone_would(client: UIClient, session: Session) -> None:
    [message] = sent_messages(session, channel="viber")
    page = signed_in(client, session, "operator").get(f"/outbox/{message.id}").text
    assert 'class="sc-bubble sc-bubble-viber"' in page and "Hi Ivan!" in page


def test_simulating_an_open_and_a_click_records_them_through_tracking(
    client: UIClient, session: Session
) -> None:
    [message] = sent_messages(session)
    client = signed_in(client, session, "operator")
    assert client.submit(f"/outbox/{message.id}/simulate", {"action": "opened"}).status_code == 303
    assert client.submit(f"/outbox/{message.id}/simulate", {"action": "clicked"}).status_code == 303
    clicked = reload(session, message)
    assert (clicked.status, clicked.opens, clicked.clicks) == (Status.CLICKED, 1, 1)
    audited = session.scalar(
        select(func.count()).where(AuditEntry.object_type == "message", AuditEntry.action == "simulate")
    )
    assert audited == 2


def test_a_simulated_bounce_marks_the_address_invalid(client: UIClient, session: Session) -> None:
    [message] = sent_messages(session)
    signed_in(client, session, "marketer").submit(f"/outbox/{message.id}/simulate", {"action": "bounced"})
    bounced = reload(session, message)
    assert (bounced.status, bounced.reason) == (Status.FAILED, Reason.BOUNCED)
    customer = session.get(Customer, bounced.customer_id)
    assert customer is not None and customer.email_valid is False


def test_an_analyst_sees_the_outbox_but_cannot_simulate(client: UIClient, session: Session) -> None:
    [message] = sent_messages(session)
    client = signed_in(client, session, "analyst")
    page = client.get(f"/outbox/{message.id}").text
    assert 'id="simulate"' not in page
    assert client.submit(f"/outbox/{message.id}/simulate", {"action": "opened"}).status_code == 403
    assert reload(session, message).opens == 0


def test_a_post_without_the_csrf_token_changes_nothing(client: UIClient, session: Session) -> None:
    [message] = sent_messages(session)
    client = signed_in(client, session, "marketer")
    assert client.post(f"/outbox/{message.id}/simulate", data={"action": "opened"}).status_code == 403
    assert reload(session, message).opens == 0


def test_a_huge_outbox_is_counted_only_up_to_its_cap_and_still_pages_on(
    client: UIClient, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(outbox_queries, "COUNT_CAP", 30)
    sent_messages(session, count=31)
    client = signed_in(client, session, "marketer")
    first = client.get("/outbox").text
    assert "Showing 1–25 of more than 30" in first and "1 / 2+" in first
    second = client.get("/outbox?page=2").text
    assert "Showing 26–31 of more than 30" in second and "2 / 2+" in second
    monkeypatch.setattr(outbox_queries, "COUNT_CAP", 31)
    assert "Showing 1–25 of 31" in client.get("/outbox").text
