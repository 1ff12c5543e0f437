"""Test data of mailings: an audience of customers, staff API clients by role, and switches that keep the
background jobs (which run at once in tests) from doing a step the test wants to take itself."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from smartcomm.audit.actor import Actor
from smartcomm.auth.permissions import Role
from smartcomm.delivery import tasks as delivery_tasks
from smartcomm.delivery.dispatch import Dispatcher
from smartcomm.delivery.ledger import Source
from smartcomm.kit.security import issue_api_token
from smartcomm.mailings import tasks as mailing_tasks
from smartcomm.mailings.schemas import MailingCreate
from smartcomm.mailings.service import mailing_service
from smartcomm.models import Audience, AudienceMember, Customer, Mailing, Message
from tests.api.conftest import ApiClient
from tests.delivery.helpers import email_template, make_customer
from tests.factories import make_user

_numbers = itertools.count(1)
ACTOR = Actor.system("tests")


def staff_api(client: TestClient, session: Session, role: Role) -> ApiClient:
    """A client with the bearer token of a staff user of this role."""
    user, _ = make_user(session, role=role)
    token, _ = issue_api_token(user.id, user.session_version)
    return ApiClient(client, user, token)


def audience_of(session: Session, customers: Sequence[Customer], name: str | None = None) -> Audience:
    audience = Audience(name=name or f"Audience {next(_numbers)}", member_count=len(customers))
    session.add(audience)
    session.flush()
    session.add_all([AudienceMember(audience_id=audience.id, customer_id=c.id) for c in customers])
    session.flush()
    return audience


def make_mailing(session: Session, people: Sequence[Customer], **values: Any) -> Mailing:
    """A committed e-mail draft to a target audience of these customers (settings in `values`)."""
    audience = audience_of(session, people)
    body = {
        "channel": "email",
        "name": "Sale",
        "template_version_id": email_template(session).id,
        "include_audience_ids": [audience.id],
    }
    mailing = mailing_service.create(session, ACTOR, MailingCreate.model_validate(body | values))
    session.commit()
    return mailing


def customers(session: Session, count: int, **values: Any) -> list[Customer]:
    return [make_customer(session, **values) for _ in range(count)]


def mailing_messages(session: Session, mailing_id: int) -> list[Message]:
    session.expire_all()
    statement = (
        select(Message)
        .where(Message.source_kind == Source.MAILING, Message.source_id == mailing_id)
        .order_by(Message.id)
    )
    return list(session.scalars(statement))


def count_rows(session: Session, model: type[Any]) -> int:
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


class _Idle:
    """A job that does nothing, now or later."""

    def __call__(self, *args: Any) -> None:
        return None

    def schedule(self, *args: Any, **kwargs: Any) -> None:
        return None


def hold_dispatch(monkeypatch: pytest.MonkeyPatch) -> None:
    """Commits that plan messages do not wake a dispatcher: the test runs `send_due` itself."""
    monkeypatch.setitem(delivery_tasks.JOBS, "delivery.dispatch", _Idle())


def hold_collect(monkeypatch: pytest.MonkeyPatch) -> None:
    """Launching does not collect at once: the test collects batch by batch itself."""
    monkeypatch.setitem(mailing_tasks.JOBS, "mailings.collect", lambda *args: None)


def send_due(batch_size: int = 200) -> int:
    return Dispatcher(batch_size=batch_size).run()
