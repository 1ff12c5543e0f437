"""GET /api/docs: Swagger UI served from the npm package `swagger-ui-dist` (under /vendor/swagger-ui),
started by a script of our own, so the documentation works with no internet and under the
Content-Security-Policy (no inline script, nothing from a CDN)."""

from __future__ import annotations

from html import escape

from starlette.requests import Request
from starlette.responses import HTMLResponse

PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{title}</title>
  <link rel="icon" href="/static/favicon.svg" type="image/svg+xml">
  <link rel="stylesheet" href="/vendor/swagger-ui/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui" data-openapi-url="{openapi_url}"></div>
  <script src="/vendor/swagger-ui/swagger-ui-bundle.js"></script>
  <script src="/static/api-docs.js"></script>
</body>
</html>
"""


async def api_docs_page(request: Request) -> HTMLResponse:
    """The interactive API documentation (public, like the OpenAPI document it shows)."""
    app = request.app
    title = f"{app.title} — documentation"
    return HTMLResponse(PAGE.format(title=escape(title), openapi_url=escape(app.openapi_url or "")))
