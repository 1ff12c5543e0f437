"""Rows of a mailing as its report reads them: the mailing, its ledger messages with their milestones and
counters, open events, unsubscribes, control members, A/B assignments, receipts and credited receipts."""

from __future__ import annotations

import itertools
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from smartcomm.audit.actor import Actor
from smartcomm.models import (
    AttributedReceipt,
    Customer,
    Mailing,
    MailingAssignment,
    MailingControlMember,
    Message,
    MessageEvent,
    Receipt,
)
from smartcomm.models.consent import UnsubscribeRecord
from smartcomm.settings.schemas import DeliverySettings, GeneralSettings
from smartcomm.settings.service import settings_service
from tests.attribution.helpers import T0, make_customer, make_receipt

ACTOR = Actor.system("tests")
_numbers = itertools.count(1)

__all__ = ["T0", "make_customer", "make_receipt"]


def make_mailing(session: Session, **values: Any) -> Mailing:
    fields: dict[str, Any] = {
        "channel": "email",
        "name": f"Report mailing {next(_numbers)}",
        "status": "sent",
        "control_seed": 7,
        "started_at": T0,
    }
    mailing = Mailing(**(fields | values))
    session.add(mailing)
    session.flush()
    return mailing


def add_message(session: Session, mailing: Mailing, customer: Customer | None, **values: Any) -> Message:
    """A message of the mailing; `values` set its status, reason, milestones and counters."""
    fields: dict[str, Any] = {
        "idempotency_key": f"report-{next(_numbers)}",
        "source_kind": "mailing",
        "source_id": mailing.id,
        "customer_id": customer.id if customer else None,
        "channel": "email" if mailing.channel == "email" else mailing.channel,
        "status": "sent",
        "recipient": f"r{next(_numbers)}@example.com",
        "created_at": T0,
        "next_attempt_at": T0,
    }
    message = Message(**(fields | values))
    session.add(message)
    session.flush()
    return message


def add_open(session: Session, message: Message, when: datetime, machine: bool = False) -> None:
    session.add(MessageEvent(message_id=message.id, kind="opened", occurred_at=when, is_machine=machine))
    session.flush()


def unsubscribe(session: Session, message: Message, source: str = "page") -> None:
    assert message.customer_id is not None
    session.add(
        UnsubscribeRecord(
            customer_id=message.customer_id,
            message_id=message.id,
            channel=message.channel,
            scope="channel",
            source=source,
        )
    )
    session.flush()


def credit(session: Session, receipt: Receipt, message: Message, credited: bool = True) -> None:
    session.add(
        AttributedReceipt(
            receipt_id=receipt.id,
            message_id=message.id,
            customer_id=receipt.customer_id,
            source_kind="mailing",
            source_id=message.source_id,
            channel=message.channel,
            touched_at=T0,
            purchased_at=receipt.purchased_at,
            amount=receipt.total,
            credited=credited,
        )
    )
    session.flush()


def add_control(session: Session, mailing: Mailing, customers: list[Customer]) -> None:
    session.add_all([MailingControlMember(mailing_id=mailing.id, customer_id=c.id) for c in customers])
    session.flush()


def assign(session: Session, mailing: Mailing, customers: list[Customer], variant: int | None) -> None:
    session.add_all(
        [MailingAssignment(mailing_id=mailing.id, customer_id=c.id, variant=variant) for c in customers]
    )
    session.flush()


def set_time_zone(session: Session, zone: str) -> None:
    settings_service.update(session, ACTOR, GeneralSettings, {"time_zone": zone})


def set_attribution_days(session: Session, days: int) -> None:
    settings_service.update(session, ACTOR, DeliverySettings, {"attribution_days": days})


def money(value: str) -> Decimal:
    return Decimal(value)
