"""The public poll page /q/{token}: a GET only shows, a POST records once; previews, closed polls, bad
tokens and deleted customers each get their own page."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from smartcomm.models import Customer, PollResponse
from tests.conftest import UIClient
from tests.polls.helpers import counts, make_customer, make_message, make_poll, poll_link

ENGLISH = {"Accept-Language": "en-GB,en;q=0.9"}
RUSSIAN = {"Accept-Language": "ru-RU,ru;q=0.9"}


def test_opening_the_page_shows_the_poll_and_records_nothing(client: UIClient, session: Session) -> None:
    poll = make_poll(session)
    customer = make_customer(session)
    message = make_message(session, customer)
    session.commit()
    before = counts(session)
    response = client.get(poll_link(poll, customer.id, message.id), headers=ENGLISH)
    assert response.status_code == 200
    assert "no-store" in response.headers["cache-control"]
    assert "Where do you shop?" in response.text
    assert (
        'id="question-q3"' in response.text and "hidden" in response.text.split('id="question-q3"')[1][:400]
    )
    assert 'src="/static/poll.js"' in response.text
    assert "Preview" not in response.text
    assert counts(session) == before


def test_answering_thanks_the_customer_and_a_second_attempt_is_refused(
    client: UIClient, session: Session
) -> None:
    poll = make_poll(session, thank_you="See you in the shop!")
    customer = make_customer(session)
    message = make_message(session, customer, source_kind="mailing", source_id=3)
    session.commit()
    url = poll_link(poll, customer.id, message.id)
    form = {"q.q1": "other", "q.q3": "At the market", "q.q2": ["food", "toys"], "q.q4.price": "ok"}
    response = client.post(url, data=form, headers=ENGLISH)
    assert response.status_code == 200
    assert "See you in the shop!" in response.text
    stored = session.scalars(select(PollResponse).where(PollResponse.customer_id == customer.id)).one()
    assert stored.answers == {
        "q1": "other",
        "q2": ["food", "toys"],
        "q3": "At the market",
        "q4": {"price": "ok"},
    }
    assert (stored.message_id, stored.source_kind, stored.source_id) == (message.id, "mailing", 3)
    before = counts(session)
    again = client.get(url, headers=ENGLISH)
    assert again.status_code == 200 and "You have already answered this poll" in again.text
    posted = client.post(url, data={"q.q1": "shop"}, headers=ENGLISH)
    assert posted.status_code == 409 and "You have already answered this poll" in posted.text
    assert counts(session) == before


def test_errors_are_shown_by_their_questions_with_the_answers_kept(
    client: UIClient, session: Session
) -> None:
    poll = make_poll(session)
    customer = make_customer(session)
    session.commit()
    before = counts(session)
    response = client.post(
        poll_link(poll, customer.id),
        data={"q.q1": "other", "q.q2": ["food", "toys", "books"]},
        headers=ENGLISH,
    )
    assert response.status_code == 422
    assert 'data-error-for="q3"' in response.text and "Please answer this question" in response.text
    assert 'data-error-for="q2"' in response.text and "Choose at most 2 options" in response.text
    assert 'value="other" checked' in response.text and 'value="books" checked' in response.text
    assert counts(session) == before


def test_the_page_speaks_russian(client: UIClient, session: Session) -> None:
    poll = make_poll(session)
    customer = make_customer(session)
    session.commit()
    response = client.post(poll_link(poll, customer.id), data={}, headers=RUSSIAN)
    assert response.status_code == 422
    assert '<html lang="ru">' in response.text


def test_a_preview_link_shows_a_banner_and_records_nothing(client: UIClient, session: Session) -> None:
    poll = make_poll(session)
    before = counts(session)
    url = poll_link(poll, 0)
    page = client.get(url, headers=ENGLISH)
    assert page.status_code == 200 and "Preview — answers are not recorded" in page.text
    done = client.post(url, data={"q.q1": "shop"}, headers=ENGLISH)
    assert done.status_code == 200 and "Thank you!" in done.text
    assert counts(session) == before


def test_a_closed_poll_says_so(client: UIClient, session: Session) -> None:
    poll = make_poll(session)
    customer = make_customer(session)
    poll.closed = True
    session.commit()
    before = counts(session)
    url = poll_link(poll, customer.id)
    assert "This poll is closed" in client.get(url, headers=ENGLISH).text
    posted = client.post(url, data={"q.q1": "shop"}, headers=ENGLISH)
    assert posted.status_code == 409 and "This poll is closed" in posted.text
    assert counts(session) == before


def test_a_tampered_token_is_unknown_and_a_deleted_customer_gone(client: UIClient, session: Session) -> None:
    poll = make_poll(session)
    customer = make_customer(session)
    session.commit()
    url = poll_link(poll, customer.id)
    tampered = url[:-2] + ("AA" if not url.endswith("AA") else "BB")
    before = counts(session)
    assert client.get(tampered, headers=ENGLISH).status_code == 404
    assert client.post(tampered, data={"q.q1": "shop"}, headers=ENGLISH).status_code == 404
    assert client.get("/q/not-a-token", headers=ENGLISH).status_code == 404
    session.execute(delete(Customer).where(Customer.id == customer.id))
    session.commit()
    assert client.get(url, headers=ENGLISH).status_code == 410
    assert client.post(url, data={"q.q1": "shop"}, headers=ENGLISH).status_code == 410
    assert counts(session) == before
