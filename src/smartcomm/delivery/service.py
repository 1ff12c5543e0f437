"""The send ledger's service: planning messages (insert first, send second), their history, and what
happens to them after they left — provider receipts, opens and clicks, cancellation.

Planning is idempotent: a message is one row under its unique key, inserted with "on conflict do
nothing" and read back, so planning the same message again (a retried request, a campaign step run
twice) returns the row already there and never makes a second one.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from smartcomm.channels.cascade import CascadeSettings
from smartcomm.channels.email.warm_up import WarmUpSettings, project_day
from smartcomm.channels.receipts import DeliveryState, DeliveryUpdate
from smartcomm.delivery.facts import FactsLoader, Judged
from smartcomm.delivery.ledger import (
    ENGAGED_WITHIN,
    FINAL,
    PROGRESS,
    Reason,
    Status,
    addressee,
    holds_out_global_control,
    idempotency_key,
)
from smartcomm.delivery.policy import Candidate, Defer, Rules, Suppress, WarmUp, decide
from smartcomm.delivery.repository import LedgerRepository
from smartcomm.delivery.schemas import PlanRequest
from smartcomm.kit.db import AFTER_COMMIT_KEY, on_commit
from smartcomm.kit.errors import NotFound
from smartcomm.kit.outbox import publish
from smartcomm.kit.time import utcnow
from smartcomm.models import Message, MessageEvent
from smartcomm.settings.schemas import DeliverySettings, GeneralSettings
from smartcomm.settings.service import settings_service

logger = logging.getLogger(__name__)

# Milestone columns of the statuses a message moves forward through.
MILESTONES = {
    Status.SENT: "sent_at",
    Status.DELIVERED: "delivered_at",
    Status.OPENED: "opened_at",
    Status.CLICKED: "clicked_at",
}


def candidate_of(message: Message | PlanRequest, expires_at: datetime | None) -> Candidate:
    """What the gate sees of a message (a row, or a request about to become one)."""
    options = message.options or {}
    return Candidate(
        channel=message.channel,
        source_kind=message.source_kind,
        source_id=message.source_id,
        customer_id=message.customer_id,
        category_id=message.category_id,
        priority=message.priority,
        expires_at=expires_at,
        deliver_immediately=bool(options.get("deliver_immediately")),
        rate_per_minute=options.get("rate_per_minute"),
        excludes_global_control=holds_out_global_control(message.source_kind, options),
    )


def warm_up_today(settings: WarmUpSettings, now: datetime, zone: str) -> WarmUp | None:
    """Today's IP warm-up allowance for the gate (None when warm-up is off or its ramp is over)."""
    today, day_start, next_day = project_day(now, zone)
    allowance = settings.allowance(today)
    return None if allowance is None else WarmUp(allowance, day_start, next_day)


def event_row(message_id: int, kind: str, when: datetime, **data: Any) -> dict[str, Any]:
    clean = {key: value for key, value in data.items() if value is not None}
    return {"message_id": message_id, "kind": kind, "occurred_at": when, "is_machine": False, "data": clean}


def queue_job(name: str, *args: Any, at: datetime | None = None) -> None:
    """Queue a delivery job by name now, or at `at` (a delayed job; the periodic run is the safety net)."""
    from smartcomm.delivery.tasks import JOBS  # the job module imports this one

    task = JOBS[name]
    if at is None:
        task(*args)
    else:
        task.schedule(args, eta=at)


def dispatch_after_commit(session: Session) -> None:
    """Wake a dispatcher once the transaction that planned or released messages commits (once per
    transaction; nothing on a rollback)."""
    if any(callback is _wake for callback in session.info.get(AFTER_COMMIT_KEY, [])):
        return
    on_commit(session, _wake)


def _wake() -> None:
    queue_job("delivery.dispatch")


