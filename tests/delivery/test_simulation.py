"""The sandbox's simulated audience opens a share of the sandbox's e-mails and clicks some of those, through
the tracking path (people's opens and clicks, flagged simulated); who does is fixed by the message, so
running it again changes nothing; messages that went to a real provider are never touched."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from smartcomm.delivery.service import delivery_service
from smartcomm.delivery.simulation import simulate_audience
from smartcomm.models import Message, MessageEvent
from tests.delivery.helpers import email_template, make_customer, request_for


def test_a_share_of_sandbox_messages_is_opened_and_some_clicked_once(session: Session) -> None:
    version = email_template(session)
    customers = [make_customer(session) for _ in range(40)]
    planned = delivery_service.plan(
        session, [request_for(c, version, options={"deliver_immediately": True}) for c in customers]
    )
    session.commit()
    session.expire_all()  # the dispatcher sent them in sessions of its own
    ids = [message.id for message in planned]
    opened = simulate_audience(session, ids)
    session.commit()
    assert 5 < opened < 35  # about 45 %
    assert simulate_audience(session, ids) == 0
    counts = session.execute(
        select(func.sum(Message.opens), func.sum(Message.clicks), func.sum(Message.machine_opens))
    ).one()
    assert counts[0] == opened and 0 < counts[1] < opened and counts[2] == 0
    flags = session.scalars(select(MessageEvent.data).where(MessageEvent.kind == "opened")).all()
    assert all(data.get("simulated") for data in flags)
