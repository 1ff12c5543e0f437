"""The site tracker for real: an Administrator copies the Website snippet from Settings → Event sources, a
shop on another origin (another loopback port) pastes it into its page, and Chromium runs it — the stock
analytics.js served by smartcomm, with no request leaving the two servers. The shop's events land as web
events, cart changes and a receipt; a queued pop-up shows on the shop's page, and its click is recorded."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, Request, expect
from sqlalchemy import select
from sqlalchemy.orm import Session

from smartcomm.config import config
from smartcomm.kit.db import Database
from smartcomm.models import ContainerItem, Customer, EventSource, Popup, Receipt, WebEvent
from smartcomm.popups.schemas import PopupContent
from smartcomm.popups.service import popup_service
from tests.browser.conftest import sign_in, watch_for_page_errors
from tests.events.conftest import make_product

WRITE_KEY = "shop-write-key"


class Shop:
    """A web shop on its own port: its pages are set by the test."""

    def __init__(self) -> None:
        self.pages: dict[str, str] = {}
        shop = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = shop.pages.get(
                    self.path.split("?")[0], "<!doctype html><title>Shop</title><p>Shop</p>"
                )
                data = body.encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def page(self, path: str, head: str, body: str = "<h1>Leather goods</h1>") -> str:
        self.pages[path] = (
            f"<!doctype html><html><head><title>Shop</title>{head}</head><body>{body}</body></html>"
        )
        return self.url + path


@pytest.fixture
def shop(live_server: str) -> Iterator[Shop]:
    site = Shop()
    thread = threading.Thread(target=site.server.serve_forever, daemon=True)
    thread.start()
    yield site
    site.server.shutdown()
    site.server.server_close()


@pytest.fixture
def catalogue(live_database: Database) -> None:
    with live_database.session() as session:
        session.add(EventSource(code="web-shop", name="Web shop", domain="shop.example", write_key=WRITE_KEY))
        make_product(session, "A-42", "Leather bag", "4990.00", category=("bags", "Bags"))
        session.commit()


def wait_for(database: Database, check: Callable[[Session], Any], what: str, seconds: float = 20) -> Any:
    """Poll the database until `check` returns something truthy (the browser sends in the background)."""
    deadline = time.monotonic() + seconds
    while True:
        with database.session() as session:
            found = check(session)
        if found:
            return found
        assert time.monotonic() < deadline, f"the tracker's {what} did not arrive"
        time.sleep(0.2)


def shop_page(browser: Browser) -> tuple[Page, list[str]]:
    """A browser tab for the shop (no base URL of smartcomm's) and the errors its pages log."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    context.set_default_timeout(15_000)
    problems = watch_for_page_errors(context)
    return context.new_page(), problems


def requests_to_others(page: Page, allowed: tuple[str, ...]) -> list[str]:
    """Addresses the page asked for outside the shop and smartcomm (Segment's CDN would be one)."""
    elsewhere: list[str] = []

    def seen(request: Request) -> None:
        if not request.url.startswith(allowed) and not request.url.startswith("data:"):
            elsewhere.append(request.url)

    page.on("request", seen)
    return elsewhere


@pytest.mark.usefixtures("catalogue")
def test_the_pasted_snippet_sends_the_shops_events(
    page: Page, browser: Browser, staff, live_server: str, live_database: Database, shop: Shop, monkeypatch
) -> None:
    monkeypatch.setattr(config, "public_base_url", live_server)
    email, password = staff("administrator", full_name="Alice Admin")
    sign_in(page, email, password)
    page.goto("/settings/event-sources")
    page.click('tr[data-code="web-shop"] a.btn')
    expect(page.locator("#tab-website")).to_have_class("nav-link active")
    snippet = page.locator("#snippet-website-code").inner_text()
    assert (
        f'analytics.load("{WRITE_KEY}")' in snippet
        and f"{live_server}/static/smartcomm-tracker.js" in snippet
    )

    tab, problems = shop_page(browser)
    elsewhere = requests_to_others(tab, (shop.url, live_server))
    tab.goto(shop.page("/", snippet))

    receipt = wait_for(
        live_database,
        lambda s: s.scalars(select(Receipt).where(Receipt.number == "W-100")).first(),
        "order (the snippet's last call)",
    )
    with live_database.session() as session:
        anna = session.scalars(select(Customer).where(Customer.external_id == "C-1001")).one()
        kinds = session.execute(
            select(WebEvent.kind, WebEvent.container_action, WebEvent.customer_id).order_by(WebEvent.id)
        ).all()
        assert anna.email == "anna@example.com"
        assert [(k, a) for k, a, _ in kinds] == [
            ("visit", None),
            ("product_view", None),
            ("category_view", None),
            ("container_change", "add"),
            ("container_change", "remove"),
            ("container_change", "set"),
            ("order_complete", None),
        ]
        assert {customer for _, _, customer in kinds} == {anna.id}  # the page view too, once identified
        assert (receipt.customer_id, receipt.total) == (anna.id, Decimal("9980.00"))
        assert session.scalars(select(ContainerItem)).all() == []  # the order emptied the cart
    tab.context.close()
    assert elsewhere == []
    assert problems == []


@pytest.mark.usefixtures("catalogue")
def test_a_popup_shows_on_the_shops_page_and_its_click_is_recorded(
    browser: Browser, live_server: str, live_database: Database, shop: Shop
) -> None:
    head = (
        f'<script src="{live_server}/static/smartcomm-tracker.js"></script>'
        f'<script src="{live_server}/static/smartcomm-popups.js" data-write-key="{WRITE_KEY}" defer></script>'
        f'<script>analytics.load("{WRITE_KEY}"); analytics.identify("C-77"); analytics.page();</script>'
    )
    tab, problems = shop_page(browser)
    tab.goto(shop.page("/", head))
    customer_id = wait_for(
        live_database,
        lambda s: s.scalar(select(Customer.id).where(Customer.external_id == "C-77")),
        "identify call",
    )
    expect(tab.locator(".smartcomm-popup")).to_have_count(0)  # nothing queued yet
    content = PopupContent(
        title="Your bag is waiting",
        body="10% off until tonight.",
        button_text="Back to the cart",
        button_url=shop.url + "/cart",
    )
    with live_database.session() as session:
        popup_service.queue(
            session, customer_id, "campaign-1:node-2:1", content, None, "campaign", 1, "node-2"
        )
        session.commit()

    tab.goto(shop.page("/catalog", head))
    modal = tab.locator(".smartcomm-popup")
    expect(modal.get_by_role("dialog")).to_contain_text("Your bag is waiting")
    expect(modal).to_contain_text("10% off until tonight.")
    wait_for(live_database, lambda s: s.scalar(select(Popup.shown_at)), "impression")
    tab.get_by_role("link", name="Back to the cart").click()
    expect(tab).to_have_url(shop.url + "/cart")

    wait_for(live_database, lambda s: s.scalar(select(Popup.clicked_at)), "click")
    with live_database.session() as session:
        assert session.scalars(select(Popup.status)).one() == "clicked"
    tab.goto(shop.page("/catalog", head))
    tab.wait_for_timeout(1500)  # the script asked again: a pop-up is shown once
    expect(tab.locator(".smartcomm-popup")).to_have_count(0)
    tab.context.close()
    assert problems == []
