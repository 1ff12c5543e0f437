"""Accrual requests POSTed to the loyalty system after the commit that recorded them, signed, with retries.

Sent as the consent webhook is (`kit.signed_delivery`), to the same address with the same secret
(Settings → General → Loyalty system): each attempt claimed, POSTed outside any transaction, its outcome
written; a failed one made again after growing pauses, up to MAX_ATTEMPTS, after which the request is
failed, which its customer's profile shows. The loyalty system may receive a request twice (a worker
killed during an attempt), always under its one `Idempotency-Key`, which it uses to drop the repeat.

The body is JSON with sorted keys, the same bytes on every attempt:

    {"amount": "200.00", "comment": "Birthday", "customer": {"external_id": "C-1", "id": 17},
     "event": "loyalty.accrue", "key": "…", "operation": "accrue", "request_id": 5,
     "requested_at": "2026-12-06T10:00:00+00:00", "source": {"id": "3", "kind": "campaign", "part": "n2"}}
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from smartcomm.kit.signed_delivery import Attempt, Endpoint, Outcome, SignedSender
from smartcomm.kit.time import utcnow
from smartcomm.loyalty.repository import LoyaltyRepository, requests
from smartcomm.models import LoyaltyRequest
from smartcomm.webhooks.service import loyalty_endpoint

EVENT = "loyalty.accrue"
KEY_HEADER = "Idempotency-Key"
REQUEST_HEADER = "X-Smartcomm-Request"


def request_body(request: LoyaltyRequest, external_id: str) -> dict[str, Any]:
    """What is POSTed for a request: built from its row alone, so every attempt sends the same bytes."""
    return {
        "event": EVENT,
        "request_id": request.id,
        "key": request.key,
        "operation": request.operation,
        "amount": str(request.amount),
        "comment": request.comment,
        "customer": {"id": request.customer_id, "external_id": external_id},
        "source": {"kind": request.source_kind, "id": request.source_id, "part": request.part},
        "requested_at": request.created_at.isoformat(),
    }


class LoyaltySender(SignedSender):
    table = requests
    noun = "loyalty request"

    def endpoint(self) -> Endpoint | Outcome:
        return loyalty_endpoint()

    def attempt_of(self, session: Session, row_id: int) -> Attempt:
        found = LoyaltyRepository(session).request_with_customer(row_id)
        assert found is not None
        request, external_id = found
        headers = {"X-Smartcomm-Event": EVENT, REQUEST_HEADER: str(request.id), KEY_HEADER: request.key}
        return Attempt(request.id, request.attempts, request_body(request, external_id), headers)

    def deliver_later(self, at: datetime) -> None:
        from smartcomm.loyalty.tasks import deliver_requests  # the task module imports this one

        deliver_requests.schedule(delay=max((at - utcnow()).total_seconds(), 1.0))


loyalty_sender = LoyaltySender()
