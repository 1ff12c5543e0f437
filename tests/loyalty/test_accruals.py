"""Accrual requests ("Accrue bonus points"): recorded once per key in the asking transaction, POSTed after
its commit to the loyalty system (a real loopback server that checks the signature), tried again after a
500 with the same bytes, failed after the last attempt and sent again by hand; the API asks and lists."""

from __future__ import annotations

import json
import socket
import subprocess
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from smartcomm.audit.actor import Actor
from smartcomm.kit.errors import InvalidInput
from smartcomm.kit.leases import Owner, this_process
from smartcomm.kit.signed_delivery import MAX_ATTEMPTS
from smartcomm.kit.time import utcnow
from smartcomm.loyalty.schemas import Source
from smartcomm.loyalty.service import loyalty_service
from smartcomm.loyalty.tasks import deliver_requests
from smartcomm.models import AuditEntry, LoyaltyRequest
from tests.api.conftest import ApiClient
from tests.loyalty.conftest import connect, counts, member
from tests.webhooks.conftest import LoyaltySystem

CAMPAIGN = Source("campaign", "12", "node-4")
URL = "/api/v1/customers"


def requests(session: Session) -> list[LoyaltyRequest]:
    statement = select(LoyaltyRequest).order_by(LoyaltyRequest.id).execution_options(populate_existing=True)
    return list(session.scalars(statement))


def ask(session: Session, customer_id: int, amount: str = "200.00", key: str = "birthday:2027:C-1") -> bool:
    asked = loyalty_service.request_accrual(session, customer_id, Decimal(amount), key, "Birthday", CAMPAIGN)
    session.commit()  # sent after the commit
    return asked


def make_due(session: Session) -> None:
    session.execute(update(LoyaltyRequest).values(next_attempt_at=utcnow()))
    session.commit()


def test_an_accrual_is_posted_signed_once_after_the_commit(session: Session, loyalty: LoyaltySystem) -> None:
    connect(session, loyalty.url)
    anna = member(session, "C-1")
    assert ask(session, anna.id)

    [received] = loyalty.received
    assert received.signed_correctly
    [request] = requests(session)
    assert json.loads(received.body) == {
        "event": "loyalty.accrue",
        "request_id": request.id,
        "key": "birthday:2027:C-1",
        "operation": "accrue",
        "amount": "200.00",
        "comment": "Birthday",
        "customer": {"id": anna.id, "external_id": "C-1"},
        "source": {"kind": "campaign", "id": "12", "part": "node-4"},
        "requested_at": request.created_at.isoformat(),
    }
    assert received.headers["Idempotency-Key"] == "birthday:2027:C-1"
    assert received.headers["X-Smartcomm-Event"] == "loyalty.accrue"
    assert received.headers["X-Smartcomm-Request"] == str(request.id)
    assert (request.status, request.attempts, request.response_status, request.error) == (
        "delivered",
        1,
        200,
        None,
    )

    assert not ask(session, anna.id)  # the same key: nothing recorded, nothing sent
    deliver_requests.call_local()
    assert len(loyalty.received) == 1 and len(requests(session)) == 1


def test_nothing_is_recorded_or_sent_when_the_transaction_rolls_back(
    session: Session, loyalty: LoyaltySystem
) -> None:
    connect(session, loyalty.url)
    anna = member(session)
    loyalty_service.request_accrual(session, anna.id, Decimal("10"), "k-1", None, CAMPAIGN)
    session.rollback()
    deliver_requests.call_local()
    assert requests(session) == [] and loyalty.received == []


def test_an_answer_of_500_is_tried_again_with_the_same_bytes(
    session: Session, loyalty: LoyaltySystem
) -> None:
    connect(session, loyalty.url)
    loyalty.answers = [500]
    ask(session, member(session).id)

    [request] = requests(session)
    assert (request.status, request.attempts, request.response_status) == ("pending", 1, 500)
    assert request.next_attempt_at > utcnow() and "HTTP 500" in (request.error or "")
    deliver_requests.call_local()  # not due yet: the back-off holds it
    assert len(loyalty.received) == 1

    make_due(session)
    deliver_requests.call_local()
    first, second = loyalty.received
    assert second.body == first.body and second.signed_correctly
    assert second.headers["Idempotency-Key"] == first.headers["Idempotency-Key"]
    [delivered] = requests(session)
    assert (delivered.status, delivered.attempts, delivered.error) == ("delivered", 2, None)


def test_a_request_fails_after_the_last_attempt_and_is_sent_again_by_hand(
    session: Session, loyalty: LoyaltySystem
) -> None:
    connect(session, loyalty.url)
    loyalty.answers = [503, 503]
    anna = member(session)
    ask(session, anna.id)
    session.execute(update(LoyaltyRequest).values(attempts=MAX_ATTEMPTS - 1, next_attempt_at=utcnow()))
    session.commit()
    deliver_requests.call_local()
    [failed] = requests(session)
    assert (failed.status, failed.attempts, failed.response_status) == ("failed", MAX_ATTEMPTS, 503)
    deliver_requests.call_local()
    assert len(loyalty.received) == 2  # a failed request is never tried again by itself

    operator = Actor("user", None, "Senior marketer")
    loyalty_service.send_again(session, operator, anna.id, failed.id)
    session.commit()
    [again] = requests(session)
    assert (again.status, again.attempts, again.response_status) == ("delivered", 1, 200)
    assert len(loyalty.received) == 3
    audit = session.scalars(select(AuditEntry).where(AuditEntry.action == "send_accrual_again")).one()
    assert audit.changes == {"request": [None, failed.id]}


