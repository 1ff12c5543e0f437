"""Request limits: per client address on /api, per address and per write key on the Segment-compatible
intake /v1, and per address and per account for sign-ins (POST /login and POST /api/v1/token).

Every limit is counted over a moving window (the `limits` library's moving-window strategy): no window of
the configured length ever holds more accepted requests than the limit, so a client sending 40 requests a
second gets 429 from its 1,001st request of the minute on under 1,000/minute. Refused requests do not
count. Counters live in Redis when it is configured, so every web process shares them; otherwise in the
process's memory. The client address is the one the proxy-headers middleware settled on (trusted proxies
only, see `SMARTCOMM_TRUSTED_PROXIES`).
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import time
import zlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from limits import RateLimitItem, parse
from limits.aio.storage import RedisStorage
from limits.aio.strategies import MovingWindowRateLimiter as AsyncMovingWindow
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

API_PREFIX = "/api/"
INTAKE_PREFIX = "/v1/"
UNLIMITED_PATHS = frozenset({"/api/docs"})
# A /v1 body is read this far to find its writeKey when no Basic credentials name the key; a larger body
# is passed on unread (the intake refuses bodies over 500 KB anyway).
WRITE_KEY_PEEK_BYTES = 512 * 1024
ACCOUNT_KEY_LENGTH = 254


class Counter(Protocol):
    async def hit(self, item: RateLimitItem, *identifiers: str) -> bool: ...

    async def reset_at(self, item: RateLimitItem, *identifiers: str) -> float: ...


class MemoryCounter:
    """The moving window in this process's memory. The synchronous storage is used on purpose: its
    asyncio twin runs an expiry pass over every key, one thread hop per key, after nearly every hit."""

    def __init__(self) -> None:
        self.limiter = MovingWindowRateLimiter(MemoryStorage())

    async def hit(self, item: RateLimitItem, *identifiers: str) -> bool:
        return self.limiter.hit(item, *identifiers)

    async def reset_at(self, item: RateLimitItem, *identifiers: str) -> float:
        return self.limiter.get_window_stats(item, *identifiers).reset_time


class RedisCounter:
    """The moving window in Redis, shared by every web process."""

    def __init__(self, redis_url: str) -> None:
        storage = RedisStorage(redis_url.replace("redis://", "async+redis://", 1), implementation="redispy")
        self.limiter = AsyncMovingWindow(storage)

    async def hit(self, item: RateLimitItem, *identifiers: str) -> bool:
        return await self.limiter.hit(item, *identifiers)

    async def reset_at(self, item: RateLimitItem, *identifiers: str) -> float:
        return (await self.limiter.get_window_stats(item, *identifiers)).reset_time


@dataclass(frozen=True)
class Refusal:
    """A request over a limit: which limit, and in how many seconds a retry may pass."""

    limit: RateLimitItem
    retry_after: int

    @property
    def title(self) -> str:
        return f"Too many requests: the limit is {self.limit}. Retry in {self.retry_after} s."

    def json_body(self) -> bytes:
        error = {"status": 429, "code": "rate_limited", "title": self.title, "field": None}
        return json.dumps({"errors": [error]}).encode()

    def json_response(self) -> Response:
        """The API's 429: the usual JSON error body and a Retry-After header."""
        headers = {"Retry-After": str(self.retry_after)}
        return Response(self.json_body(), 429, headers=headers, media_type="application/json")


class RateLimits:
    """The product's request limits and their counters (one instance per application)."""

    def __init__(
        self,
        *,
        api: str,
        intake: str,
        intake_key: str,
        sign_in: str,
        redis_url: str | None = None,
    ) -> None:
        self.api, self.intake, self.intake_key = parse(api), parse(intake), parse(intake_key)
        self.sign_in = parse(sign_in)
        self.counter: Counter = RedisCounter(redis_url) if redis_url else MemoryCounter()

    async def take(self, limit: RateLimitItem, namespace: str, key: str) -> Refusal | None:
        """Count one request of `key` against `limit`; a Refusal when it is over (then it is not counted)."""
        if await self.counter.hit(limit, namespace, key):
            return None
        reset_at = await self.counter.reset_at(limit, namespace, key)
        return Refusal(limit, max(1, math.ceil(reset_at - time.time())))

    async def take_all(self, *checks: tuple[RateLimitItem, str, str | None]) -> Refusal | None:
        """Count a request against several limits in turn, stopping at the first that refuses it."""
        for limit, namespace, key in checks:
            if key is not None and (refusal := await self.take(limit, namespace, key)) is not None:
                return refusal
        return None

    async def sign_in_attempt(self, request: Request, account: str | None) -> Refusal | None:
        """Count a sign-in attempt per client address and per account (e-mail or API user name)."""
        account_key = (account or "").strip().lower()[:ACCOUNT_KEY_LENGTH] or None
        return await self.take_all(
            (self.sign_in, "sign-in-address", client_key(request.scope)),
            (self.sign_in, "sign-in-account", account_key),
        )


