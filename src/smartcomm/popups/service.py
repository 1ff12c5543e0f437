"""Rules for pop-ups: queueing (idempotent by key), what the site's pop-up script may see and report, and
what the customer profile shows.

The site proves who it is with an event source's write key, and whose pop-ups it asks for with the
visitor id analytics.js keeps in the browser (`anonymousId`): only the customer that visitor identified
as gets them. The write key is public (it is in every page of the shop), and a customer's external id is
often guessable, so neither alone is enough to read someone's pop-ups; the visitor id is a random id
only that browser knows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from smartcomm.kit.errors import NotFound
from smartcomm.kit.outbox import publish
from smartcomm.kit.time import ensure_utc, utcnow
from smartcomm.models import Popup
from smartcomm.popups.repository import PopupRepository
from smartcomm.popups.schemas import PopupAction, PopupContent, PopupOut, VisitorIn

# At most this many pending pop-ups are handed to a page (the script shows the first).
PENDING_LIMIT = 5
PROFILE_LIMIT = 10


@dataclass(frozen=True, slots=True)
class ProfilePopups:
    """The customer's latest pop-ups with their display status, and how many were shown and clicked."""

    items: list[tuple[Popup, str]]
    shown: int
    clicked: int
    total: int


def display_status(popup: Popup, now: datetime) -> str:
    """The status as it stands now: a queued pop-up past its expiry is expired even before the hourly
    job marks it."""
    if popup.status == "queued" and popup.expires_at is not None and ensure_utc(popup.expires_at) <= now:
        return "expired"
    return popup.status


class PopupService:
    def queue(
        self,
        session: Session,
        customer_id: int,
        key: str,
        content: PopupContent,
        expires_at: datetime | None,
        source_kind: str | None,
        source_id: int | None,
        part: str | None,
    ) -> bool:
        """Queue a pop-up for the customer's next page view; a key queued before changes nothing (returns
        False), so a retried campaign step never shows a pop-up twice."""
        row = {
            **content.model_dump(),
            "customer_id": customer_id,
            "key": key,
            "status": "queued",
            "created_at": utcnow(),
            "expires_at": expires_at,
            "source_kind": source_kind,
            "source_id": source_id,
            "source_part": part,
        }
        return PopupRepository(session).insert_new(row)

    def pending(self, session: Session, visitor: VisitorIn) -> list[PopupOut]:
        """The pending pop-ups of the customer the visitor identified as (none for a stranger)."""
        repository = PopupRepository(session)
        customer_id = repository.visitor_customer(visitor.anonymous_id, visitor.user_id)
        if customer_id is None:
            return []
        found = repository.pending(customer_id, utcnow(), PENDING_LIMIT)
        return [PopupOut.model_validate(popup) for popup in found]

    def report(self, session: Session, popup_id: int, visitor: VisitorIn, action: PopupAction) -> str:
        """Record that the visitor's page showed the pop-up, or that the button was clicked or the pop-up
        closed; a pop-up of anyone else is not found. Returns the status after the report."""
        repository = PopupRepository(session)
        customer_id = repository.visitor_customer(visitor.anonymous_id, visitor.user_id)
        popup = repository.of_customer(popup_id, customer_id) if customer_id is not None else None
        if popup is None:
            raise NotFound("Pop-up", popup_id)
        now = utcnow()
        if display_status(popup, now) == "expired":
            return "expired"  # reported too late: the hourly job marks it
        if repository.move(popup.id, action, now):
            payload = {
                "popup_id": popup.id,
                "source_kind": popup.source_kind,
                "source_id": popup.source_id,
                "source_part": popup.source_part,
            }
            publish(session, f"popup.{action}", customer_id=popup.customer_id, payload=payload)
        session.refresh(popup)
        return popup.status

    def expire_due(self, session: Session) -> int:
        """Mark queued pop-ups past their expiry as expired."""
        return PopupRepository(session).expire_due(utcnow())

    def for_profile(self, session: Session, customer_id: int) -> ProfilePopups:
        repository = PopupRepository(session)
        now = utcnow()
        items = [
            (popup, display_status(popup, now)) for popup in repository.latest_of(customer_id, PROFILE_LIMIT)
        ]
        counts = repository.counts_of(customer_id)
        return ProfilePopups(items, counts["shown"], counts["clicked"], counts["total"])


popup_service = PopupService()
