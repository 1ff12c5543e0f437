"""A held session keeps one connection across its commits (a writer of many tiny transactions pays no
pool checkout per transaction) and gives it back when released."""

from __future__ import annotations

from sqlalchemy import select, text

from smartcomm.kit.db import Database, held_session, release_held
from smartcomm.models import MailingCategory


def test_a_held_session_keeps_one_connection_across_commits_and_gives_it_back(
    live_database: Database,
) -> None:
    pool = live_database.engine.pool
    session = held_session()
    try:
        first = session.connection().connection.dbapi_connection
        session.add(MailingCategory(code="news", name="News"))
        session.commit()
        assert session.connection().connection.dbapi_connection is first
        session.execute(text("SELECT 1"))
        session.commit()
        assert session.connection().connection.dbapi_connection is first
    finally:
        release_held(session)
    assert pool.checkedout() == 0  # type: ignore[attr-defined]
    with live_database.session() as other:  # the commits are real
        assert other.scalar(select(MailingCategory.code)) == "news"
