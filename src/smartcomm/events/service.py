"""Rules for customer and system events: resolve references, then one set-based insert per batch."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from smartcomm.audit.actor import Actor
from smartcomm.audit.service import audit_service
from smartcomm.events.repository import EventRepository, EventSourceRepository, SourceRef, customer_ids
from smartcomm.events.schemas import EventBatchOut, EventIn, EventOut
from smartcomm.kit.errors import FieldError, InvalidInput
from smartcomm.kit.outbox import publish
from smartcomm.kit.pagination import Page, PageParams
from smartcomm.kit.time import utcnow


def customer_reference_error(where: str, external_id: str | None) -> FieldError:
    field = "customer_external_id" if external_id is not None else "customer_id"
    return FieldError(f"{where}.{field}", "no customer with this id", "unknown")


def source_error(where: str, code: str, source: SourceRef | None) -> FieldError | None:
    """Why events may not name this source, or None when they may."""
    if source is None:
        return FieldError(f"{where}.source", f"no event source with the code {code!r}", "unknown")
    if not source.is_active:
        return FieldError(f"{where}.source", f"the event source {code!r} is inactive", "inactive")
    return None


@dataclass(frozen=True)
class EventSubmission:
    """One request's events, as handed to the group writer."""

    actor: Actor
    items: Sequence[EventIn]
    path: str = "events"


@dataclass(frozen=True)
class _References:
    """The customers and sources a group of events names, looked up once for the whole group."""

    customers: dict[str, int]
    sources: dict[str, SourceRef]

    @property
    def system_source_id(self) -> int:
        return next(source.id for source in self.sources.values() if source.is_system)


class EventService:
    def record(
        self, session: Session, actor: Actor, items: Sequence[EventIn], *, path: str = "events"
    ) -> EventBatchOut:
        """Store up to 1,000 customer or system events in one insert; a repeated message_id is ignored."""
        outcome = self.record_groups(session, [EventSubmission(actor, items, path)])[0]
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    def record_groups(
        self, session: Session, submissions: Sequence[EventSubmission]
    ) -> list[EventBatchOut | Exception]:
        """Store the events of several requests in this transaction, each request with its own audit row.

        A request naming an unknown customer or source gets its error in its place and writes nothing;
        the others are stored, in one insert."""
        references = self._references(session, [item for each in submissions for item in each.items])
        outcomes: list[list[dict[str, Any]] | Exception] = []
        for submission in submissions:
            try:
                outcomes.append(self._rows(submission.items, references, submission.path))
            except InvalidInput as error:
                outcomes.append(error)
        valid = [rows for rows in outcomes if not isinstance(rows, Exception)]
        stored, ids = EventRepository(session).insert_new(valid)
        _publish_occurred(session, stored, ids)
        accepted = iter(len(rows) for rows in stored)
        answers: list[EventBatchOut | Exception] = []
        history: list[dict[str, Any]] = []
        for submission, outcome in zip(submissions, outcomes, strict=True):
            if isinstance(outcome, Exception):
                answers.append(outcome)
                continue
            answer = self._answer(len(outcome), next(accepted))
            history.append(self._history_row(submission.actor, answer))
            answers.append(answer)
        audit_service.record_all(session, history)
        return answers

    @staticmethod
    def _references(session: Session, items: Sequence[EventIn]) -> _References:
        customers = customer_ids(
            session,
            [item.customer_external_id for item in items if item.customer_external_id is not None],
            [item.customer_id for item in items if item.customer_id is not None],
        )
        sources = EventSourceRepository(session).with_codes([item.source for item in items if item.source])
        return _References(customers, sources)

    def _rows(self, items: Sequence[EventIn], references: _References, path: str) -> list[dict[str, Any]]:
        system_id = references.system_source_id
        now = utcnow()
        rows: list[dict[str, Any]] = []
        errors: list[FieldError] = []
        for index, item in enumerate(items):
            where = f"{path}[{index}]"
            customer_id = self._customer_of(item, references.customers, where, errors)
            source_id = self._source_of(item.source, references.sources, where, errors) or system_id
            rows.append(self._row(item, customer_id, source_id, now))
        if errors:
            raise InvalidInput(f"{len(errors)} problem(s) in the events; nothing was written", errors)
        return rows

    @staticmethod
    def _answer(sent: int, accepted: int) -> EventBatchOut:
        return EventBatchOut(accepted=accepted, duplicates=sent - accepted)

    @staticmethod
    def _history_row(actor: Actor, answer: EventBatchOut) -> dict[str, Any]:
        changes = {"accepted": [None, answer.accepted], "duplicates": [None, answer.duplicates]}
        sent = answer.accepted + answer.duplicates
        return audit_service.row(actor, "event_batch", f"{sent} events", "create", changes)

    def for_customer(self, session: Session, customer_id: int, params: PageParams) -> Page[EventOut]:
        """A customer's events, newest first."""
        page = EventRepository(session).for_customer(customer_id, params)
        items = [
            EventOut(
                id=event.id,
                name=event.name,
                occurred_at=event.occurred_at,
                source=source,
                context=event.context,
                message_id=event.message_id,
                received_at=event.received_at,
            )
            for event, source in page.items
        ]
        return Page(items=items, total=page.total, page=page.page, size=page.size)

    @staticmethod
    def _customer_of(
        item: EventIn, customers: dict[str, int], where: str, errors: list[FieldError]
    ) -> int | None:
        if item.customer_external_id is None and item.customer_id is None:
            return None  # a system event
        customer_id = customers.get(item.customer_external_id or f"#{item.customer_id}")
        if customer_id is None:
            errors.append(customer_reference_error(where, item.customer_external_id))
        return customer_id

    @staticmethod
    def _source_of(
        code: str | None, sources: dict[str, SourceRef], where: str, errors: list[FieldError]
    ) -> int | None:
        if code is None:
            return None
        source = sources.get(code)
        problem = source_error(where, code, source)
        if problem is not None:
            errors.append(problem)
        return source.id if source is not None else None

    @staticmethod
    def _row(item: EventIn, customer_id: int | None, source_id: int, now: datetime) -> dict[str, Any]:
        return {
            "customer_id": customer_id,
            "visitor_id": None,
            "name": item.name,
            "occurred_at": item.occurred_at or now,
            "source_id": source_id,
            "context": item.context,
            "message_id": item.message_id,
            "received_at": now,
        }


def _publish_occurred(session: Session, stored: Sequence[Sequence[dict[str, Any]]], ids: list[int]) -> None:
    """One `event.occurred` for all the events a group stored: their ids (a subscriber reads the events,
    context and all, by id — copying every context into the payload cost the intake a fifth of its
    writing time), their names and customers."""
    rows = [row for batch in stored for row in batch]
    if ids:
        payload = {"event_ids": ids, "names": sorted({row["name"] for row in rows})}
        publish(session, "event.occurred", customer_ids=[row["customer_id"] for row in rows], payload=payload)


event_service = EventService()