def client_key(scope: Scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


def rate_limits_of(request: Request) -> RateLimits:
    limits: RateLimits = request.app.state.rate_limits
    return limits


class RateLimitMiddleware:
    """Applies the per-address limit of /api and the per-address and per-write-key limits of /v1."""

    def __init__(self, app: ASGIApp, limits: RateLimits) -> None:
        self.app = app
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if path.startswith(API_PREFIX) and path not in UNLIMITED_PATHS:
            refusal = await self.limits.take(self.limits.api, "api", client_key(scope))
        elif path.startswith(INTAKE_PREFIX):
            refusal, receive = await self._intake(scope, receive)
        else:
            refusal = None
        if refusal is None:
            await self.app(scope, receive, send)
        else:
            await refusal.json_response()(scope, receive, send)

    async def _intake(self, scope: Scope, receive: Receive) -> tuple[Refusal | None, Receive]:
        refusal = await self.limits.take(self.limits.intake, "intake", client_key(scope))
        if refusal is not None:
            return refusal, receive
        write_key, receive = await _write_key(scope, receive)
        return await self.limits.take_all((self.limits.intake_key, "intake-key", write_key)), receive


async def _write_key(scope: Scope, receive: Receive) -> tuple[str | None, Receive]:
    """The write key a /v1 request sends: its Basic user name, else the body's `writeKey`. The body read
    to find it is handed on unchanged."""
    headers = dict(scope.get("headers") or [])
    basic = _basic_user(headers.get(b"authorization", b""))
    if basic:
        return basic, receive
    chunks, complete, receive = await _peek_body(receive)
    if not complete:
        return None, receive
    return _body_write_key(b"".join(chunks), headers.get(b"content-encoding", b"")), receive


def _basic_user(authorization: bytes) -> str | None:
    scheme, _, credentials = authorization.partition(b" ")
    if scheme.lower() != b"basic" or not credentials:
        return None
    try:
        user = base64.b64decode(credentials.strip(), validate=True).decode().partition(":")[0]
    except (binascii.Error, UnicodeDecodeError):
        return None
    return user or None


async def _peek_body(receive: Receive) -> tuple[list[bytes], bool, Receive]:
    """Read the body up to WRITE_KEY_PEEK_BYTES; returns its chunks, whether that was all of it, and a
    receive that replays what was read before reading on."""
    messages: list[Message] = []
    size, complete = 0, False
    while size <= WRITE_KEY_PEEK_BYTES:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            break
        size += len(message.get("body", b""))
        if not message.get("more_body", False):
            complete = True
            break
    chunks = [m.get("body", b"") for m in messages if m["type"] == "http.request"]
    return chunks, complete, _replaying(messages, receive)


def _replaying(messages: list[Message], receive: Receive) -> Callable[[], Awaitable[Message]]:
    pending = list(messages)

    async def replay() -> Message:
        return pending.pop(0) if pending else await receive()

    return replay


def _body_write_key(body: bytes, encoding: bytes) -> str | None:
    try:
        if encoding.strip().lower() == b"gzip":
            unpacker = zlib.decompressobj(16 + zlib.MAX_WBITS)
            body = unpacker.decompress(body, WRITE_KEY_PEEK_BYTES)
        data: Any = json.loads(body)
    except (ValueError, zlib.error):
        return None
    key = data.get("writeKey") if isinstance(data, dict) else None
    return key if isinstance(key, str) and key else None
