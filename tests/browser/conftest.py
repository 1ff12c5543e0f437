"""Browser tests: the real app served by uvicorn in a thread, driven through Debian's Chromium."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    WebError,
    expect,
    sync_playwright,
)

from smartcomm.kit.db import Database
from tests.factories import make_user

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
]
# Set SMARTCOMM_SCREENSHOTS=DIR to keep a PNG of every page a test looks at.
SCREENSHOT_DIR = os.environ.get("SMARTCOMM_SCREENSHOTS")
# Every page reports what the Content-Security-Policy blocked as a console error.
REPORT_CSP_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", function (event) {
  console.error("CSP violation: " + event.violatedDirective + " blocked "
                + (event.blockedURI || "inline code") + " at " + event.sourceFile + ":" + event.lineNumber);
});
"""
# The app's own 4xx answers that a page shows (a form error, a refusal toast) are not page errors.
EXPECTED_ANSWER = re.compile(r"(status of 4\d\d|Response Status Error Code 4\d\d)")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser, live_server: str) -> Iterator[Page]:
    context = browser.new_context(
        base_url=live_server, viewport={"width": 1440, "height": 900}, locale="en-US"
    )
    context.set_default_timeout(10_000)
    problems = watch_for_page_errors(context)
    new_page = context.new_page()
    yield new_page
    context.close()
    assert problems == [], "the pages logged errors or CSP violations:\n" + "\n".join(problems)


def watch_for_page_errors(context: BrowserContext) -> list[str]:
    """Collects console errors, uncaught exceptions, Alpine's expression warnings and CSP violations of
    every page of the context: a test whose pages log any fails."""
    problems: list[str] = []
    context.add_init_script(REPORT_CSP_VIOLATIONS)

    def console(message: ConsoleMessage) -> None:
        text, url = message.text, message.location.get("url", "")
        asset = "/static/" in url or "/vendor/" in url
        if message.type == "error" and (asset or not EXPECTED_ANSWER.search(text)):
            problems.append(f"console error: {text} ({url})")
        elif message.type == "warning" and text.startswith("Alpine"):
            problems.append(f"Alpine: {text}")

    def uncaught(error: WebError) -> None:
        problems.append(f"uncaught error: {error.error}")

    context.on("console", console)
    context.on("weberror", uncaught)
    return problems


def snapshot(page: Page, name: str) -> None:
    """Keep a screenshot when asked to (for looking at the pages, never for assertions)."""
    if SCREENSHOT_DIR:
        Path(SCREENSHOT_DIR).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SCREENSHOT_DIR) / f"{name}.png"), full_page=True)


# The widths of the laptops and monitors the back office is used on.
LAYOUT_WIDTHS = (1280, 1440)
# What a person would see wrong with the page at the window's width: sideways scrolling of the whole page, a
# table wider than the box it scrolls in (or cut off by one that does not scroll), a dark sidebar that ends
# before the page does.
LAYOUT_PROBLEMS = """async () => {
  // Let what redraws itself on a resize (charts, observers) catch up with the new width first.
  for (let frame = 0; frame < 3; frame++) await new Promise((done) => requestAnimationFrame(done));
  const problems = [], page = document.documentElement;
  if (page.scrollWidth > window.innerWidth + 1)
    problems.push(`the page is ${page.scrollWidth}px wide in a ${window.innerWidth}px window`);
  for (const table of document.querySelectorAll("table")) {
    if (!table.getClientRects().length) continue;  // not shown (another tab, a closed receipt)
    let box = table.parentElement;
    while (box && box !== document.body && getComputedStyle(box).overflowX === "visible")
      box = box.parentElement;
    if (!box || box === document.body) continue;  // no box of its own: the page's width above says it all
    const shown = box.getBoundingClientRect().left + box.clientLeft + box.clientWidth;
    const wider = Math.max(table.scrollWidth - box.clientWidth, table.getBoundingClientRect().right - shown);
    if (wider > 1) {
      const where = box.id ? "#" + box.id : box.className || box.tagName;
      const name = table.id ? `#${table.id}` : `a table in ${where}`;
      problems.push(`${name} is ${Math.round(wider)}px wider than its box`);
    }
  }
  // The page is its frame (sidebar and content side by side), at least as tall as the window; an open
  // picker may hang below it, over the page's background, which continues the sidebar's column.
  const sidebar = document.querySelector(".sc-sidebar"), frame = sidebar && sidebar.closest(".page");
  if (frame) {
    const bottom = sidebar.getBoundingClientRect().bottom + window.scrollY;
    const end = Math.max(frame.getBoundingClientRect().bottom + window.scrollY, window.innerHeight);
    if (bottom + 1 < end)
      problems.push(`the sidebar ends at ${Math.round(bottom)}px of a ${Math.round(end)}px page`);
  }
  return problems;
}"""


def check_layout(page: Page) -> None:
    """The page as it stands fits at 1280 and at 1440 px: nothing scrolls the page sideways, no table is
    cut off or wider than its scroll box, and the sidebar reaches the bottom of the page."""
    size = page.viewport_size or {"width": 1440, "height": 900}
    problems: list[str] = []
    try:
        for width in LAYOUT_WIDTHS:
            page.set_viewport_size({"width": width, "height": size["height"]})
            problems += [f"{width}px: {problem}" for problem in page.evaluate(LAYOUT_PROBLEMS)]
    finally:
        page.set_viewport_size(size)
    assert problems == [], f"{page.url} does not fit: " + "; ".join(problems)


def sign_in(page: Page, email: str, password: str) -> None:
    page.goto("/login")
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("#sign-in")
    expect(page).not_to_have_url(re.compile(r"/login"))


def sign_out(page: Page) -> None:
    page.click("#user-menu")
    page.click("#sign-out")
    expect(page).to_have_url(re.compile(r"/login$"))


@pytest.fixture
def staff(live_database: Database):
    """Create a committed staff user of a role: staff("marketer") -> (email, password)."""

    def create(role: str, **values: object) -> tuple[str, str]:
        with live_database.session() as session:
            user, password = make_user(session, role=role, **values)  # type: ignore[arg-type]
            return user.email, password

    return create