def test_without_the_loyalty_systems_address_requests_wait(session: Session, loyalty: LoyaltySystem) -> None:
    anna = member(session)
    ask(session, anna.id)
    [waiting] = requests(session)
    assert (waiting.status, waiting.attempts) == ("pending", 1)
    assert "no webhook address" in (waiting.error or "") and loyalty.received == []

    connect(session, loyalty.url, secret=None)
    make_due(session)
    deliver_requests.call_local()
    assert "no webhook secret" in (requests(session)[0].error or "") and loyalty.received == []

    connect(session, loyalty.url)
    make_due(session)
    deliver_requests.call_local()
    assert requests(session)[0].status == "delivered" and loyalty.received[0].signed_correctly


def test_an_attempt_whose_worker_was_killed_is_made_again_at_once(
    session: Session, loyalty: LoyaltySystem
) -> None:
    connect(session, loyalty.url)
    loyalty.answers = [500]
    ask(session, member(session).id)  # the first attempt fails: the request waits
    held = utcnow() + timedelta(seconds=30)
    session.execute(update(LoyaltyRequest).values(claimed_by=this_process(), next_attempt_at=held))
    session.commit()
    deliver_requests.call_local()
    assert len(loyalty.received) == 1  # held by a live process (this one): left alone

    dead = subprocess.Popen(["true"])
    dead.wait()
    gone = str(Owner(socket.gethostname(), dead.pid, "1"))  # a worker of this host, killed
    session.execute(update(LoyaltyRequest).values(claimed_by=gone))
    session.commit()
    deliver_requests.call_local()
    assert len(loyalty.received) == 2
    [again] = requests(session)
    assert (again.status, again.attempts, again.claimed_by) == ("delivered", 2, None)


@pytest.mark.parametrize(
    ("amount", "key", "field"),
    [
        ("0", "k", "amount"),
        ("-5", "k", "amount"),
        ("1.001", "k", "amount"),
        ("1e15", "k", "amount"),
        ("5", "", "key"),
    ],
)
def test_bad_requests_are_refused_naming_the_field(
    session: Session, loyalty: LoyaltySystem, amount: str, key: str, field: str
) -> None:
    connect(session, loyalty.url)
    anna = member(session)
    before = counts(session)
    with pytest.raises(InvalidInput) as refused:
        loyalty_service.request_accrual(session, anna.id, Decimal(amount), key, None, CAMPAIGN)
    assert [error.field for error in refused.value.errors] == [field]
    session.commit()
    assert counts(session) == before and loyalty.received == []


# ---------------------------------------------------------------- the API


def test_the_api_asks_for_an_accrual_once_per_key_and_lists_requests(
    api: ApiClient, session: Session, loyalty: LoyaltySystem
) -> None:
    connect(session, loyalty.url)
    member(session, "C-1")
    asked = api.post(f"{URL}/C-1/loyalty-requests", json={"amount": "150", "comment": "Survey"}, key="s-1")
    assert asked.status_code == 201, asked.text
    assert (asked.json()["key"], asked.json()["amount"], asked.json()["status"]) == (
        "api:s-1",
        "150.00",
        "pending",
    )
    again = api.post(f"{URL}/C-1/loyalty-requests", json={"amount": "150", "key": "s-1"}, key="other")
    assert again.status_code == 200 and again.json()["id"] == asked.json()["id"]
    conflict = api.post(f"{URL}/C-1/loyalty-requests", json={"amount": "151", "key": "s-1"}, key="third")
    assert conflict.status_code == 409

    listed = api.get(f"{URL}/C-1/loyalty-requests")
    assert listed.status_code == 200
    [item] = listed.json()["items"]
    assert (item["status"], item["attempts"], item["response_status"]) == ("delivered", 1, 200)
    assert json.loads(loyalty.received[0].body)["key"] == "api:s-1"
    refused = api.post(f"{URL}/C-1/loyalty-requests", json={"amount": "-1"}, key="neg")
    assert refused.status_code == 422 and '"amount"' in refused.text
    assert api.get(f"{URL}/C-404/loyalty-requests").status_code == 404


def test_many_requests_of_one_transaction_are_all_sent_after_its_commit(
    session: Session, loyalty: LoyaltySystem
) -> None:
    connect(session, loyalty.url)
    customers = [member(session, f"C-{n}") for n in range(3)]
    for customer in customers:
        loyalty_service.request_accrual(
            session, customer.id, Decimal("5"), f"k-{customer.id}", None, CAMPAIGN
        )
    assert loyalty.received == []  # nothing leaves before the commit
    session.commit()
    assert sorted(json.loads(r.body)["customer"]["id"] for r in loyalty.received) == [c.id for c in customers]
    assert {request.status for request in requests(session)} == {"delivered"}
