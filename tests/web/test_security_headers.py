"""Security headers on every response, a Content-Security-Policy on every page, and pages that can live
with it: no inline script or event handler in any template, nothing loaded from another site, and the
API documentation served from the installed npm package."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from smartcomm.app import VENDOR_MOUNTS
from smartcomm.config import config
from tests.conftest import UIClient

TEMPLATES = Path(__file__).resolve().parents[2] / "src" / "smartcomm" / "web" / "templates"
POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self' 'unsafe-inline'",
    "img-src": "'self' data:",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}
EVERYWHERE = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
}


def policy_of(header: str) -> dict[str, str]:
    parts = [part.strip() for part in header.split(";") if part.strip()]
    return {part.split(" ", 1)[0]: part.split(" ", 1)[1] for part in parts}


def assert_everywhere_headers(headers: dict[str, str]) -> None:
    assert {name: headers.get(name) for name in EVERYWHERE} == EVERYWHERE


@pytest.mark.parametrize("url", ["/login", "/account", "/customers", "/segments/new", "/rfm", "/api/docs"])
def test_pages_send_the_policy_and_the_headers(client: UIClient, admin, url: str) -> None:
    if url != "/login":
        client.sign_in(admin[0].email, admin[1])
    response = client.get(url)

    assert response.status_code == 200
    assert policy_of(response.headers["content-security-policy"]).items() >= POLICY.items()
    assert "unsafe-eval" not in response.headers["content-security-policy"]
    assert_everywhere_headers(dict(response.headers))


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("GET", "/api/v1/audiences"),
        ("POST", "/api/v1/token"),
        ("GET", "/api/openapi.json"),
        ("GET", "/static/app.js"),
        ("GET", "/vendor/htmx/htmx.min.js"),
        ("GET", "/healthz"),
        ("POST", "/v1/track"),
    ],
)
def test_every_other_response_sends_the_headers_too(client: TestClient, method: str, url: str) -> None:
    response = client.request(method, url)
    assert_everywhere_headers(dict(response.headers))


def test_error_pages_and_redirects_send_the_headers(client: TestClient) -> None:
    assert_everywhere_headers(dict(client.get("/settings/users").headers))
    missing = client.get("/no-such-page")
    assert missing.status_code == 404
    assert "content-security-policy" in missing.headers


def templates() -> list[Path]:
    return sorted(TEMPLATES.rglob("*.html"))


@pytest.mark.parametrize("template", templates(), ids=lambda p: str(p.relative_to(TEMPLATES)))
def test_no_template_has_inline_script_or_handlers(template: Path) -> None:
    text = template.read_text()
    scripts = re.findall(r"<script\b([^>]*)>", text)
    inline = [attrs for attrs in scripts if "src=" not in attrs and 'type="application/json"' not in attrs]
    handlers = re.findall(r"\son[a-z]+\s*=", text)
    assert (inline, handlers, "javascript:" in text) == ([], [], False)


@pytest.mark.parametrize("template", templates(), ids=lambda p: str(p.relative_to(TEMPLATES)))
def test_no_template_loads_anything_from_another_site(template: Path) -> None:
    text = template.read_text()
    loaded = re.findall(r"<(?:script|link|img|iframe)\b[^>]*(?:src|href)=\"((?:https?:)?//[^\"]+)\"", text)
    assert loaded == []


def test_api_docs_come_from_the_installed_package(client: TestClient) -> None:
    page = client.get("/api/docs").text
    assets = re.findall(r"(?:src|href)=\"([^\"]+)\"", page)

    assert "/vendor/swagger-ui/swagger-ui-bundle.js" in assets and "/static/api-docs.js" in assets
    assert all(asset.startswith("/") and not asset.startswith("//") for asset in assets)
    assert re.search(r"<script>", page) is None
    package = config.node_modules_dir / VENDOR_MOUNTS["swagger-ui"]
    assert (package / "swagger-ui-bundle.js").is_file()
    assert client.get("/vendor/swagger-ui/swagger-ui-bundle.js").status_code == 200


def test_the_pages_load_alpines_build_that_needs_no_eval(client: TestClient) -> None:
    assert VENDOR_MOUNTS["alpine"] == "@alpinejs/csp/dist"
    script = client.get("/vendor/alpine/cdn.min.js")
    assert script.status_code == 200
    assert "CSP" in script.text
