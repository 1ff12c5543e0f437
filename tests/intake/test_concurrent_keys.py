"""Two identical requests at the same moment: the second waits for the first and gets its answer."""

from __future__ import annotations

import threading

from sqlalchemy import func, select

from smartcomm.intake.idempotency import StoredAnswer, idempotency_service
from smartcomm.kit.db import Database
from smartcomm.models import IdempotencyRecord


def test_a_concurrent_request_with_the_same_key_gets_the_first_answer(live_database: Database) -> None:
    first = live_database.session()
    reserved = idempotency_service.claim(first, 7, "order-1", "fingerprint")
    assert isinstance(reserved, IdempotencyRecord)
    outcome: list[object] = []

    def second_request() -> None:
        with live_database.session() as second:
            outcome.append(idempotency_service.claim(second, 7, "order-1", "fingerprint"))
            second.commit()

    thread = threading.Thread(target=second_request)
    thread.start()  # on either database it cannot pass the reserved key before the first commits
    idempotency_service.complete(first, reserved, 201, {"id": 1})
    first.commit()
    first.close()
    thread.join()

    assert outcome == [StoredAnswer(201, {"id": 1})]
    with live_database.session() as check:
        assert check.scalar(select(func.count()).select_from(IdempotencyRecord)) == 1
