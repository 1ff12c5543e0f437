"""The template macro `client.poll('POLL-151')`: the customer's personal link to a poll.

Registered on import (the app and the worker import this module). A code naming no poll, or a closed
poll, fails the render with a message naming the code, so a mailing with a wrong code fails its render
check instead of sending a dead link. In a preview (or without a customer) the link is a preview link,
which shows the poll and records nothing. When the render makes a message being sent, the link is also
recorded as an invitation — once per message, however often the message is rendered.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from smartcomm.delivery.tokens import poll_url
from smartcomm.kit.db import session_scope
from smartcomm.kit.i18n import lazy
from smartcomm.kit.time import utcnow
from smartcomm.models import Poll
from smartcomm.personalization import hooks
from smartcomm.personalization.errors import RenderError
from smartcomm.polls.repository import PollRepository

UNKNOWN = lazy("there is no poll %(code)s")
CLOSED = lazy("the poll %(code)s is closed")
PREVIEW_CUSTOMER = 0


def poll_link(call: hooks.HookCall) -> str:
    """The link to the named poll for the call's customer (a preview link in a preview)."""
    if call.issuing is not None:
        return _link(call.issuing.session, call)
    with session_scope(read_only=True) as session:
        return _link(session, call)


def _link(session: Session, call: hooks.HookCall) -> str:
    poll = _open_poll(session, call.argument)
    if call.preview or not call.customer_id:
        return poll_url(poll.id, PREVIEW_CUSTOMER, None)
    if call.issuing is not None:  # in the message's savepoint: a render that fails records nothing
        record_invitation(call.issuing.writing(), poll, call.customer_id, call.issuing.message_id)
        return poll_url(poll.id, call.customer_id, call.issuing.message_id)
    # The same message shown again (in a browser, in the Outbox): the same link as the one sent.
    message_id = PollRepository(session).message_id_by_key(call.message_key) if call.message_key else None
    return poll_url(poll.id, call.customer_id, message_id)


def _open_poll(session: Session, code: str) -> Poll:
    poll = PollRepository(session).by_code(code)
    if poll is None:
        raise RenderError(UNKNOWN, "unknown_poll", code=code)
    if poll.closed:
        raise RenderError(CLOSED, "poll_closed", code=poll.code)
    return poll


def record_invitation(session: Session, poll: Poll, customer_id: int, message_id: int) -> None:
    """Note that the message offers the poll to the customer (nothing new when it already did)."""
    repository = PollRepository(session)
    source_kind, source_id = repository.message_source(message_id)
    repository.invite(
        {
            "poll_id": poll.id,
            "customer_id": customer_id,
            "message_id": message_id,
            "source_kind": source_kind,
            "source_id": source_id,
            "invited_at": utcnow(),
        }
    )


hooks.register(hooks.POLL, poll_link)
