"""Set-based inserts (`kit.bulk.insert_rows`): the rows stored are those an ordinary insert stores —
defaults filled in, UTC datetimes, JSON — whichever columns vary between the rows; conflicts are skipped."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Table, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from smartcomm.kit.bulk import insert_rows
from smartcomm.models import Message, MessageEvent

MESSAGES: Table = Message.__table__  # type: ignore[assignment]
EVENTS: Table = MessageEvent.__table__  # type: ignore[assignment]
NOON = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
OPTIONS = {"deliver_immediately": True, "utm": {"source": "mail"}}


def message_row(key: str, **values: Any) -> dict[str, Any]:
    row = {"idempotency_key": key, "source_kind": "test", "channel": "email", "options": OPTIONS}
    return row | {"created_at": NOON, "next_attempt_at": NOON} | values


def stored(session: Session, *keys: str) -> list[Message]:
    statement = select(Message).where(Message.idempotency_key.in_(keys)).order_by(Message.idempotency_key)
    return list(session.scalars(statement.execution_options(populate_existing=True)))


def test_rows_are_stored_as_an_ordinary_insert_stores_them(session: Session) -> None:
    rows = [
        message_row("k1", recipient="a@example.com", expires_at=NOON + timedelta(days=1)),
        message_row("k2", recipient=None, status="suppressed", reason="no_address", failed_at=NOON),
    ]
    returned = insert_rows(session, MESSAGES, rows, returning=("idempotency_key", "id"))
    first, second = stored(session, "k1", "k2")
    assert sorted(tuple(row) for row in returned) == [("k1", first.id), ("k2", second.id)]
    assert (first.recipient, first.status, first.reason, first.failed_at) == (
        "a@example.com",
        "planned",
        None,
        None,
    )
    assert (second.recipient, second.status, second.reason, second.failed_at) == (
        None,
        "suppressed",
        "no_address",
        NOON,
    )
    assert first.expires_at == NOON + timedelta(days=1) and second.expires_at is None
    assert first.options == second.options == OPTIONS
    # Columns no row names get their defaults.
    assert (first.attempts, first.opens, first.is_sandbox, first.priority) == (0, 0, False, 1)


def test_a_key_recorded_before_is_skipped_and_left_as_it_is(session: Session) -> None:
    insert_rows(session, MESSAGES, [message_row("k1", recipient="old@example.com")])
    rows = [message_row("k1", recipient="new@example.com"), message_row("k2"), message_row("k2")]
    returned = insert_rows(
        session, MESSAGES, rows, skip_conflicts_on="idempotency_key", returning=("idempotency_key",)
    )
    assert [tuple(row) for row in returned] == [("k2",)]
    assert [m.recipient for m in stored(session, "k1", "k2")] == ["old@example.com", None]


@pytest.mark.parametrize("count", [1, 3])
def test_rows_all_alike_are_each_stored(session: Session, count: int) -> None:
    insert_rows(session, MESSAGES, [message_row("k1")])
    (message,) = stored(session, "k1")
    event = {"message_id": message.id, "kind": "planned", "occurred_at": NOON, "data": {}}
    insert_rows(session, EVENTS, [dict(event) for _ in range(count)])
    found = session.scalars(select(MessageEvent).where(MessageEvent.message_id == message.id)).all()
    assert [(e.kind, e.occurred_at, e.data, e.is_machine) for e in found] == [
        ("planned", NOON, {}, False)
    ] * count


def test_values_equal_in_python_but_not_in_json_keep_their_own(session: Session) -> None:
    rows = [
        message_row("k1", options={"n": 1}, source_id=1),
        message_row("k2", options={"n": True}, source_id=1),
    ]
    insert_rows(session, MESSAGES, rows)
    assert [m.options["n"] for m in stored(session, "k1", "k2")] == [1, True]
    assert [type(m.options["n"]) for m in stored(session, "k1", "k2")] == [int, bool]


def test_nothing_to_insert_does_nothing(session: Session) -> None:
    assert insert_rows(session, MESSAGES, [], returning=("id",)) == []


def test_a_value_too_long_fails_instead_of_being_cut_short(session: Session, backend: str) -> None:
    if backend == "sqlite":
        pytest.skip("SQLite does not enforce lengths")
    rows = [message_row("k" * 65), message_row("k2")]
    with pytest.raises(DBAPIError), session.begin_nested():
        insert_rows(session, MESSAGES, rows)
