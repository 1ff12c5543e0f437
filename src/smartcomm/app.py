"""create_app(): the REST API and the back-office UI in one ASGI application."""

from __future__ import annotations

import gc
import json
import logging
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import DataError, StatementError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from smartcomm import __version__, api, web
from smartcomm.api.body_limit import BodyLimitMiddleware
from smartcomm.api.cors import TrackerCorsMiddleware
from smartcomm.api.deps import public_api
from smartcomm.api.docs import api_docs_page
from smartcomm.api.event_intake import EventIntakeRoute
from smartcomm.api.ratelimit import RateLimitMiddleware, RateLimits
from smartcomm.config import config
from smartcomm.kit import i18n
from smartcomm.kit.errors import DomainError, location_to_path
from smartcomm.kit.http import SecurityHeadersMiddleware
from smartcomm.kit.redirects import safe_local_target
from smartcomm.polls import links as _poll_macro  # noqa: F401 (registers client.poll)
from smartcomm.promocodes import issuing as _promocode_macros  # noqa: F401 (registers client.promocode)
from smartcomm.web.deps import CsrfFailed, LoginRequired
from smartcomm.web.routes.public import tracking_lifespan, tracking_routes
from smartcomm.web.templating import is_htmx, render

logger = logging.getLogger("smartcomm")

WEB_DIR = Path(__file__).parent / "web"
VENDOR_MOUNTS = {
    "tabler": "@tabler/core/dist",
    "tabler-icons": "@tabler/icons-webfont/dist",
    "htmx": "htmx.org/dist",
    "alpine": "@alpinejs/csp/dist",  # Alpine's CSP build: the pages allow no eval
    "chartjs": "chart.js/dist",
    "sortablejs": "sortablejs",
    "swagger-ui": "swagger-ui-dist",
    "grapesjs": "grapesjs/dist",
    "grapesjs-locale": "grapesjs/locale",
    "grapesjs-mjml": "grapesjs-mjml/dist",
    "codemirror": "codemirror",
    "font-awesome": "font-awesome",  # the visual editor's (GrapesJS) icons
    "analytics-next": "@segment/analytics-next/dist/umd",  # the site tracker (Segment's analytics.js)
    "drawflow": "drawflow/dist",  # the campaign canvas
}
# analytics.js loads its lazy parts from `<its CDN>/analytics-next/bundles/`; smartcomm is its CDN.
ANALYTICS_CHUNKS = ("/analytics-next/bundles", "@segment/analytics-next/dist/umd")

API_DESCRIPTION = """
REST API of smartcomm. Get a token with `POST /api/v1/token` (a user with the API role), then send
`Authorization: Bearer <token>`. Every address may make 1,000 requests per minute, and
`POST /api/v1/token` takes 10 attempts a minute per address and per user name; beyond that the API
answers 429 with a JSON error body and a `Retry-After` header. Errors always come as
`{"errors": [{"status", "code", "title", "field"}]}`,
where `field` is the path of the offending input, e.g. `customers[3].email`.
"""


