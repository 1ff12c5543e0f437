"""HTTP plumbing shared by the REST API and the web UI."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from smartcomm.kit.db import new_session

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


async def _request_session(request: Request) -> AsyncIterator[Session]:
    """One session per request; the request owns the transaction and commits it at the end.

    GET requests change nothing, so on SQLite they run in a deferred (read) transaction beside writers;
    the others queue for a foreground writers' turn, ahead of a worker's background writers.
    Making a session connects nothing: a request that never used it (a write handed to a group
    commit, say) ends without a trip to a worker thread.
    """
    read_only = request.method in SAFE_METHODS
    session = new_session(read_only=read_only, queued=not read_only)
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
    """The client's address: the connection's peer, or what a trusted proxy said it was (the app's
    proxy-headers middleware, configured by SMARTCOMM_TRUSTED_PROXIES, has already decided)."""
    return request.client.host if request.client else None


# What the product's pages load: only its own scripts (no inline script, no eval: Alpine's CSP build, htmx
# with allowEval off), its own styles plus style attributes, images from itself and data: URIs (icons
# drawn by the libraries), and it may not be framed, change its base URL or post forms elsewhere.
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
EVERY_RESPONSE_HEADERS = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
)


class SecurityHeadersMiddleware:
    """Security headers on every response; the Content-Security-Policy on HTML ones."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.policy = (b"content-security-policy", CONTENT_SECURITY_POLICY.encode())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = self._headers(list(message.get("headers", [])))
            await send(message)

        await self.app(scope, receive, send_with_headers)

    def _headers(self, headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
        present = {name.lower() for name, _ in headers}
        headers.extend(header for header in EVERY_RESPONSE_HEADERS if header[0] not in present)
        content_type = next((value for name, value in headers if name.lower() == b"content-type"), b"")
        if content_type.startswith(b"text/html") and self.policy[0] not in present:
            headers.append(self.policy)
        return headers
