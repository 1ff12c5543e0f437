"""Messages → Outbox: every message in the ledger — filtered by channel, status and source, searched by
recipient — and one message as its recipient saw it, with its headers and its history; the sandbox's
messages can be delivered, opened, clicked or bounced by hand.

A rendered e-mail is never put into the back office's own page: it is served by `/outbox/{id}/body`
with a Content-Security-Policy of its own (no scripts, no forms, nothing but images and fonts) and
shown in an `<iframe sandbox="">`.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode, urlsplit

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from smartcomm.audit.service import audit_service
from smartcomm.auth.permissions import Permission
from smartcomm.auth.principal import Principal
from smartcomm.channels.base import EmailContent
from smartcomm.delivery.ledger import PROGRESS
from smartcomm.delivery.outbox_queries import (
    CHANNELS,
    SOURCES,
    STATUSES,
    MessageView,
    OutboxFilter,
    OutboxQueries,
    latest_time,
    shown_content,
)
from smartcomm.delivery.simulation import ACTIONS, simulate
from smartcomm.delivery.tokens import view_url
from smartcomm.kit.errors import DomainError, InvalidInput
from smartcomm.kit.http import DbSession
from smartcomm.kit.pagination import PageParams
from smartcomm.kit.types import PathId
from smartcomm.web.deps import requires
from smartcomm.web.forms import PostedForm, rejected
from smartcomm.web.templating import flash, redirect, render

router = APIRouter(prefix="/outbox")
Viewer = Annotated[Principal, Depends(requires(Permission.MESSAGES_VIEW))]
Simulator = Annotated[Principal, Depends(requires(Permission.MESSAGES_SIMULATE))]

PAGE_SIZE = 25
# The e-mail inside its frame: no scripts, no forms, no requests but images and fonts; framed by the back
# office only.
BODY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; img-src https: http: data:; "
    "style-src 'unsafe-inline' https:; font-src https: data:; sandbox; frame-ancestors 'self'",
    "X-Frame-Options": "SAMEORIGIN",
    "Cache-Control": "no-store",
}
# A message's page shows the pictures of Viber and push messages, which live on the shop's servers.
DETAIL_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: https: http:; font-src 'self'; connect-src 'self'; object-src 'none'; "
    "base-uri 'self'; form-action 'self'; frame-src 'self'; frame-ancestors 'none'"
}
NOTHING_TO_SHOW = "<!doctype html><meta charset=utf-8><p style='font-family:sans-serif;color:#667382'>—</p>"


@router.get("", response_class=HTMLResponse)
def outbox(
    request: Request,
    session: DbSession,
    _: Viewer,
    channel: str = "",
    status: str = "",
    source: str = "",
    q: str = "",
    page: int = 1,
) -> Response:
    """Every message, newest first, filtered by channel, status and source and searched by recipient."""
    wanted = OutboxFilter.of(channel, status, source, q)
    found = OutboxQueries(session).page(wanted, PageParams(page=max(page, 1), size=PAGE_SIZE))
    context = {
        "page": found,
        "wanted": wanted,
        "channels": CHANNELS,
        "statuses": STATUSES,
        "sources": SOURCES,
        "query": _query(wanted),
        "latest_time": latest_time,
    }
    return render(request, "outbox/list.html", context, fragment="outbox/_table.html")


def _query(wanted: OutboxFilter) -> str:
    """The list's filters as a query string ending in "&" (for the pager's links)."""
    values = {"channel": wanted.channel, "status": wanted.status, "source": wanted.source, "q": wanted.q}
    return urlencode({key: value for key, value in values.items() if value}) + "&"


@router.get("/{message_id}", response_class=HTMLResponse)
def message_page(request: Request, session: DbSession, _: Viewer, message_id: PathId) -> Response:
    """One message: as its recipient saw it, its headers, its history, and (sandbox) the simulation."""
    view = OutboxQueries(session).view(message_id)
    content = shown_content(session, view) if view.message.channel != "email" else None
    context: dict[str, Any] = {
        "view": view,
        "message": view.message,
        "content": content,
        "subject": _subject(session, view),
        "can_simulate": view.message.is_sandbox and view.message.status in PROGRESS,
        # A sandbox e-mail can be opened as its recipient would: its tracked links, pixel and unsubscribe
        # link work as in a mailbox, so the whole path can be tried without a real address.
        # (its path: staff reach the public pages at the address they use for the back office)
        "recipient_view_url": urlsplit(view_url(view.message.id)).path
        if view.message.channel == "email"
        else None,
        "actions": ACTIONS,
        "latest_time": latest_time,
    }
    response = render(request, "outbox/detail.html", context)
    response.headers.update(DETAIL_HEADERS)
    return response


def _subject(session: DbSession, view: MessageView) -> str | None:
    if view.message.channel != "email":
        return None
    if view.content:
        return str(view.content.get("subject") or "")
    shown = shown_content(session, view)
    return shown.subject if isinstance(shown, EmailContent) else None


@router.get("/{message_id}/body", response_class=HTMLResponse)
def message_body(session: DbSession, _: Viewer, message_id: PathId) -> Response:
    """The e-mail's HTML, for the sandboxed frame of its page."""
    view = OutboxQueries(session).view(message_id)
    shown = shown_content(session, view)
    html = shown.html if isinstance(shown, EmailContent) and shown.html else NOTHING_TO_SHOW
    return HTMLResponse(html, headers=BODY_HEADERS)


@router.post("/{message_id}/simulate")
def simulate_message(
    request: Request, session: DbSession, principal: Simulator, message_id: PathId, form: PostedForm
) -> Response:
    """Deliver, open, click or bounce a sandbox message, as its provider or its recipient would."""
    action = str(form.get("action") or "")
    try:
        if action not in ACTIONS:
            raise InvalidInput.for_field("action", "Choose delivered, opened, clicked or bounced")
        message = OutboxQueries(session).view(message_id).message
        simulate(session, message, action)
        audit_service.record(
            session,
            principal.actor,
            object_type="message",
            object_id=message.id,
            action="simulate",
            changes={"simulated": [None, action]},
            object_label=f"{message.channel} → {message.recipient or '—'}",
        )
    except DomainError as error:
        problems = rejected(session, error)
        flash(request, next(iter(problems.values())), "danger")
        return redirect(request, f"/outbox/{message_id}")
    flash(request, SIMULATED[action])
    return redirect(request, f"/outbox/{message_id}")


SIMULATED = {
    "delivered": "The message was marked delivered.",
    "opened": "The message was opened.",
    "clicked": "A link of the message was clicked.",
    "bounced": "The message bounced; the address is marked invalid.",
}
