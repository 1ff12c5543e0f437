"""The "view in browser" link: the e-mail as its reader got it, tracked like the e-mail, with no script."""

from __future__ import annotations

from sqlalchemy.orm import Session

from smartcomm.channels.base import EmailContent
from smartcomm.delivery.schemas import InlineSource, content_to_json
from smartcomm.delivery.tokens import Purpose, sign
from smartcomm.models import MessageContent
from tests.conftest import UIClient
from tests.tracking_public.helpers import make_customer, make_message, reload

HTML = "<html><body><h1>Autumn sale</h1><a href='https://shop.example/sale'>Shop now</a></body></html>"


def test_a_kept_email_is_shown_with_its_links_tracked_and_no_script(
    client: UIClient, session: Session
) -> None:
    message = make_message(session, make_customer(session), source_kind="transactional")
    content = content_to_json(EmailContent("Autumn sale", HTML, "Autumn sale"))
    session.add(MessageContent(message_id=message.id, content=content, headers={}))
    session.commit()
    response = client.get(
        f"/v/{sign(Purpose.VIEW, message.id)}", headers={"User-Agent": "Mozilla/5.0 Firefox/126"}
    )
    assert response.status_code == 200
    assert "<h1>Autumn sale</h1>" in response.text
    assert "href='http://127.0.0.1:8000/t/c/" in response.text  # the reader's click still counts
    assert "https://shop.example/sale" not in response.text
    policy = response.headers["content-security-policy"]
    assert "script-src" not in policy and "default-src 'none'" in policy


def test_an_email_sent_without_kept_content_is_rendered_again_for_its_customer(
    client: UIClient, session: Session
) -> None:
    customer = make_customer(session, first_name="Vera")
    message = make_message(session, customer)
    source = InlineSource(
        "email", {"subject": "Hi", "html": "<p>Hello {{ client.first_name }}</p>", "text": "Hi"}
    )
    session.add(MessageContent(message_id=message.id, source=source.as_json(), headers={}))
    session.commit()
    response = client.get(f"/v/{sign(Purpose.VIEW, message.id)}")
    assert response.status_code == 200 and "Hello Vera" in response.text


def test_a_message_that_is_not_an_email_has_nothing_to_view(client: UIClient, session: Session) -> None:
    message = make_message(session, make_customer(session), channel="sms")
    response = client.get(f"/v/{sign(Purpose.VIEW, message.id)}")
    assert response.status_code == 410
    assert reload(session, message).opens == 0
