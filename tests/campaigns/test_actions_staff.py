"""Send notification and notify manager: a note under the bell of each staff user concerned and an
e-mail to their address through the ledger — once, however often the step is walked."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from smartcomm.audit.actor import Actor
from smartcomm.models import Campaign, FieldDefinition, Message, MessageContent, Notification
from smartcomm.personalization.renderer import renderer
from smartcomm.settings.schemas import GeneralSettings
from smartcomm.settings.service import settings_service
from tests.campaigns.actions_helpers import problems, split, stats, walk_again, where
from tests.campaigns.helpers import active_campaign, buy, node
from tests.delivery.helpers import make_customer
from tests.factories import make_user


@pytest.fixture(autouse=True)
def fresh_renderer() -> Iterator[None]:
    renderer.forget()
    yield
    renderer.forget()


def notifications(session: Session) -> list[Notification]:
    statement = select(Notification).order_by(Notification.id).execution_options(populate_existing=True)
    return list(session.scalars(statement))


def staff_emails(session: Session, campaign: Campaign) -> list[Message]:
    statement = select(Message).where(
        Message.source_kind == "campaign", Message.source_id == campaign.id, Message.customer_id.is_(None)
    )
    return list(session.scalars(statement.order_by(Message.id)))


def test_chosen_staff_users_are_notified_and_emailed_about_the_customer(session: Session) -> None:
    anna, _ = make_user(session, email="anna@shop.example", full_name="Anna")
    boris, _ = make_user(session, email="boris@shop.example", full_name="Boris")
    customer = make_customer(session, first_name="Olga", last_name="Smirnova", external_id="C-77")
    action = node(
        "n", "action.send_notification", user_ids=[anna.id, boris.id], title="Big purchase", text="Call her"
    )
    campaign = active_campaign(session, split(action, {"out": "after"}))

    buy(session, customer)

    notes = notifications(session)
    assert [(n.user_id, n.title, n.link) for n in notes] == [
        (anna.id, "Big purchase", f"/customers/{customer.id}"),
        (boris.id, "Big purchase", f"/customers/{customer.id}"),
    ]
    assert notes[0].body == "Call her\nCustomer: Smirnova Olga (C-77)"
    emails = staff_emails(session, campaign)
    assert sorted((m.recipient, m.status) for m in emails) == [
        ("anna@shop.example", "delivered"), ("boris@shop.example", "delivered"),
    ]  # fmt: skip
    sent = session.get(MessageContent, emails[0].id)
    assert sent is not None and sent.content is not None
    assert sent.content["subject"] == "Big purchase"
    assert "Smirnova Olga (C-77)" in sent.content["text"]
    assert f"/customers/{customer.id}" in sent.content["text"]
    assert where(session, campaign) == {customer.id: "after"}

    walk_again(session, campaign, "n")
    assert len(notifications(session)) == 2 and len(staff_emails(session, campaign)) == 2
    assert stats(session, campaign.id)[("n", "out")] == 2  # walked twice, written once


def test_without_email_only_the_bell_tells(session: Session) -> None:
    anna, _ = make_user(session)
    action = node("n", "action.send_notification", user_ids=[anna.id], title="Hello", email=False)
    campaign = active_campaign(session, split(action, {}))
    buy(session, make_customer(session))

    assert [n.title for n in notifications(session)] == ["Hello"]
    assert staff_emails(session, campaign) == []


def test_template_code_typed_into_a_notification_is_sent_as_text(session: Session) -> None:
    anna, _ = make_user(session)
    typed = "{{ client.first_name }} {% if 1 %}x{% endif %} <b>"
    action = node("n", "action.send_notification", user_ids=[anna.id], title=typed, text=typed)
    campaign = active_campaign(session, split(action, {}))
    buy(session, make_customer(session, first_name="Olga"))

    [email] = staff_emails(session, campaign)
    sent = session.get(MessageContent, email.id)
    assert sent is not None and sent.content is not None
    assert sent.content["subject"] == typed
    assert "{{ client.first_name }} {% if 1 %}x{% endif %} &lt;b&gt;" in sent.content["html"]


def test_a_notification_to_users_who_do_not_exist_is_refused(session: Session) -> None:
    blocked, _ = make_user(session, is_active=False)
    body = split(node("n", "action.send_notification", user_ids=[blocked.id], title="Hi"), {})
    assert problems(session, body) == {
        "nodes.n.settings.user_ids": "Some of the users do not exist or are blocked"
    }
    body = split(node("n", "action.send_notification", user_ids=[], title=""), {})
    assert set(problems(session, body)) == {"nodes.n.settings.user_ids", "nodes.n.settings.title"}


def manager_field(session: Session) -> None:
    session.add(FieldDefinition(object="customer", code="manager", name="Manager", type="string"))
    settings_service.update(
        session, Actor.system("tests"), GeneralSettings, {"manager_email_field": "manager"}
    )
    session.commit()


def test_the_customers_manager_is_emailed_and_a_staff_manager_notified(session: Session) -> None:
    manager_field(session)
    staff, _ = make_user(session, email="Pavel@Shop.example")
    with_staff = make_customer(session, custom={"manager": "pavel@shop.example"})
    with_outsider = make_customer(session, custom={"manager": "agent@partner.example"})
    without = make_customer(session, custom={"manager": "not an address"})
    action = node("m", "action.notify_manager", title="Customer bought again")
    campaign = active_campaign(session, split(action, {"out": "after"}))

    for customer in (with_staff, with_outsider, without):
        buy(session, customer)

    emails = staff_emails(session, campaign)
    assert sorted(m.recipient for m in emails) == ["agent@partner.example", "pavel@shop.example"]
    [note] = notifications(session)
    assert (note.user_id, note.link) == (staff.id, f"/customers/{with_staff.id}")
    placed = where(session, campaign)
    assert (placed[with_staff.id], placed[with_outsider.id], placed[without.id]) == ("after", "after", "m")
    assert stats(session, campaign.id)[("m", "stopped:no_manager")] == 1

    walk_again(session, campaign, "m")
    assert len(staff_emails(session, campaign)) == 2 and len(notifications(session)) == 1


def test_a_fixed_manager_address_gets_every_customer(session: Session) -> None:
    action = node("m", "action.notify_manager", to="address", address="desk@shop.example", title="New buyer")
    campaign = active_campaign(session, split(action, {}))
    buy(session, make_customer(session))
    buy(session, make_customer(session))

    assert [m.recipient for m in staff_emails(session, campaign)] == ["desk@shop.example"] * 2


def test_notify_manager_needs_its_address_or_the_setting(session: Session) -> None:
    assert problems(session, split(node("m", "action.notify_manager", title="Hi"), {})) == {
        "nodes.m.settings.to": "Choose the manager e-mail field in Settings → General first"
    }
    missing = split(node("m", "action.notify_manager", to="address", title="Hi"), {})
    assert list(problems(session, missing)) == ["nodes.m.settings"]
    manager_field(session)
    assert problems(session, split(node("m", "action.notify_manager", title="Hi"), {})) == {}
