"""The tracked links of a demo mailing: what a click of its recipients leads to.

The dispatcher records the links of the messages it renders (`track_contents`); the demo's messages are
not rendered one by one, so each variant's content is rendered once for one of its recipients — the links
are the same for all of them — and its links are recorded in the caller's transaction. (`record_links`
writes them in a transaction of its own, which on SQLite would wait for the caller's write lock.)
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from smartcomm.delivery.tokens import message_links
from smartcomm.delivery.tracking import urls_of
from smartcomm.delivery.tracking_repository import TrackingRepository, url_hash
from smartcomm.demo.communications.sending import Handed
from smartcomm.kit.time import utcnow
from smartcomm.models import Message
from smartcomm.personalization.context import context_builder
from smartcomm.personalization.renderer import renderer


def tracked_links(session: Session, handed: list[Handed]) -> dict[int | None, list[tuple[int, str]]]:
    """(link id, address) of the links of each variant's content (None: the mailing's own), the main
    link first."""
    first: dict[int | None, Handed] = {}
    for item in handed:
        first.setdefault(item.variant, item)
    return {variant: _links(session, item) for variant, item in first.items()}


def _links(session: Session, handed: Handed) -> list[tuple[int, str]]:
    message = session.get(Message, handed.message_id)
    context = context_builder.for_customer(session, handed.customer_id)
    if message is None or message.template_version_id is None or context is None:
        return []
    options = message.options or {}
    context = context.with_values(event={}, **message_links(message.id))
    content = renderer.render(
        message.template_version_id,
        context,
        utm=options.get("utm"),
        message_key=message.idempotency_key,
        session=session,
    )
    urls = list(dict.fromkeys(urls_of(content)))
    ids = _record(session, urls)
    return [(ids[url], url) for url in urls if url in ids]


def _record(session: Session, urls: list[str]) -> dict[str, int]:
    by_hash = {url_hash(url): url for url in urls}
    repository = TrackingRepository(session)
    now = utcnow()
    repository.add_links([{"url_hash": key, "url": url, "created_at": now} for key, url in by_hash.items()])
    return {by_hash[key]: link_id for key, link_id in repository.link_ids(list(by_hash)).items()}