class PlanContext:
    """What planning a batch reads once: the settings, the gate's rules and the facts of the batch."""

    def __init__(self, session: Session, now: datetime) -> None:
        self.now = now
        self.settings = settings_service.read(session, DeliverySettings)
        self.project_zone = settings_service.read(session, GeneralSettings).time_zone
        warm_up = warm_up_today(settings_service.read(session, WarmUpSettings), now, self.project_zone)
        self.rules = replace(Rules.of(self.settings), warm_up=warm_up)
        self.cascade = settings_service.read(session, CascadeSettings)

    def expiry(self, request: PlanRequest) -> datetime:
        return request.expires_at or (request.not_before or self.now) + self.rules.lifetime


class DeliveryService:
    # --- planning ------------------------------------------------------------------------------------

    def plan(
        self, session: Session, requests: Sequence[PlanRequest], now: datetime | None = None
    ) -> list[Message]:
        """Record messages (one per request, in order); a request whose message exists already gets that
        message back. The gate judges each new one at once: suppressed messages are recorded with their
        reason (the mailing report's buckets), deferred ones wait for their time. A dispatcher is woken
        after the commit."""
        return self.plan_new(session, requests, now)[0]

    def plan_new(
        self,
        session: Session,
        requests: Sequence[PlanRequest],
        now: datetime | None = None,
        read_back: bool = True,
    ) -> tuple[list[Message], set[int]]:
        """`plan`, also telling which of the messages it recorded now (the others existed already).
        Without `read_back` the messages are not loaded (a mass send that only needs the count)."""
        if not requests:
            return [], set()
        context = PlanContext(session, now or utcnow())
        judged = FactsLoader(session, context.rules, context.project_zone, context.now).load(requests)
        rows = [self._row(context, request, facts) for request, facts in zip(requests, judged, strict=True)]
        repository = LedgerRepository(session)
        inserted = repository.insert_new([row for row, _ in rows])
        new_ids = set(inserted.values())
        self._record_new(session, context, requests, rows, inserted)
        if not read_back:
            return [], new_ids
        found = repository.by_keys([row["idempotency_key"] for row, _ in rows])
        return [found[row["idempotency_key"]] for row, _ in rows], new_ids

    def _row(self, context: PlanContext, request: PlanRequest, judged: Judged) -> tuple[dict[str, Any], str]:
        """The row of a new message and the kind of its first history event."""
        expires_at = context.expiry(request)
        due = request.not_before or context.now
        row = {
            "idempotency_key": self.key_of(request),
            "source_kind": request.source_kind,
            "source_id": request.source_id,
            "customer_id": request.customer_id,
            "channel": request.channel,
            "category_id": request.category_id,
            "template_version_id": request.template_version_id,
            "recipient": judged.recipient,
            "status": Status.PLANNED,
            "reason": None,
            "priority": request.priority,
            "options": request.options,
            "cascade_of": request.cascade_of,
            "next_attempt_at": due,
            "expires_at": expires_at,
            "created_at": context.now,
        }
        decision = decide(candidate_of(request, expires_at), judged.facts, context.rules, due)
        if isinstance(decision, Suppress):
            status = Status.EXPIRED if decision.reason == Reason.EXPIRED else Status.SUPPRESSED
            row |= {"status": status, "reason": decision.reason, "failed_at": context.now}
            return row, status
        if isinstance(decision, Defer):
            row |= {"reason": decision.reason, "next_attempt_at": decision.until}
        if request.cascade_of is not None and row["reason"] is None:
            row |= {
                "reason": Reason.CASCADE_WAIT,
                "next_attempt_at": due + self._cascade_timeout(context, request),
            }
        return row, "planned"

    @staticmethod
    def _cascade_timeout(context: PlanContext, request: PlanRequest) -> timedelta:
        minutes = request.options.get("cascade_timeout_minutes")
        return timedelta(minutes=minutes) if minutes else context.cascade.timeout

    @staticmethod
    def most_engaged_first(session: Session, customer_ids: Sequence[int], now: datetime) -> list[int]:
        """The customers ordered by their last open or click within 90 days, the latest first; those with
        none follow in the order given (IP warm-up spends each day's allowance on engaged readers)."""
        last = LedgerRepository(session).last_engaged(customer_ids, now - ENGAGED_WITHIN)
        engaged = sorted((c for c in customer_ids if c in last), key=lambda c: last[c], reverse=True)
        return engaged + [c for c in customer_ids if c not in last]

    @staticmethod
    def key_of(request: PlanRequest) -> str:
        return idempotency_key(
            request.source_kind,
            request.source_id,
            request.part,
            request.channel,
            addressee(request.customer_id, request.recipient),
            request.occurrence,
        )

    def _record_new(
        self,
        session: Session,
        context: PlanContext,
        requests: Sequence[PlanRequest],
        rows: list[tuple[dict[str, Any], str]],
        inserted: dict[str, int],
    ) -> None:
        events, contents, planned = [], [], False
        for request, (row, kind) in zip(requests, rows, strict=True):
            message_id = inserted.pop(row["idempotency_key"], None)
            if message_id is None:
                continue  # recorded before (or earlier in this batch): nothing new happened to it
            planned = planned or row["status"] == Status.PLANNED
            until = row["next_attempt_at"] if row["reason"] else None
            events.append(event_row(message_id, kind, context.now, reason=row["reason"], until=_iso(until)))
            if request.inline is not None:
                contents.append({"message_id": message_id, "source": request.inline.as_json(), "headers": {}})
        repository = LedgerRepository(session)
        repository.add_events(events)
        repository.add_contents(contents)
        if planned:
            dispatch_after_commit(session)

    # --- reading -------------------------------------------------------------------------------------

    def get(self, session: Session, message_id: int) -> Message:
        message = session.get(Message, message_id)
        if message is None:
            raise NotFound("Message", message_id)
        return message

    def history(self, session: Session, message_id: int) -> list[MessageEvent]:
        """The message's history, oldest first."""
        return LedgerRepository(session).history(message_id)

    # --- after sending: receipts, opens, clicks -------------------------------------------------------

    def apply_receipts(
        self, session: Session, updates: Sequence[DeliveryUpdate], provider_id: int | None = None
    ) -> int:
        """Apply a provider's delivery receipts and read notices to the messages they name; returns how
        many messages they found. Statuses only move forward; a receipt for an unknown id is ignored."""
        if not updates:
            return 0
        messages = LedgerRepository(session).by_provider_ids(
            [u.provider_message_id for u in updates], provider_id
        )
        by_id = {message.provider_message_id: message for message in messages}
        for update in updates:
            message = by_id.get(update.provider_message_id)
            if message is not None:
                self._apply_receipt(session, message, update)
        session.flush()
        return len(by_id)

    def _apply_receipt(self, session: Session, message: Message, update: DeliveryUpdate) -> None:
        when = update.occurred_at or utcnow()
        if update.state == DeliveryState.UNDELIVERED:
            self.fail_after_sending(session, message, update.detail, update.invalid_contact, when)
            return
        if update.state == DeliveryState.COMPLAINT:
            from smartcomm.delivery.consent import consent_service  # consent builds on this module

            consent_service.complained(session, message, update.detail)
            return
        status = Status.OPENED if update.state == DeliveryState.READ else Status.DELIVERED
        self.advance(session, message, status, when, detail=update.detail)
        if status == Status.OPENED:
            message.opens += 1

    def advance(
        self, session: Session, message: Message, status: Status, when: datetime, **data: Any
    ) -> bool:
        """Move a message forward to `status` (an open arriving before the delivery receipt sets both);
        False when it was there already or is past it. Records the history and the domain event."""
        if message.status not in PROGRESS and message.status != Status.QUEUED:
            return False
        reached = PROGRESS.index(Status(message.status)) if message.status in PROGRESS else -1
        target = PROGRESS.index(status)
        if target <= reached:
            return False
        events = []
        for step in PROGRESS[reached + 1 : target + 1]:
            column = MILESTONES[step]
            if getattr(message, column) is None:
                setattr(message, column, when)
            if step != Status.SENT:
                events.append(event_row(message.id, step, when, **(data if step == status else {})))
        message.status = status
        LedgerRepository(session).add_events(events)
        if reached < PROGRESS.index(Status.DELIVERED) <= target:
            self.delivered(session, message)
        return True

    def delivered(self, session: Session, message: Message) -> None:
        """What follows a delivery: the domain event, and a Viber message's SMS leg is not needed."""
        publish(
            session,
            "message.delivered",
            customer_id=message.customer_id,
            payload={
                "message_id": message.id,
                "channel": message.channel,
                "source_kind": message.source_kind,
            },
        )
        if message.channel == "viber":
            self.cancel_cascade(session, message, utcnow())

    def fail_after_sending(
        self, session: Session, message: Message, words: str | None, invalid_contact: bool, when: datetime
    ) -> None:
        """The provider took the message but could not deliver it (or the address proved dead)."""
        # A bounce may come after a receipt said "delivered" (the receiving server took it, then gave up);
        # once the recipient opened the message, nothing undoes that.
        if message.status in FINAL or message.status in (Status.OPENED, Status.CLICKED):
            return
        reason = Reason.BOUNCED if invalid_contact else Reason.UNDELIVERED
        message.status, message.reason, message.detail = Status.FAILED, reason, (words or None)
        message.failed_at = when
        LedgerRepository(session).add_events(
            [event_row(message.id, "failed", when, reason=reason, words=words)]
        )
        if invalid_contact:
            self.invalidate_contact(session, message)
        if message.channel == "viber":
            self.release_cascade(session, [message.id])

    def invalidate_contact(self, session: Session, message: Message) -> None:
        """A hard bounce, an unknown number, a dead token: the contact is marked so and no longer used."""
        repository = LedgerRepository(session)
        if message.recipient and message.customer_id is not None:
            if message.channel == "email":
                repository.invalidate_email(message.customer_id, message.recipient)
            elif message.channel == "sms":
                repository.invalidate_phone(message.customer_id, message.recipient)
        if message.channel == "push" and message.recipient:
            repository.invalidate_push_token(message.recipient)
        publish(
            session,
            "message.bounced",
            customer_id=message.customer_id,
            payload={"message_id": message.id, "channel": message.channel, "recipient": message.recipient},
        )

    # --- the cascade ---------------------------------------------------------------------------------

    def cancel_cascade(self, session: Session, viber: Message, when: datetime) -> None:
        """A delivered Viber message: its SMS leg is not needed."""
        for leg in LedgerRepository(session).cascade_legs([viber.id]):
            if leg.status == Status.PLANNED:
                leg.status, leg.reason = Status.CANCELLED, Reason.CASCADE_DELIVERED
                LedgerRepository(session).add_events(
                    [event_row(leg.id, "cancelled", when, reason=leg.reason)]
                )

    def release_cascade(self, session: Session, viber_ids: Sequence[int]) -> None:
        """Viber messages that will never be delivered: their SMS legs go now."""
        now = utcnow()
        released = False
        for leg in LedgerRepository(session).cascade_legs(list(viber_ids)):
            if leg.status == Status.PLANNED and leg.reason == Reason.CASCADE_WAIT:
                leg.reason, leg.next_attempt_at, released = None, now, True
        if released:
            dispatch_after_commit(session)

    # --- cancelling ----------------------------------------------------------------------------------

    def cancel(self, session: Session, message: Message, reason: str | None = None) -> bool:
        """Cancel a message not handed over yet (a claimed one is cancelled before it is handed over)."""
        if message.status not in (Status.PLANNED, Status.RENDERED):
            return False
        message.status, message.reason, message.owner = Status.CANCELLED, reason, None
        LedgerRepository(session).add_events([event_row(message.id, "cancelled", utcnow(), reason=reason)])
        return True


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


delivery_service = DeliveryService()
