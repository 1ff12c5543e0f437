"""HTTP plumbing shared by the REST API and the web UI."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from smartcomm.kit.db import committed, new_session

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _request_session(request: Request) -> Iterator[Session]:
    """One session per request; the request owns the transaction and commits it at the end.

    GET requests change nothing, so on SQLite they run in a deferred (read) transaction beside writers.
    """
    with new_session(read_only=request.method in SAFE_METHODS) as session, committed(session):
        yield session


# Function scope: the commit happens before the response is sent, so a failed commit is a 500,
# never a success page for data that was not stored.
DbSession = Annotated[Session, Depends(_request_session, scope="function")]


def client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None