class LanguageMiddleware:
    """Chooses the interface language for the request: the user's, else the browser's, else English."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        language = str(scope.get("session", {}).get("lang") or _accept_language(scope))
        with i18n.language(language):
            scope.setdefault("state", {})["language"] = i18n.current_language()
            await self.app(scope, receive, send)


def _accept_language(scope: Scope) -> str:
    for name, value in scope.get("headers", []):
        if name == b"accept-language":
            for part in value.decode("latin-1").split(","):
                code = str(part.split(";")[0].strip()[:2].lower())
                if code in i18n.LANGUAGES:
                    return code
    return i18n.DEFAULT_LANGUAGE


def create_app(
    *,
    rate_limit: str | None = None,
    rate_limits: RateLimits | None = None,
    trusted_proxies: list[str] | None = None,
) -> FastAPI:
    app = FastAPI(
        title="smartcomm API",
        version=__version__,
        description=API_DESCRIPTION,
        docs_url=None,  # served below from the npm package, not from a CDN
        redoc_url=None,
        openapi_url="/api/openapi.json",
        lifespan=tracking_lifespan,  # a stopping web process writes the opens and clicks it answered
    )
    app.state.rate_limits = rate_limits or _rate_limits(rate_limit)
    # First: load balancers ask often, and routes are matched in the order they were added.
    app.add_api_route("/healthz", _health, include_in_schema=False, dependencies=[Depends(public_api)])
    app.router.routes.append(EventIntakeRoute())
    app.router.routes.extend(tracking_routes())  # the open pixel and the click redirect: busy, public
    app.include_router(api.build_router())
    app.include_router(api.build_segment_router())
    app.include_router(api.build_tracker_router())
    app.include_router(api.build_callback_router())
    app.include_router(web.build_router())
    app.add_route("/api/docs", api_docs_page, include_in_schema=False)
    _mount_static(app)
    _install_error_handlers(app)
    _install_data_error_handlers(app)
    # Starlette runs the last-added middleware first: proxy headers, security headers, sessions, language,
    # then the request limits.
    app.add_middleware(BodyLimitMiddleware, limit=config.api_max_body_bytes)
    app.add_middleware(RateLimitMiddleware, limits=app.state.rate_limits)
    app.add_middleware(TrackerCorsMiddleware)  # before the limits: a 429 must be readable by the shop's page
    app.add_middleware(LanguageMiddleware)
    app.add_middleware(
        SessionMiddleware,
        secret_key=config.effective_secret_key,
        session_cookie="smartcomm_session",
        max_age=config.session_max_age_hours * 3600,
        same_site="lax",
        https_only=config.public_base_url.startswith("https://"),
    )
    app.add_middleware(SecurityHeadersMiddleware)
    # Outermost: every later step (limits, sign-in, action history) sees the same client address.
    proxies = config.trusted_proxy_list if trusted_proxies is None else trusted_proxies
    if proxies:
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=proxies)
    # The modules, routes and metadata loaded so far live as long as the process: moved out of the
    # collector's sight, a full collection no longer walks those ~270,000 objects (hundreds of
    # milliseconds on a busy machine, stalling every request in flight — W1's p99 showed it).
    gc.freeze()
    return app


def _rate_limits(api_limit: str | None) -> RateLimits:
    return RateLimits(
        api=api_limit or config.api_rate_limit,
        intake=config.intake_rate_limit,
        intake_key=config.intake_key_rate_limit,
        sign_in=config.sign_in_rate_limit,
        redis_url=config.redis_url,
    )


async def _health() -> dict[str, str]:
    return {"status": "ok", "version": __version__}


def _mount_static(app: FastAPI) -> None:
    app.mount("/static", StaticFiles(directory=WEB_DIR / "static"), name="static")
    for name, relative in VENDOR_MOUNTS.items():
        app.mount(
            f"/vendor/{name}",
            StaticFiles(directory=config.node_modules_dir / relative, check_dir=False),
            name=f"vendor-{name}",
        )
    path, relative = ANALYTICS_CHUNKS
    app.mount(
        path,
        StaticFiles(directory=config.node_modules_dir / relative, check_dir=False),
        name="analytics-chunks",
    )


def _is_api(request: Request) -> bool:
    # /v1/ is the Segment-spec tracking intake: its callers are programs too.
    return request.url.path.startswith(("/api/", "/v1/"))


def _error_json(
    status: int, code: str, title: str, errors: list[dict[str, Any]] | None = None
) -> JSONResponse:
    items = errors or [{"status": status, "code": code, "title": title, "field": None}]
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse({"errors": items}, status_code=status, headers=headers)


def _error_page(request: Request, status: int, title: str, message: str) -> Response:
    if is_htmx(request):
        toast = json.dumps({"toast": [{"message": message, "category": "danger"}]})
        return Response(status_code=status, headers={"HX-Trigger": toast})
    context = {"status_code": status, "title": title, "message": message}
    return render(request, "errors/error.html", context, status_code=status)


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    def domain_error(request: Request, error: DomainError) -> Response:
        if _is_api(request):
            fields = [
                {"status": error.status_code, "code": e.code, "title": e.message, "field": e.field}
                for e in error.errors
            ]
            return _error_json(error.status_code, error.code, error.message, fields or None)
        titles = {403: i18n.gettext_("Access denied"), 404: i18n.gettext_("Not found")}
        return _error_page(
            request,
            error.status_code,
            titles.get(error.status_code, i18n.gettext_("Error")),
            i18n.gettext_(error.message),
        )

    @app.exception_handler(LoginRequired)
    def login_required(request: Request, _error: LoginRequired) -> Response:
        target = safe_local_target(request.url.path + (f"?{request.url.query}" if request.url.query else ""))
        wanted = request.method == "GET" and target not in (None, "/")
        location = f"/login?{urlencode({'next': target})}" if wanted else "/login"
        if is_htmx(request):
            return Response(status_code=204, headers={"HX-Redirect": location})
        return Response(status_code=303, headers={"Location": location})

    @app.exception_handler(CsrfFailed)
    def csrf_failed(request: Request, _error: CsrfFailed) -> Response:
        message = i18n.gettext_("The form has expired. Reload the page and try again.")
        return _error_page(request, 403, i18n.gettext_("Access denied"), message)

    @app.exception_handler(RequestValidationError)
    def invalid_request(request: Request, error: RequestValidationError) -> Response:
        fields = [
            {
                "status": 422,
                "code": str(e["type"]),
                "title": str(e["msg"]),
                "field": location_to_path(e["loc"]),
            }
            for e in error.errors()
        ]
        if _is_api(request):
            return _error_json(422, "invalid_input", "Invalid input", fields)
        detail = "; ".join(f"{f['field']}: {f['title']}" for f in fields)
        return _error_page(request, 422, i18n.gettext_("Invalid request"), detail)

    @app.exception_handler(StarletteHTTPException)
    def http_error(request: Request, error: StarletteHTTPException) -> Response:
        if _is_api(request) or request.url.path.startswith(("/static/", "/vendor/")):
            return _error_json(error.status_code, "http_error", str(error.detail))
        titles = {404: i18n.gettext_("Not found"), 405: i18n.gettext_("Not allowed")}
        message = (
            i18n.gettext_("This page does not exist.") if error.status_code == 404 else str(error.detail)
        )
        return _error_page(
            request, error.status_code, titles.get(error.status_code, i18n.gettext_("Error")), message
        )


def _install_data_error_handlers(app: FastAPI) -> None:
    """The last line of defence against values the database refuses (a number beyond 64 bits, NUL in
    text, NaN) and JSON nested beyond Python's recursion limit: the input types refuse them first, naming
    the field; whatever still gets through is the client's mistake too, so a 400, never a 500."""

    @app.exception_handler(OverflowError)
    def overflow(request: Request, error: OverflowError) -> Response:
        return _bad_value(request, error, NUMBER_TOO_LARGE)

    @app.exception_handler(RecursionError)
    def too_deep(request: Request, error: RecursionError) -> Response:
        return _bad_value(request, error, NESTED_TOO_DEEPLY)

    @app.exception_handler(StatementError)
    def refused_value(request: Request, error: StatementError) -> Response:
        if not isinstance(error, DataError) and not isinstance(error.orig, (ValueError, OverflowError)):
            raise error
        return _bad_value(request, error, VALUE_REFUSED)


NUMBER_TOO_LARGE = i18n.lazy("A number in the request is out of range")
NESTED_TOO_DEEPLY = i18n.lazy("The request nests its data too deeply")
VALUE_REFUSED = i18n.lazy("A value in the request cannot be stored")


def _bad_value(request: Request, error: BaseException, title: i18n.LazyString) -> Response:
    logger.warning("%s %s: %s", request.method, request.url.path, error, exc_info=error)
    if _is_api(request):
        return _error_json(400, "invalid_value", str.__str__(title))
    return _error_page(request, 400, i18n.gettext_("Invalid request"), str(title))
