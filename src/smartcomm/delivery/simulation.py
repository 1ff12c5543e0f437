"""The sandbox's simulated audience: what real recipients would do with sandbox messages, so that the
Outbox, the profile and the reports of a new installation show live statistics without any provider.

A little after a sandbox batch is sent, a share of its messages is opened and a smaller share clicked
(`delivery.simulate`), through the same paths real recipients and providers take: opens and clicks are
hits written by the tracking recorder (`delivery.tracking.record_hits`, flagged `simulated`), delivery
and bounces are provider receipts (`delivery_service.apply_receipts`). Who opens is drawn from the
message id, so a message is always opened, or never, whenever the job runs. The Outbox's buttons do the
same for one message on demand.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from sqlalchemy.orm import Session

from smartcomm.channels.receipts import DeliveryState, DeliveryUpdate
from smartcomm.delivery.ledger import PROGRESS
from smartcomm.delivery.repository import LedgerRepository
from smartcomm.delivery.schemas import content_from_json
from smartcomm.delivery.service import delivery_service
from smartcomm.delivery.tracking import Hit, record_hits, record_links, urls_of
from smartcomm.kit.errors import Conflict
from smartcomm.kit.time import utcnow
from smartcomm.models import Message

# Per channel: the share of messages opened (read), and the share of those opened that are clicked.
OPEN_SHARE = {"email": 45, "push": 30, "viber": 60, "sms": 0}
CLICK_SHARE = {"email": 30, "push": 25, "viber": 20, "sms": 0}
ACTIONS = ("delivered", "opened", "clicked", "bounced")
# The simulated reader's mail app.
READER = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Mobile/15E148"
)
BOUNCE_WORDS = "550 5.1.1 mailbox unavailable (simulated by the sandbox)"


def _draw(message_id: int, salt: str) -> int:
    digest = hashlib.sha256(f"{salt}:{message_id}".encode("ascii")).digest()
    return int.from_bytes(digest[:4], "big") % 100


def simulate_audience(session: Session, message_ids: Sequence[int]) -> int:
    """Open and click a share of these sandbox messages; returns how many were opened."""
    hits: list[Hit] = []
    for message in LedgerRepository(session).by_ids(list(message_ids)).values():
        if not message.is_sandbox or message.status not in PROGRESS or message.opened_at is not None:
            continue
        if _draw(message.id, "open") < OPEN_SHARE.get(message.channel, 0):
            hits.append(_hit(message, "opened"))
            if _draw(message.id, "click") < CLICK_SHARE.get(message.channel, 0):
                hits += _click(session, message)
    record_hits(session, hits)
    return sum(hit.kind == "opened" for hit in hits)


def simulate(session: Session, message: Message, action: str) -> None:
    """One of the Outbox's buttons on a sandbox message: delivered, opened, clicked or bounced."""
    if not message.is_sandbox:
        raise Conflict("Only sandbox messages can be simulated")
    if message.status not in PROGRESS:
        raise Conflict("The message was not sent")
    if action in ("delivered", "bounced"):
        delivery_service.apply_receipts(session, [_receipt(message, action)])
    elif action == "opened":
        record_hits(session, [_hit(message, "opened")])
    else:
        # A reader opens a message before clicking in it (a click without an open, seconds after sending,
        # is what link scanners do: it would be counted as a machine's).
        opened = [] if message.opened_at is not None else [_hit(message, "opened")]
        hits = _click(session, message)
        if not hits:
            raise Conflict("The message has no link to click")
        record_hits(session, opened + hits)
    session.flush()


def _hit(message: Message, kind: str, link_id: int | None = None, url: str | None = None) -> Hit:
    return Hit(kind, message.id, utcnow(), link_id=link_id, url=url, user_agent=READER, simulated=True)


def _click(session: Session, message: Message) -> list[Hit]:
    """A click on the message's first link (its open comes with it)."""
    stored = LedgerRepository(session).contents([message.id]).get(message.id)
    if stored is None or stored.content is None:
        return []
    urls = urls_of(content_from_json(stored.content))
    if not urls:
        return []
    link_ids = record_links(session, urls[:1])
    return [_hit(message, "clicked", link_ids.get(urls[0]), urls[0])]


def _receipt(message: Message, action: str) -> DeliveryUpdate:
    provider_id = message.provider_message_id or ""
    if action == "delivered":
        return DeliveryUpdate(provider_id, DeliveryState.DELIVERED, utcnow(), detail="simulated")
    return DeliveryUpdate(
        provider_id, DeliveryState.UNDELIVERED, utcnow(), BOUNCE_WORDS, invalid_contact=True
    )
