"""Cross-origin access to the site tracker's endpoints (/v1/…) — and to nothing else.

Shops run on their own domains, and their pages call smartcomm from the browser: analytics.js loads its
project settings and posts events (with the write key as a Basic auth header, which makes the browser
ask first with an OPTIONS request), and the pop-up script asks for and reports pop-ups.

Any origin is allowed, and never with credentials:
- the write key is public by design (it is in every page of the shop), so an origin check would add no
  security — a program sets any Origin it likes — while it would break shops with several host names
  (www., m., a staging copy) and cannot even be made at the OPTIONS request, which carries no key;
- no cookie or session of smartcomm is ever accepted or sent here (`Access-Control-Allow-Credentials` is
  never given), so another site cannot act with a signed-in user's rights through these endpoints;
- what these endpoints read back is limited to one visitor's pending pop-ups, found by the random
  visitor id only that browser holds.
The back office and /api/ answer no cross-origin request at all.
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

TRACKER_PREFIX = "/v1/"
ALLOWED_METHODS = "GET, POST, OPTIONS"
# What analytics.js and the pop-up script send: the write key, the JSON (as text/plain or gzip), retries.
ALLOWED_HEADERS = "Authorization, Content-Type, Content-Encoding, X-Retry-Count"
MAX_AGE_SECONDS = "7200"  # Chromium keeps an answer at most two hours
ANSWER_HEADERS = (
    (b"access-control-allow-origin", b"*"),
    (b"access-control-expose-headers", b"Retry-After"),  # analytics.js waits as a 429 says
)


class TrackerCorsMiddleware:
    """Answers cross-origin checks of /v1/… and marks its answers readable by any origin."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self._is_tracker(scope):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        if scope["method"] == "OPTIONS" and "access-control-request-method" in headers:
            await self._preflight()(scope, receive, send)
            return

        async def send_readable(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                extra = [header for header in ANSWER_HEADERS if header[0] not in present]
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, send_readable)

    @staticmethod
    def _is_tracker(scope: Scope) -> bool:
        path, root = scope["path"], scope.get("root_path", "")
        if root and path.startswith(root):
            path = path[len(root) :]
        return str(path).startswith(TRACKER_PREFIX)

    @staticmethod
    def _preflight() -> Response:
        return Response(
            status_code=204,
            headers={
                "Access-Control-Allow-Origin": "*",
                "Access-Control-Allow-Methods": ALLOWED_METHODS,
                "Access-Control-Allow-Headers": ALLOWED_HEADERS,
                "Access-Control-Max-Age": MAX_AGE_SECONDS,
            },
        )
