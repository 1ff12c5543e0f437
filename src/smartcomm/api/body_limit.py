"""The largest request body the REST API and the Segment-compatible intake read (413 beyond it).

A declared Content-Length over the limit is answered at once, before anything is read. A body without a
length (chunked) is counted as it arrives: once the count passes the limit nothing more is read, the
request fails where it stands (nothing is written: the body is read before the endpoint runs), and the
answer is the same 413 whatever the route would have made of the cut body.
"""

from __future__ import annotations

import json

from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

PREFIXES = ("/api/", "/v1/")


class BodyTooLarge(Exception):
    """Raised into the application when the body it is reading passes the limit."""


def too_large_body(limit: int) -> bytes:
    title = f"The request body is too large: the limit is {limit} bytes"
    error = {"status": 413, "code": "body_too_large", "title": title, "field": None}
    return json.dumps({"errors": [error]}).encode()


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(PREFIXES):
            await self.app(scope, receive, send)
            return
        declared = _declared_length(scope)
        if declared is not None and declared > self.limit:
            await _answer_too_large(send, self.limit)
            return
        guard = _CountedBody(self.limit, receive, send)
        try:
            await self.app(scope, guard.receive, guard.send)
        except BodyTooLarge:
            if not guard.answered:
                await _answer_too_large(send, self.limit)
        except ClientDisconnect:
            # The client went away while sending its body: the endpoint never ran, there is nobody to
            # answer, and it is no server error to log.
            return


class _CountedBody:
    """The request's receive and send, counting the body; past the limit the answer becomes the 413."""

    def __init__(self, limit: int, receive: Receive, send: Send) -> None:
        self.limit, self._receive, self._send = limit, receive, send
        self.received = 0
        self.exceeded = False
        self.answered = False

    async def receive(self) -> Message:
        if self.exceeded:
            raise BodyTooLarge
        message = await self._receive()
        if message["type"] == "http.request":
            self.received += len(message.get("body", b""))
            if self.received > self.limit:
                self.exceeded = True
                raise BodyTooLarge
        return message

    async def send(self, message: Message) -> None:
        if not self.exceeded:
            self.answered = self.answered or message["type"] == "http.response.start"
            await self._send(message)
        elif not self.answered:
            # Whatever the route answered about the cut body (a parse error, say), the client gets the 413.
            self.answered = True
            await _answer_too_large(self._send, self.limit)


def _declared_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def _answer_too_large(send: Send, limit: int) -> None:
    body = too_large_body(limit)
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
    ]
    await send({"type": "http.response.start", "status": 413, "headers": headers})
    await send({"type": "http.response.body", "body": body})
