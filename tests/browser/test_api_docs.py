"""The API documentation works on a closed network and under the Content-Security-Policy, and the policy
really blocks what it should (which the watch of every browser test reports)."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from playwright.sync_api import Browser, Page, Request, expect

from tests.browser.conftest import watch_for_page_errors


def test_api_docs_list_the_operations_with_no_request_leaving_the_machine(page: Page) -> None:
    requested: list[str] = []

    def note(request: Request) -> None:
        requested.append(request.url)

    page.context.on("request", note)
    page.goto("/api/docs")

    # Swagger UI draws a specification this large as a scrolled list that holds only the rows in view; its
    # filter box narrows the list to the tags named.
    expect(page.locator(".opblock-tag").first).to_be_visible(timeout=30_000)
    page.locator("input.operation-filter-input").fill("auth")
    expect(page.locator(".opblock-summary-path", has_text="/api/v1/token")).to_be_visible()
    page.locator("input.operation-filter-input").fill("customers")
    expect(page.locator(".opblock-summary-path", has_text="/api/v1/customers").first).to_be_visible()
    expect(page.locator(".opblock-summary-path", has_text="/api/v1/token")).to_have_count(0)
    elsewhere = [
        url for url in requested if not url.startswith("data:") and urlsplit(url).hostname != "127.0.0.1"
    ]
    assert elsewhere == []
    assert any(url.endswith("/vendor/swagger-ui/swagger-ui-bundle.js") for url in requested)


def test_the_policy_blocks_injected_inline_script_and_the_watch_reports_it(
    browser: Browser, live_server: str
) -> None:
    context = browser.new_context(base_url=live_server)
    problems = watch_for_page_errors(context)
    page = context.new_page()
    page.goto("/login")

    page.evaluate(
        """() => {
            const script = document.createElement("script");
            script.textContent = "window.injected = true";
            document.body.appendChild(script);
        }"""
    )

    expect(page.locator("#sign-in")).to_be_visible()
    assert page.evaluate("() => window.injected === undefined")
    context.close()
    assert any(re.search(r"CSP violation: script-src", problem) for problem in problems), problems
