"""What a new installation starts with besides its customers: example templates of every channel that
render for the demo's customers, sample messages recorded in the ledger and sent, and nothing made twice
when the starters run again."""

from __future__ import annotations

import re
from typing import Any

import pytest
from markupsafe import escape
from sqlalchemy import select
from sqlalchemy.orm import Session

from smartcomm.analytics.dashboard import dashboard_service
from smartcomm.audit.actor import Actor
from smartcomm.channels.base import EmailContent, PushContent, SmsContent, ViberContent
from smartcomm.delivery.ledger import FINAL, PROGRESS, Source, Status
from smartcomm.demo.example_templates import (
    BIRTHDAY,
    CART_REMINDER,
    CONFIRMATION_CODE,
    ORDER_CONFIRMATION,
    ORDER_READY,
)
from smartcomm.demo.starters import Starters, add_starters
from smartcomm.models import (
    AuditEntry,
    Container,
    ContainerItem,
    Customer,
    Message,
    MessageContent,
    MessageTemplate,
    MessageTemplateVersion,
    RfmCalculation,
    Segment,
)
from smartcomm.personalization.context import RenderContext, context_builder
from smartcomm.personalization.renderer import renderer
from smartcomm.personalization.service import template_service
from tests.demo.conftest import count, make_demo

ACTOR = Actor.system("first run")
EXAMPLES = {
    ("email", ORDER_CONFIRMATION),
    ("email", BIRTHDAY),
    ("sms", CONFIRMATION_CODE),
    ("sms", ORDER_READY),
    ("viber", ORDER_READY),
    ("push", CART_REMINDER),
}
EVENT = {"order": "WEB-100000001-007", "pickup_until": "2026-06-04"}


@pytest.fixture
def started(session: Session) -> Starters:
    make_demo(session, customers=150)
    starters = add_starters(session, ACTOR)
    session.commit()  # the dispatcher sends the sample messages once the starters are committed
    return starters


def templates(session: Session) -> dict[tuple[str, str], MessageTemplate]:
    """The example templates (the history of communication adds its mailings' own)."""
    found = {(t.channel, t.name): t for t in session.scalars(select(MessageTemplate))}
    return {key: template for key, template in found.items() if key in EXAMPLES}


def rendered(session: Session, template: MessageTemplate, context: RenderContext) -> Any:
    version = template_service.latest(session, template)
    return renderer.render(version.id, context, session=session)


def a_customer_with_receipts_and_a_cart(session: Session) -> Customer:
    statement = (
        select(Customer)
        .join(ContainerItem, ContainerItem.customer_id == Customer.id)
        .join(Container, Container.id == ContainerItem.container_id)
        .where(Container.code == "cart", Customer.receipt_count > 0, Customer.first_name.is_not(None))
        .order_by(Customer.id)
        .limit(1)
    )
    found = session.scalar(statement)
    assert found is not None, "the demo base has customers with receipts and a cart"
    return found


def test_the_library_holds_the_example_templates_each_saved_once_with_its_history(
    session: Session, started: Starters
) -> None:
    found = templates(session)
    assert set(found) == EXAMPLES and started.templates == len(EXAMPLES)
    assert {t.version_count for t in found.values()} == {1}
    order = template_service.latest(session, found[("email", ORDER_CONFIRMATION)])
    # Made in the visual MJML editor, so it opens there; compiled to HTML when saved.
    assert (order.editor, order.mjml is not None) == ("visual", True)
    assert "{{ unsubscribe_url }}" in (order.html or "") and "{{ preferences_url }}" in (order.html or "")
    assert order.text_derived and "{% for line in order.lines %}" in (order.text or "")
    created = session.scalars(
        select(AuditEntry.object_label).where(
            AuditEntry.object_type == "message_template", AuditEntry.action == "create"
        )
    ).all()
    names = sorted(name for _, name in EXAMPLES)
    assert sorted(name for name in created if name in names) == names  # and the history's own


