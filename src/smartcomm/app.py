"""create_app(): the REST API and the back-office UI in one ASGI application."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from smartcomm import __version__, api, web
from smartcomm.api.deps import public_api
from smartcomm.api.event_intake import EventIntakeRoute
from smartcomm.api.ratelimit import RateLimitMiddleware
from smartcomm.config import config
from smartcomm.kit import i18n
from smartcomm.kit.errors import DomainError, location_to_path
from smartcomm.web.deps import CsrfFailed, LoginRequired
from smartcomm.web.templating import is_htmx, render

logger = logging.getLogger("smartcomm")

WEB_DIR = Path(__file__).parent / "web"
VENDOR_MOUNTS = {
    "tabler": "@tabler/core/dist",
    "tabler-icons": "@tabler/icons-webfont/dist",
    "htmx": "htmx.org/dist",
    "alpine": "alpinejs/dist",
    "chartjs": "chart.js/dist",
    "sortablejs": "sortablejs",
}

API_DESCRIPTION = """
REST API of smartcomm. Get a token with `POST /api/v1/token` (a user with the API role), then send
`Authorization: Bearer <token>`. Every address may make 1,000 requests per minute; beyond that the API
answers 429 with a JSON error body. Errors always come as
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


def create_app(*, rate_limit: str | None = None) -> FastAPI:
    app = FastAPI(
        title="smartcomm API",
        version=__version__,
        description=API_DESCRIPTION,
        docs_url="/api/docs",
        redoc_url=None,
        openapi_url="/api/openapi.json",
    )
    # First: load balancers ask often, and routes are matched in the order they were added.
    app.add_api_route("/healthz", _health, include_in_schema=False, dependencies=[Depends(public_api)])
    app.router.routes.append(EventIntakeRoute())
    app.include_router(api.build_router())
    app.include_router(api.build_segment_router())
    app.include_router(web.build_router())
    _mount_static(app)
    _install_error_handlers(app)
    # Starlette runs the last-added middleware first: sessions, then language, then the API limit.
    app.add_middleware(
        RateLimitMiddleware, limit=rate_limit or config.api_rate_limit, redis_url=config.redis_url
    )
    app.add_middleware(LanguageMiddleware)
    app.add_middleware(
        SessionMiddleware,
        secret_key=config.effective_secret_key,
        session_cookie="smartcomm_session",
        max_age=config.session_max_age_hours * 3600,
        same_site="lax",
        https_only=config.public_base_url.startswith("https://"),
    )
    return app


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
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        location = f"/login?next={target}" if request.method == "GET" and target != "/" else "/login"
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
