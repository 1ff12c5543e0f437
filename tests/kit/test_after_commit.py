"""Jobs queued for after the commit run when the transaction commits — not when a savepoint inside it is
released — and are dropped when it rolls back, not when a savepoint does."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

from smartcomm.kit.db import on_commit


def test_a_savepoint_neither_runs_nor_drops_what_waits_for_the_commit(session: Session) -> None:
    ran: list[str] = []
    on_commit(session, lambda: ran.append("job"))

    with session.begin_nested():
        pass  # released: the transaction is still open
    assert ran == []
    savepoint = session.begin_nested()
    savepoint.rollback()  # rolled back: the transaction goes on
    assert ran == []

    session.commit()
    assert ran == ["job"]


def test_a_rolled_back_transaction_runs_nothing(session: Session) -> None:
    ran: list[str] = []
    session.execute(text("SELECT 1"))  # the transaction has begun
    on_commit(session, lambda: ran.append("job"))
    session.rollback()
    session.commit()
    assert ran == []
