"""Two submissions of one customer at the same moment (a double tap, two tabs): exactly one response is
recorded, the other is told the poll was already answered — the unique key decides, on both databases."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from sqlalchemy import func, select

from smartcomm.kit.db import Database, session_scope
from smartcomm.models import Poll, PollAnswer, PollResponse
from smartcomm.polls import answering
from tests.polls.helpers import make_customer, make_poll


def test_two_concurrent_answers_record_one_response(
    live_database: Database, monkeypatch: pytest.MonkeyPatch, backend: str
) -> None:
    with session_scope() as session:
        poll_id, customer_id = make_poll(session).id, make_customer(session).id
    # Both pass the "answered yet?" look before either inserts: only the database can then decide.
    both_looked = threading.Barrier(2, timeout=10)
    real_look = answering.PollRepository.response_of

    def look_together(self: Any, poll: int, customer: int) -> Any:
        found = real_look(self, poll, customer)
        both_looked.wait()
        return found

    # SQLite serialises writing transactions from their start, so there the second simply finds the first.
    if backend == "postgres":
        monkeypatch.setattr(answering.PollRepository, "response_of", look_together)
    outcomes: list[str] = []

    def submit(choice: str) -> None:
        try:
            with session_scope() as session:
                poll = session.get(Poll, poll_id)
                assert poll is not None
                answering.answer(session, poll, customer_id, None, {"q1": choice})
            outcomes.append("recorded")
        except answering.AlreadyAnswered:
            outcomes.append("already answered")

    threads = [threading.Thread(target=submit, args=(choice,)) for choice in ("shop", "online")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["already answered", "recorded"]
    with session_scope(read_only=True) as session:
        assert session.scalar(select(func.count()).select_from(PollResponse)) == 1
        assert session.scalar(select(func.count()).select_from(PollAnswer)) == 1
