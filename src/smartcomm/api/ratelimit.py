"""Per-client-IP rate limit on /api (default 1,000 requests per minute).

Counters live in Redis when it is configured, so every web worker shares them; otherwise in memory.
"""

from __future__ import annotations

import json
import math
import time

from limits import parse
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import SlidingWindowCounterRateLimiter
from starlette.types import ASGIApp, Receive, Scope, Send

API_PREFIX = "/api/"


def _storage(redis_url: str | None) -> Storage:
    if redis_url:
        return RedisStorage(redis_url.replace("redis://", "async+redis://", 1), implementation="redispy")
    return MemoryStorage()


class RateLimitMiddleware:
    def __init__(self, app: ASGIApp, limit: str, redis_url: str | None = None) -> None:
        self.app = app
        self.item = parse(limit)
        self.limiter = SlidingWindowCounterRateLimiter(_storage(redis_url))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or not scope["path"].startswith(API_PREFIX)
            or scope["path"] == "/api/docs"
        ):
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        key = client[0] if client else "unknown"
        if await self.limiter.hit(self.item, "api", key):
            await self.app(scope, receive, send)
            return
        await self._reject(key, send)

    async def _reject(self, key: str, send: Send) -> None:
        stats = await self.limiter.get_window_stats(self.item, "api", key)
        retry_after = max(1, math.ceil(stats.reset_time - time.time()))
        body = json.dumps(
            {
                "errors": [
                    {
                        "status": 429,
                        "code": "rate_limited",
                        "title": f"Too many requests: the limit is {self.item}. Retry in {retry_after} s.",
                        "field": None,
                    }
                ]
            }
        ).encode()
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"retry-after", str(retry_after).encode()),
        ]
        await send({"type": "http.response.start", "status": 429, "headers": headers})
        await send({"type": "http.response.body", "body": body})
