"""Planning and sending through the sandbox: a message is one ledger row under its key however many times
it is planned; the gate judges it when planned and again when sent; outcomes and history are recorded."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import time_machine
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from smartcomm.delivery import cascade
from smartcomm.delivery.dispatch import Dispatcher
from smartcomm.delivery.ledger import Reason, Status
from smartcomm.delivery.repository import LedgerRepository
from smartcomm.delivery.schemas import content_from_json
from smartcomm.delivery.service import delivery_service
from smartcomm.kit.time import utcnow
from smartcomm.models import Customer, DomainEvent, Message, MessageContent, Subscription
from tests.delivery.helpers import (
    email_template,
    history,
    make_category,
    make_customer,
    reload,
    request_for,
    text_template,
)

MOSCOW_NOON = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
MOSCOW_NIGHT = datetime(2026, 6, 1, 20, 0, tzinfo=UTC)  # 23:00 in Moscow


def messages(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(Message)) or 0)


def test_planning_the_same_message_twice_records_it_once(session: Session) -> None:
    customer, version = make_customer(session), email_template(session)
    first = delivery_service.plan(session, [request_for(customer, version), request_for(customer, version)])
    again = delivery_service.plan(session, [request_for(customer, version)])
    assert first[0].id == first[1].id == again[0].id
    assert messages(session) == 1
    assert history(session, first[0].id) == ["planned"]


def test_another_occurrence_or_customer_is_another_message(session: Session) -> None:
    one, other, version = make_customer(session), make_customer(session), email_template(session)
    planned = delivery_service.plan(
        session,
        [request_for(one, version), request_for(one, version, occurrence="two"), request_for(other, version)],
    )
    assert len({message.id for message in planned}) == 3


@time_machine.travel(MOSCOW_NOON, tick=False)
def test_a_sandbox_email_is_sent_and_delivered_with_its_content_kept(session: Session) -> None:
    customer, version = make_customer(session, first_name="Olga"), email_template(session)
    message = delivery_service.plan(session, [request_for(customer, version)])[0]
    session.commit()  # the dispatcher is woken after the commit (jobs run at once in tests)
    sent = reload(session, message)
    assert sent.status == Status.DELIVERED and sent.is_sandbox
    assert sent.recipient == customer.email and sent.sent_at == MOSCOW_NOON
    assert history(session, sent.id) == ["planned", "sent", "delivered"]
    stored = session.get(MessageContent, sent.id)
    assert stored is not None and stored.content is not None
    content = content_from_json(stored.content)
    assert content.subject == "Hello Olga"  # type: ignore[union-attr]
    assert stored.headers["Message-ID"].startswith(f"<{sent.id}.")


def test_a_customer_who_switched_the_channel_off_is_suppressed_when_planned(session: Session) -> None:
    customer, version = make_customer(session, allow_email=False), email_template(session)
    message = delivery_service.plan(session, [request_for(customer, version)])[0]
    assert (message.status, message.reason) == (Status.SUPPRESSED, Reason.UNSUBSCRIBED_CHANNEL)
    assert history(session, message.id) == ["suppressed"]


def test_a_category_message_needs_the_subscription(session: Session) -> None:
    category = make_category(session)
    subscribed, unsubscribed = make_customer(session), make_customer(session)
    session.add(
        Subscription(customer_id=subscribed.id, category_id=category.id, channel="email", subscribed=True)
    )
    session.add(
        Subscription(customer_id=unsubscribed.id, category_id=category.id, channel="email", subscribed=False)
    )
    version = email_template(session)
    planned = delivery_service.plan(
        session,
        [
            request_for(c, version, category_id=category.id)
            for c in (subscribed, unsubscribed, make_customer(session))
        ],
    )
    assert [m.reason for m in planned] == [None, Reason.UNSUBSCRIBED_CATEGORY, Reason.UNSUBSCRIBED_CATEGORY]


@time_machine.travel(MOSCOW_NIGHT, tick=False)
def test_an_sms_at_night_waits_for_the_morning_then_goes(session: Session) -> None:
    customer, version = make_customer(session), text_template(session, "sms")
    message = delivery_service.plan(session, [request_for(customer, version)])[0]
    session.commit()
    waiting = reload(session, message)
    assert (waiting.status, waiting.reason) == (Status.PLANNED, Reason.SEND_WINDOW)
    assert waiting.next_attempt_at == datetime(2026, 6, 2, 6, 0, tzinfo=UTC)  # 09:00 in Moscow
    with time_machine.travel(datetime(2026, 6, 2, 6, 0, 30, tzinfo=UTC), tick=False):
        assert Dispatcher().run() == 1
    assert reload(session, message).status == Status.DELIVERED


@time_machine.travel(MOSCOW_NOON, tick=False)
def test_the_gate_looks_again_before_sending(session: Session) -> None:
    customer, version = make_customer(session), email_template(session)
    later = MOSCOW_NOON + timedelta(hours=1)
    message = delivery_service.plan(session, [request_for(customer, version, not_before=later)])[0]
    session.commit()
    assert reload(session, message).status == Status.PLANNED
    session.get(Customer, customer.id).allow_email = False  # type: ignore[union-attr]
    session.commit()
    with time_machine.travel(later, tick=False):
        Dispatcher().run()
    suppressed = reload(session, message)
    assert (suppressed.status, suppressed.reason) == (Status.SUPPRESSED, Reason.UNSUBSCRIBED_CHANNEL)
    assert history(session, message.id) == ["planned", "suppressed"]


@time_machine.travel(MOSCOW_NOON, tick=False)
def test_a_landline_gets_no_sms_and_a_customer_without_tokens_no_push(session: Session) -> None:
    landline = make_customer(session, phone="+74951234567", phone_type="landline")
    sms, push = text_template(session, "sms"), text_template(session, "push")
    planned = delivery_service.plan(session, [request_for(landline, sms), request_for(landline, push)])
    assert [m.reason for m in planned] == [Reason.LANDLINE, Reason.NO_PUSH_TOKEN]
    assert {m.status for m in planned} == {Status.SUPPRESSED}


@time_machine.travel(MOSCOW_NOON, tick=False)
def test_a_delivery_is_published_as_a_domain_event_in_its_transaction(session: Session) -> None:
    customer, version = make_customer(session), email_template(session)
    message = delivery_service.plan(session, [request_for(customer, version)])[0]
    session.commit()
    published = session.scalars(select(DomainEvent).where(DomainEvent.kind == "message.delivered")).all()
    assert [(event.customer_id, event.payload["message_id"]) for event in published] == [
        (customer.id, message.id)
    ]


@time_machine.travel(MOSCOW_NOON, tick=False)
def test_cascades_due_are_settled_by_the_periodic_look(session: Session) -> None:
    customer = make_customer(session, phone="+79161234567")  # odd: the sandbox's Viber does not reach it
    viber, sms = text_template(session, "viber"), text_template(session, "sms")
    first = delivery_service.plan(session, [request_for(customer, viber)])[0]
    leg = request_for(
        customer, sms, part="cascade-sms", cascade_of=first.id, options={"cascade_timeout_minutes": 10}
    )
    second = delivery_service.plan(session, [leg])[0]
    session.commit()
    assert reload(session, first).status == Status.SENT
    assert cascade.check_due(session) == 0
    with time_machine.travel(MOSCOW_NOON + timedelta(minutes=10, seconds=1), tick=False):
        assert cascade.check_due(session) == 1
        session.commit()
    assert reload(session, second).status == Status.DELIVERED


def test_a_claim_takes_no_more_than_its_batch(session: Session) -> None:
    version = email_template(session)
    customers = [make_customer(session) for _ in range(6)]
    delivery_service.plan(session, [request_for(customer, version) for customer in customers])
    session.flush()
    repository = LedgerRepository(session)
    later = utcnow() + timedelta(seconds=1)
    first = repository.claim("worker-1", later, 2)
    second = repository.claim("worker-2", later, 3)
    assert (len(first), len(second)) == (2, 3)
    assert not set(first) & set(second)
    rendered = select(func.count()).where(Message.status == Status.RENDERED)
    assert session.scalar(rendered) == 5
