"""The loyalty webhook: a whole channel switched off is POSTed to the loyalty system, signed, and retried
until it is taken; a single mailing category sends nothing."""

from __future__ import annotations

import json
import socket
import subprocess
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from smartcomm.audit.actor import Actor
from smartcomm.customers.schemas import ChannelPermissions, CustomerIn, SubscriptionsIn
from smartcomm.customers.service import customer_service
from smartcomm.kit.leases import Owner, this_process
from smartcomm.kit.signed_delivery import MAX_ATTEMPTS
from smartcomm.kit.time import utcnow
from smartcomm.models import Customer, DomainEvent, MailingCategory, WebhookDelivery
from smartcomm.settings.schemas import DeliverySettings
from smartcomm.settings.service import settings_service
from smartcomm.webhooks.tasks import deliver_webhooks
from tests.webhooks.conftest import SECRET, LoyaltySystem

ADMIN = Actor.system("tests")


def configure(session: Session, url: str | None, secret: str | None = SECRET) -> None:
    settings_service.update(session, ADMIN, DeliverySettings, {"webhook_url": url, "webhook_secret": secret})
    session.commit()


def member(session: Session, external_id: str = "C-1") -> Customer:
    customer, _ = customer_service.upsert(session, ADMIN, CustomerIn(external_id=external_id))
    session.commit()
    return customer


def deliveries(session: Session) -> list[WebhookDelivery]:
    return list(session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id).execution_options(
        populate_existing=True
    )))  # fmt: skip


def switch_off(session: Session, customer: Customer, **channels: bool) -> None:
    customer_service.set_permissions(
        session, Actor("user", None, "operator"), customer, ChannelPermissions(**channels)
    )
    session.commit()


def test_a_channel_switched_off_is_posted_signed_once(session: Session, loyalty: LoyaltySystem) -> None:
    configure(session, loyalty.url)
    anna = member(session)
    switch_off(session, anna, email=False, sms=False)

    [request] = loyalty.received
    assert request.signed_correctly
    body = json.loads(request.body)
    event = session.scalars(select(DomainEvent).where(DomainEvent.kind == "consent.changed")).one()
    assert body == {
        "event": "consent.channel_opt_out",
        "event_id": event.id,
        "occurred_at": body["occurred_at"],
        "customer": {"id": anna.id, "external_id": "C-1"},
        "channels": ["email", "sms"],
        "source": "user",
    }
    [delivery] = deliveries(session)
    assert (delivery.status, delivery.attempts, delivery.response_status) == ("delivered", 1, 200)
    assert request.headers["X-Smartcomm-Delivery"] == str(delivery.id)
    assert request.headers["X-Smartcomm-Event"] == "consent.channel_opt_out"

    deliver_webhooks.call_local()  # nothing due any more: nothing is sent again
    assert len(loyalty.received) == 1


def test_an_answer_of_500_is_tried_again_with_the_same_signed_body(
    session: Session, loyalty: LoyaltySystem
) -> None:
    configure(session, loyalty.url)
    loyalty.answers = [500]
    anna = member(session)
    switch_off(session, anna, push=False)

    [delivery] = deliveries(session)
    assert (delivery.status, delivery.attempts, delivery.response_status) == ("pending", 1, 500)
    assert delivery.next_attempt_at > utcnow() and "HTTP 500" in (delivery.error or "")
    assert len(loyalty.received) == 1

    deliver_webhooks.call_local()  # not due yet: the back-off holds it
    assert len(loyalty.received) == 1
    session.execute(update(WebhookDelivery).values(next_attempt_at=utcnow()))
    session.commit()
    deliver_webhooks.call_local()

    first, second = loyalty.received
    assert second.body == first.body and second.signed_correctly
    assert second.headers["X-Smartcomm-Delivery"] == first.headers["X-Smartcomm-Delivery"]
    [delivered] = deliveries(session)
    assert (delivered.status, delivered.attempts, delivered.response_status, delivered.error) == (
        "delivered", 2, 200, None
    )  # fmt: skip


def test_a_delivery_is_given_up_after_the_last_attempt(session: Session, loyalty: LoyaltySystem) -> None:
    configure(session, loyalty.url)
    loyalty.answers = [503, 503]
    switch_off(session, member(session), viber=False)
    session.execute(update(WebhookDelivery).values(attempts=MAX_ATTEMPTS - 1, next_attempt_at=utcnow()))
    session.commit()
    deliver_webhooks.call_local()
    [delivery] = deliveries(session)
    assert (delivery.status, delivery.attempts, delivery.response_status) == (
        "failed",
        MAX_ATTEMPTS,
        503,
    )


def test_a_single_category_sends_nothing(session: Session, loyalty: LoyaltySystem) -> None:
    configure(session, loyalty.url)
    session.add(MailingCategory(code="promo", name="Promotions"))
    anna = member(session)
    customer_service.set_subscriptions(
        session, ADMIN, anna, SubscriptionsIn(categories={"promo": {"email": "N"}})
    )
    session.commit()

    assert session.scalars(select(DomainEvent).where(DomainEvent.kind == "consent.changed")).one()
    assert deliveries(session) == [] and loyalty.received == []


def test_nothing_is_recorded_without_an_address_and_nothing_sent_unsigned(
    session: Session, loyalty: LoyaltySystem
) -> None:
    switch_off(session, member(session, "C-1"), email=False)
    assert deliveries(session) == []

    configure(session, loyalty.url, secret=None)
    switch_off(session, member(session, "C-2"), email=False)
    [delivery] = deliveries(session)
    assert delivery.status == "pending" and "no webhook secret" in (delivery.error or "")
    assert loyalty.received == []


def test_an_attempt_whose_worker_was_killed_is_made_again_at_once(
    session: Session, loyalty: LoyaltySystem
) -> None:
    configure(session, loyalty.url)
    loyalty.answers = [500]
    switch_off(session, member(session), email=False)  # the first attempt fails: the delivery waits
    [delivery] = deliveries(session)
    gone = str(Owner(socket.gethostname(), dead_pid(), "1"))  # a worker of this host, killed
    held = utcnow() + timedelta(seconds=30)
    session.execute(update(WebhookDelivery).values(claimed_by=this_process(), next_attempt_at=held))
    session.commit()
    deliver_webhooks.call_local()
    assert len(loyalty.received) == 1  # held by a live process (this one): left alone

    session.execute(update(WebhookDelivery).values(claimed_by=gone))
    session.commit()
    deliver_webhooks.call_local()
    assert len(loyalty.received) == 2
    [again] = deliveries(session)
    assert (again.id, again.status, again.attempts, again.claimed_by) == (delivery.id, "delivered", 2, None)


def dead_pid() -> int:
    """The pid of a process that has ended."""
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid
