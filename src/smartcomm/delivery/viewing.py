"""A message shown in a browser (the "view in browser" link): the content it was sent with when the ledger
kept it, else the same template version rendered again for the same customer — deterministic, so the
reader sees what they got — with its links tracked and the open pixel, as in the e-mail."""

from __future__ import annotations

from sqlalchemy.orm import Session

from smartcomm.channels.base import EmailContent
from smartcomm.delivery.ledger import issue_key_of
from smartcomm.delivery.repository import LedgerRepository
from smartcomm.delivery.schemas import InlineSource, content_from_json
from smartcomm.delivery.tokens import message_links
from smartcomm.delivery.tracking import track_contents
from smartcomm.models import Message
from smartcomm.personalization.context import RenderContext, context_builder
from smartcomm.personalization.errors import RenderError
from smartcomm.personalization.renderer import VersionSource, compile_version, render_compiled, renderer
from smartcomm.personalization.sample import sample_customer_context


def viewed_html(session: Session, message: Message) -> str | None:
    """The HTML of an e-mail as its reader got it; None when there is none to show (not an e-mail, its
    template gone, or it no longer renders)."""
    if message.channel != "email":
        return None
    stored = LedgerRepository(session).contents([message.id]).get(message.id)
    content: EmailContent | None
    if stored is not None and stored.content:
        kept = content_from_json(stored.content)
        content = kept if isinstance(kept, EmailContent) else None
    else:
        try:
            content = _rendered(session, message, stored.source if stored is not None else None)
        except RenderError:
            return None
    if content is None:
        return None
    # Tracked like the e-mail itself: the reader's clicks count, and so does this open.
    tracked = track_contents(session, [(message.id, content)])[0]
    return tracked.html if isinstance(tracked, EmailContent) else None


def _context(session: Session, message: Message) -> RenderContext:
    found = context_builder.for_customer(session, message.customer_id) if message.customer_id else None
    context = found or sample_customer_context(session)
    event = (message.options or {}).get("context") or {}
    return context.with_values(event=event, **message_links(message.id))


def _rendered(session: Session, message: Message, source: dict[str, object] | None) -> EmailContent | None:
    options = message.options or {}
    utm, key = options.get("utm"), issue_key_of(message.idempotency_key, options)
    context = _context(session, message)
    if message.template_version_id is not None:
        content = renderer.render(
            message.template_version_id, context, utm=utm, message_key=key, session=session
        )
    elif source:
        inline = InlineSource.of(dict(source))
        version = VersionSource(inline.channel, inline.parts, inline.utm, inline.text_derived)
        content = render_compiled(compile_version(version, draft=True), context, utm=utm, message_key=key)
    else:
        return None
    return content if isinstance(content, EmailContent) else None
