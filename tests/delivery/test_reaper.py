"""The reaper and a dispatcher that died: its messages never handed over go back and are sent by the next
worker; the one it was handing over is sent, unconfirmed, and never sent again. A live worker's messages
are left alone."""

from __future__ import annotations

import socket
import subprocess
import sys

from sqlalchemy import update
from sqlalchemy.orm import Session

from smartcomm.delivery.dispatch import reap
from smartcomm.delivery.ledger import Reason, Status
from smartcomm.delivery.service import delivery_service
from smartcomm.kit.leases import this_process
from smartcomm.kit.time import utcnow
from smartcomm.models import Message
from tests.delivery.helpers import email_template, history, make_customer, reload, request_for


def dead_owner() -> str:
    """The lease identity of a process that has ended."""
    finished = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, check=True
    )
    return f"{socket.gethostname()}:{int(finished.stdout)}:1"


def claimed(session: Session, owner: str, *statuses: Status) -> list[Message]:
    version = email_template(session)
    customers = [make_customer(session) for _ in statuses]
    later = utcnow().replace(year=utcnow().year + 1)
    requests = [request_for(c, version, not_before=later) for c in customers]
    messages = delivery_service.plan(session, requests)
    for message, status in zip(messages, statuses, strict=True):
        handed = utcnow() if status == Status.QUEUED else None
        values = {"status": status, "owner": owner, "claimed_at": utcnow(), "handed_over_at": handed}
        session.execute(update(Message).where(Message.id == message.id).values(**values))
    session.commit()
    return messages


def test_a_dead_workers_messages_are_released_or_settled_as_unconfirmed(session: Session) -> None:
    rendered, queued = claimed(session, dead_owner(), Status.RENDERED, Status.QUEUED)
    assert sorted(reap()) == sorted([rendered.id, queued.id])
    resent, unconfirmed = reload(session, rendered), reload(session, queued)
    assert (resent.status, resent.owner) == (Status.PLANNED, None)
    assert history(session, rendered.id) == ["planned", "released"]
    assert (unconfirmed.status, unconfirmed.reason) == (Status.SENT, Reason.UNCONFIRMED)
    assert history(session, queued.id) == ["planned", "unconfirmed"]
    assert reap() == []


def test_a_live_workers_messages_are_left_alone(session: Session) -> None:
    [message] = claimed(session, this_process(), Status.QUEUED)
    assert reap() == []
    assert reload(session, message).status == Status.QUEUED
