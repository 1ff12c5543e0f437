"""The open pixel and the click redirect over HTTP: answered from the signed token, recorded, and never a
redirect to anywhere but the link recorded for that message."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from smartcomm.delivery.tokens import Purpose, sign
from smartcomm.delivery.tracking import record_links
from smartcomm.models import MessageEvent, Visitor
from smartcomm.web.routes.public import PIXEL, location
from tests.conftest import UIClient
from tests.tracking_public.helpers import events_of, make_customer, make_message, reload

BROWSER = {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/124.0 Safari/537.36"}


def _event_count(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(MessageEvent)) or 0)


def test_the_pixel_answers_a_gif_and_records_the_open(client: UIClient, session: Session) -> None:
    message = make_message(session, make_customer(session))
    response = client.get(f"/t/o/{sign(Purpose.OPEN, message.id)}.gif", headers=BROWSER)
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/gif"
    assert response.content == PIXEL
    assert "no-store" in response.headers["cache-control"]
    assert "set-cookie" not in response.headers
    message = reload(session, message)
    assert (message.opens, message.status) == (1, "opened")


def test_a_tampered_pixel_token_records_nothing(client: UIClient, session: Session) -> None:
    message = make_message(session, make_customer(session))
    token = sign(Purpose.OPEN, message.id)
    response = client.get(f"/t/o/{token[:-2]}xx.gif", headers=BROWSER)
    assert response.status_code == 404
    assert response.content == PIXEL  # a broken image in a mail client helps nobody
    assert _event_count(session) == 0


def test_a_click_redirects_to_the_recorded_link_and_records_it(client: UIClient, session: Session) -> None:
    message = make_message(session, make_customer(session))
    link = record_links(session, ["https://shop.example/sale?utm_source=mail"])[
        "https://shop.example/sale?utm_source=mail"
    ]
    response = client.get(f"/t/c/{sign(Purpose.CLICK, message.id, link)}", headers=BROWSER)
    assert response.status_code == 302
    assert response.headers["location"] == "https://shop.example/sale?utm_source=mail"
    message = reload(session, message)
    assert (message.clicks, message.status) == (1, "clicked")
    assert events_of(session, message)[-1].data["url"] == "https://shop.example/sale?utm_source=mail"


def test_a_tampered_or_foreign_click_token_gets_a_404_page_never_a_redirect(
    client: UIClient, session: Session
) -> None:
    customer = make_customer(session)
    mine, other = make_message(session, customer), make_message(session, customer)
    link = record_links(session, ["https://shop.example/a"])["https://shop.example/a"]
    token = sign(Purpose.CLICK, mine.id, link)
    forged = [
        token[:-1] + ("A" if token[-1] != "A" else "B"),  # a changed signature
        sign(Purpose.OPEN, mine.id),  # a pixel token used as a click
        sign(Purpose.CLICK, other.id, link + 1000),  # a link that was never recorded
        "not-a-token",
    ]
    for bad in forged:
        response = client.get(f"/t/c/{bad}", headers=BROWSER)
        assert response.status_code == 404, bad
        assert "location" not in response.headers
        assert "text/html" in response.headers["content-type"]
        assert "This link is not valid" in response.text
    assert _event_count(session) == 0


def test_a_head_request_is_a_link_checker_and_counts_as_a_machine(client: UIClient, session: Session) -> None:
    message = make_message(session, make_customer(session))
    link = record_links(session, ["https://shop.example/a"])["https://shop.example/a"]
    response = client.head(f"/t/c/{sign(Purpose.CLICK, message.id, link)}", headers=BROWSER)
    assert response.status_code == 302
    message = reload(session, message)
    assert (message.clicks, message.machine_clicks, message.status) == (0, 1, "delivered")


def test_a_click_carrying_the_trackers_cookie_identifies_the_visitor(
    client: UIClient, session: Session
) -> None:
    customer = make_customer(session)
    message = make_message(session, customer)
    link = record_links(session, ["https://shop.example/a"])["https://shop.example/a"]
    client.cookies.set("ajs_anonymous_id", "%22b6c1a7e2-77d4-4f31-9a35-2f3ac1d0e9aa%22")
    client.get(f"/t/c/{sign(Purpose.CLICK, message.id, link)}", headers=BROWSER)
    visitor = session.get(Visitor, "b6c1a7e2-77d4-4f31-9a35-2f3ac1d0e9aa")
    assert visitor is not None and visitor.customer_id == customer.id


def test_non_ascii_addresses_are_redirected_percent_encoded() -> None:
    assert location("https://магазин.рф/акции?q=чай#верх") == (
        "https://xn--80aairftm.xn--p1ai/%D0%B0%D0%BA%D1%86%D0%B8%D0%B8?q=%D1%87%D0%B0%D0%B9#%D0%B2%D0%B5%D1%80%D1%85"
    )
    assert location("https://shop.example/a%20b?x=1&y=2") == "https://shop.example/a%20b?x=1&y=2"
    assert "\n" not in location("https://shop.example/a\nSet-Cookie: x")
