"""HTTP plumbing shared by the REST API and the web UI."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from smartcomm.kit.db import new_session

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


async def _request_session(request: Request) -> AsyncIterator[Session]:
    """One session per request; the request owns the transaction and commits it at the end.

    GET requests change nothing, so on SQLite they run in a deferred (read) transaction beside writers.
    Making a session connects nothing: a request that never used it (a write handed to a group
    commit, say) ends without a trip to a worker thread.
    """
    session = new_session(read_only=request.method in SAFE_METHODS)
    try:
        yield session
        if session.in_transaction():
            await run_in_threadpool(session.commit)
    except BaseException:
        if session.in_transaction():
            await run_in_threadpool(session.rollback)
        raise
    finally:
        if session.in_transaction():  # only when commit or rollback itself failed
            await run_in_threadpool(session.close)
        else:
            session.close()  # holds no connection any more: nothing to wait for


# Function scope: the commit happens before the response is sent, so a failed commit is a 500,
# never a success page for data that was not stored.
DbSession = Annotated[Session, Depends(_request_session, scope="function")]


def client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None