def test_every_example_renders_for_a_demo_customer(session: Session, started: Starters) -> None:
    customer = a_customer_with_receipts_and_a_cart(session)
    context = context_builder.for_customer(session, customer.id, {"event": EVENT})
    assert context is not None
    latest = context.variables["receipts"][0]
    cart = context.variables["containers"]["cart"]
    found = templates(session)

    order = rendered(session, found[("email", ORDER_CONFIRMATION)], context)
    assert isinstance(order, EmailContent)
    assert order.subject == f"Заказ № {EVENT['order']} принят"
    assert f"Здравствуйте, {escape(customer.first_name)}!" in order.html
    for line in latest.lines:  # the order's products, in the HTML (escaped) and in the text part
        assert escape(line.name) in order.html and line.name in order.text
    assert f"https://shop.example.ru/account/orders/{EVENT['order']}?utm_source=smartcomm" in order.html
    assert "{{" not in order.html + order.text and "{%" not in order.html + order.text

    birthday = rendered(session, found[("email", BIRTHDAY)], context)
    assert isinstance(birthday, EmailContent)
    assert birthday.subject.startswith(f"{customer.first_name}, с днём рождения!")
    assert "https://shop.example.ru/birthday?utm_source=smartcomm" in birthday.html

    code = rendered(session, found[("sms", CONFIRMATION_CODE)], context)
    assert isinstance(code, SmsContent) and re.fullmatch(r"Код подтверждения: \d{4}\. .+", code.text)

    ready = rendered(session, found[("viber", ORDER_READY)], context)
    assert isinstance(ready, ViberContent)
    assert ready.text.startswith(f"{customer.first_name}, ваш заказ № {EVENT['order']} готов к выдаче!")
    assert EVENT["pickup_until"] not in ready.text  # the date is formatted for the reader
    assert (ready.button_url or "").startswith(f"https://shop.example.ru/account/orders/{EVENT['order']}?")
    sms = rendered(session, found[("sms", ORDER_READY)], context)
    assert isinstance(sms, SmsContent) and sms.text.startswith(f"Заказ {EVENT['order']} готов к выдаче.")

    push = rendered(session, found[("push", CART_REMINDER)], context)
    assert isinstance(push, PushContent)
    assert push.title == f"{customer.first_name}, корзина ждёт"
    assert push.body.startswith(cart.products[0].name) and push.link == "myapp://cart"


def test_the_sample_messages_are_in_the_ledger_with_a_channel_and_a_status(
    session: Session, started: Starters
) -> None:
    statement = select(Message).where(Message.source_kind == Source.TRANSACTIONAL).order_by(Message.id)
    messages = list(session.scalars(statement))  # the history's mailings have their own
    assert 10 <= len(messages) <= 20 and started.messages == len(messages)
    by_channel = {
        channel: [m for m in messages if m.channel == channel] for channel in ("email", "viber", "sms")
    }
    assert (len(by_channel["email"]), len(by_channel["viber"]), len(by_channel["sms"])) == (10, 3, 3)
    assert all(leg.cascade_of in {m.id for m in by_channel["viber"]} for leg in by_channel["sms"])
    # The worker has dispatched them: each is sent (to the sandbox) or ended with its reason.
    for message in messages:
        assert message.status in {*PROGRESS, *FINAL, Status.PLANNED}, message.status
        assert message.status not in FINAL or message.reason, message.id
    delivered = [m for m in by_channel["email"] if m.status in PROGRESS]
    assert len(delivered) >= 7
    # One row of the action history per request, as the API writes it.
    sends = session.scalars(select(AuditEntry).where(AuditEntry.object_type == "message")).all()
    assert len(sends) == 13 and {entry.action for entry in sends} == {"send"}


def test_an_order_confirmation_shows_the_customers_order(session: Session, started: Starters) -> None:
    email = session.scalars(
        select(Message)
        .where(Message.source_kind == Source.TRANSACTIONAL, Message.channel == "email")
        .where(Message.status.in_(PROGRESS))
        .order_by(Message.id)
    ).first()
    assert email is not None and email.customer_id is not None
    stored = session.get(MessageContent, email.id)
    assert stored is not None and stored.content is not None
    order = (email.options or {})["context"]["order"]
    assert stored.content["subject"] == f"Заказ № {order} принят"
    context = context_builder.for_customer(session, email.customer_id)
    assert context is not None
    [latest, *_] = context.variables["receipts"]
    assert latest.number == order  # the order confirmed is the customer's latest receipt, with its lines
    assert all(escape(line.name) in stored.content["html"] for line in latest.lines)


def test_running_the_starters_again_makes_nothing_twice(session: Session, started: Starters) -> None:
    models = (Segment, RfmCalculation, MessageTemplate, MessageTemplateVersion, Message, AuditEntry)
    before = [count(session, model) for model in models]
    again = add_starters(session, ACTOR)
    session.commit()
    assert again == started
    assert [count(session, model) for model in models] == before


def test_the_dashboard_is_computed_from_the_demo_base(session: Session, started: Starters) -> None:
    snapshot = dashboard_service.snapshot(session, "last-12")
    assert snapshot is not None
    data = dashboard_service.data(snapshot)
    assert data.customers == 150
    assert data.returning.customers > 0 and data.one_time.customers > 0
    assert sum(month.regular.receipts + month.assisted.receipts for month in data.sales) > 0
    assert any(month.best is not None for month in data.rfm)  # the first RFM calculation
