"""The links of a rendered message rewritten for click tracking, and the open pixel."""

from __future__ import annotations

import re

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from smartcomm.channels.base import EmailContent, PushContent, SmsContent, ViberContent
from smartcomm.delivery.tokens import Purpose, base_url, message_links, verify
from smartcomm.delivery.tracking import track_contents
from smartcomm.models import TrackedLink


def _link_of(session: Session, tracked: str) -> tuple[int, str]:
    """The message id and the recorded address behind a rewritten link."""
    prefix = f"{base_url()}/t/c/"
    assert tracked.startswith(prefix), tracked
    found = verify(Purpose.CLICK, tracked[len(prefix) :], 2)
    assert found is not None
    url = session.scalar(select(TrackedLink.url).where(TrackedLink.id == found[1]))
    assert url is not None
    return found[0], url


def test_every_http_link_of_an_email_is_rewritten_and_the_pixel_added(session: Session) -> None:
    unsubscribe = message_links(5)["unsubscribe_url"]
    html = (
        "<html><body><p><a href='https://shop.example/sale?a=1&amp;b=2'>Sale</a>"
        f' <A HREF="http://shop.example/new">New</A> <a href="mailto:help@shop.example">Mail</a>'
        f' <a href="{unsubscribe}">Unsubscribe</a> <img src="https://cdn.example/p.png"></p></body></html>'
    )
    text = "Sale: https://shop.example/sale?a=1&b=2. New (http://shop.example/new)!"
    [tracked] = track_contents(session, [(5, EmailContent("Hi", html, text))])
    assert isinstance(tracked, EmailContent)
    hrefs = [match.group(2) for match in re.finditer(r"""href=(["'])(.*?)\1""", tracked.html, re.IGNORECASE)]
    assert _link_of(session, hrefs[0]) == (5, "https://shop.example/sale?a=1&b=2")
    assert _link_of(session, hrefs[1]) == (5, "http://shop.example/new")
    assert hrefs[2] == "mailto:help@shop.example"
    assert hrefs[3] == unsubscribe  # our own pages are never rewritten
    assert 'src="https://cdn.example/p.png"' in tracked.html  # images are not links
    assert tracked.html.index("/t/o/") < tracked.html.index("</body>")
    words = tracked.text.split()
    assert _link_of(session, words[1].rstrip("."))[1] == "https://shop.example/sale?a=1&b=2"
    assert words[1].endswith(".")  # the sentence keeps its full stop
    assert _link_of(session, words[3].strip("()!"))[1] == "http://shop.example/new"
    assert words[3].endswith(")!")


def test_a_link_is_recorded_once_whatever_the_number_of_messages(session: Session) -> None:
    contents = [
        (message_id, SmsContent(f"Code {message_id}: https://shop.example/s")) for message_id in (1, 2, 3)
    ]
    first = track_contents(session, contents)
    second = track_contents(session, [(4, SmsContent("Again https://shop.example/s"))])
    ids = {
        _link_of(session, item.text.split()[-1])[1]
        for item in [*first, *second]
        if isinstance(item, SmsContent)
    }
    assert ids == {"https://shop.example/s"}
    count = session.scalar(
        select(func.count()).select_from(TrackedLink).where(TrackedLink.url == "https://shop.example/s")
    )
    assert count == 1
    messages = {_link_of(session, item.text.split()[-1])[0] for item in first if isinstance(item, SmsContent)}
    assert messages == {1, 2, 3}  # each message's token names its own message


def test_viber_buttons_and_push_links_are_tracked_but_images_are_not(session: Session) -> None:
    viber = ViberContent(
        "See https://shop.example/v", "Open", "https://shop.example/b", "https://cdn.example/i.png"
    )
    push = PushContent("Shop", "New in", "https://cdn.example/i.png", "https://shop.example/p")
    app_link = PushContent("Shop", "New in", None, "shop://catalogue")
    tracked_viber, tracked_push, untouched = track_contents(session, [(7, viber), (8, push), (9, app_link)])
    assert isinstance(tracked_viber, ViberContent) and isinstance(tracked_push, PushContent)
    assert tracked_viber.button_url is not None and _link_of(session, tracked_viber.button_url) == (
        7,
        "https://shop.example/b",
    )
    assert tracked_viber.image_url == "https://cdn.example/i.png"
    assert tracked_push.link is not None and _link_of(session, tracked_push.link) == (
        8,
        "https://shop.example/p",
    )
    assert untouched == app_link


def test_an_email_without_html_gets_no_pixel(session: Session) -> None:
    [tracked] = track_contents(session, [(3, EmailContent("Hi", "", "Plain text"))])
    assert tracked == EmailContent("Hi", "", "Plain text")
