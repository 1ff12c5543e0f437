"""The sample messages of a new installation: order confirmations and "ready for pickup" notices for the
demo's latest online orders, so the Outbox and the customers' Communications tabs have something to show.

They are transactional messages sent the way `POST /api/v1/messages` sends them (recorded in the ledger,
judged by the policy gate, dispatched by the worker after the commit — to the sandbox in a new
installation). Each one's idempotency key is made of its order's number, so sending the samples again
never makes a second message for an order.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from smartcomm.audit.actor import Actor
from smartcomm.delivery.schemas import CustomerRef, MessageCreate, SmsLeg
from smartcomm.delivery.transactional import transactional_service
from smartcomm.demo.example_templates import ORDER_CONFIRMATION, ORDER_READY
from smartcomm.demo.repository import DemoRepository
from smartcomm.kit.time import utcnow
from smartcomm.models import Message
from smartcomm.settings.schemas import GeneralSettings
from smartcomm.settings.service import settings_service

ORDER_CONFIRMATIONS = 10
PICKUP_NOTICES = 3
PICKUP_DAYS = 3  # how long an order waits at the pickup point
# Far shorter than the 3 hours of the settings: the SMS of a Viber message the sandbox does not deliver
# (numbers ending in an odd digit) shows up in the Outbox a couple of minutes after the start.
CASCADE_TIMEOUT_MINUTES = 2


def send_sample_messages(session: Session, actor: Actor, templates: dict[tuple[str, str], int]) -> int:
    """Send the samples (those sent before come back as they are); the number of messages recorded."""
    messages = [
        *_order_confirmations(session, actor, templates[("email", ORDER_CONFIRMATION)]),
        *_pickup_notices(session, actor, templates[("viber", ORDER_READY)], templates[("sms", ORDER_READY)]),
    ]
    return len(messages)


def _order_confirmations(session: Session, actor: Actor, template_id: int) -> list[Message]:
    """An e-mail for each of the latest online orders of customers with an e-mail address."""
    messages: list[Message] = []
    for customer_id, order in DemoRepository(session).latest_online_orders("email", ORDER_CONFIRMATIONS):
        body = MessageCreate(
            channel="email",
            customer=CustomerRef(id=customer_id),
            template_id=template_id,
            context={"order": order},
        )
        messages += transactional_service.send(session, actor, body, f"demo-order-{order}")
    return messages


def _pickup_notices(session: Session, actor: Actor, viber_id: int, sms_id: int) -> list[Message]:
    """Viber with an SMS fallback for the latest online orders of customers with a phone number."""
    context: dict[str, Any] = {"pickup_until": (_today(session) + timedelta(days=PICKUP_DAYS)).isoformat()}
    messages: list[Message] = []
    for customer_id, order in DemoRepository(session).latest_online_orders("phone", PICKUP_NOTICES):
        body = MessageCreate(
            channel="sms_viber",
            customer=CustomerRef(id=customer_id),
            template_id=viber_id,
            sms=SmsLeg(template_id=sms_id),
            context=context | {"order": order},
            cascade_timeout_minutes=CASCADE_TIMEOUT_MINUTES,
        )
        messages += transactional_service.send(session, actor, body, f"demo-pickup-{order}")
    return messages


def _today(session: Session) -> date:
    zone = settings_service.read(session, GeneralSettings).time_zone
    return utcnow().astimezone(ZoneInfo(zone)).date()
