"""The template macro client.poll('CODE'): the link opens the right poll for the right customer; a message
being sent records its invitation once; a preview link records nothing; a wrong code fails the render."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from smartcomm.delivery.tokens import Purpose, verify
from smartcomm.models import PollInvitation
from smartcomm.personalization import hooks
from smartcomm.personalization.engine import compile_part, render_part
from smartcomm.personalization.errors import RenderError
from smartcomm.personalization.runtime import RenderSettings, RenderState
from smartcomm.personalization.views import ClientView
from smartcomm.polls import links  # noqa: F401 (registers the macro, as the app and the worker do)
from tests.conftest import UIClient
from tests.polls.helpers import counts, make_customer, make_message, make_poll


def _render(source: str, customer_id: int | None, *, key: str | None = None, preview: bool = False) -> str:
    state = RenderState(RenderSettings(), message_key=key, preview=preview)
    client = ClientView({"id": customer_id, "first_name": "Anna"}, {})
    return render_part(compile_part("body", source, html=False), {"client": client}, state)


def _macro(code: str) -> str:
    return "{{ client.poll('" + code + "') }}"


def _token(link: str) -> tuple[int, ...]:
    found = verify(Purpose.POLL, link.rsplit("/q/", 1)[1], 3)
    assert found is not None
    return found


def test_a_message_being_sent_gets_the_customers_link_and_records_the_invitation(
    client: UIClient, session: Session
) -> None:
    poll = make_poll(session)
    customer = make_customer(session)
    message = make_message(session, customer, source_kind="mailing", source_id=21, status="rendered")
    template = "Tell us: " + _macro(poll.code.lower())
    with hooks.issuing(session, message.id):
        first = _render(template, customer.id, key=message.idempotency_key)
        again = _render(template, customer.id, key=message.idempotency_key)  # a render repeated: one row
    session.commit()
    assert first == again and first.startswith("Tell us: http")
    assert _token(first) == (poll.id, customer.id, message.id)
    invitations = session.scalars(select(PollInvitation).where(PollInvitation.poll_id == poll.id)).all()
    assert [(i.customer_id, i.message_id, i.source_kind, i.source_id) for i in invitations] == [
        (customer.id, message.id, "mailing", 21)
    ]
    page = client.get("/q/" + first.rsplit("/q/", 1)[1])
    assert page.status_code == 200 and poll.name in page.text


def test_the_same_message_shown_again_has_the_same_link_and_records_nothing(session: Session) -> None:
    poll = make_poll(session)
    customer = make_customer(session)
    message = make_message(session, customer)
    session.commit()
    before = counts(session)
    shown = _render(_macro(poll.code), customer.id, key=message.idempotency_key)
    assert _token(shown) == (poll.id, customer.id, message.id)
    assert counts(session) == before


def test_a_preview_gets_a_preview_link_and_records_nothing(session: Session) -> None:
    poll = make_poll(session)
    customer = make_customer(session)
    message = make_message(session, customer)
    session.commit()
    before = counts(session)
    with hooks.issuing(session, message.id):
        previewed = _render(_macro(poll.code), customer.id, preview=True)
    assert _token(previewed) == (poll.id, 0, 0)
    assert _token(_render(_macro(poll.code), None)) == (poll.id, 0, 0)
    assert counts(session) == before


def test_an_unknown_or_closed_poll_fails_the_render_naming_the_code(session: Session) -> None:
    poll = make_poll(session)
    with pytest.raises(RenderError) as raised:
        _render("{{ client.poll('POLL-999999') }}", 1)
    assert raised.value.reason == "unknown_poll" and "POLL-999999" in raised.value.message
    poll.closed = True
    session.commit()
    with pytest.raises(RenderError) as raised:
        _render(_macro(poll.code), 1)
    assert raised.value.reason == "poll_closed" and poll.code in raised.value.message
