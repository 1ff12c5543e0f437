"""The dispatcher: due messages are claimed in batches, judged again, rendered, handed to their channel's
provider, and what happened is recorded — so that no message is ever sent twice and none is lost.

A batch goes through four short transactions, never one long one (SQLite has one writer):

1. **Claim** (one statement per priority): due `planned` rows become `rendered`, owned by this worker
   (`kit.leases.this_process()`). PostgreSQL skips rows another claim holds (`FOR UPDATE SKIP LOCKED`);
   SQLite runs one writer at a time. Two workers never hold the same row.
2. **Judge and render** (reads): the gate looks again with fresh facts (consent may have changed since the
   message was planned), loaded for the whole batch; the render contexts are built for the whole batch.
3. **Record** what will not be sent now: suppressed, expired, deferred (back to `planned` with a time),
   failed renders, cascade legs not needed.
4. **Send**, one sender per channel, opened once. Right before the provider may have a message the sender
   calls `handing_over()`, which commits `queued` in a tiny transaction of its own — together with the
   outcome of the message before it. So a killed worker leaves at most one message `queued` without an
   outcome; the reaper marks it `sent` with reason `unconfirmed` and it is never sent again, while the
   `rendered` ones (never handed over) go back to `planned` and are sent by the next worker.
"""

from __future__ import annotations

import logging
import random
import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from smartcomm.channels.base import (
    Accepted,
    Channel,
    OutcomeUnknown,
    OutgoingMessage,
    PermanentError,
    RetryableError,
    SenderIdentity,
)
from smartcomm.channels.cascade import CascadeSettings, sms_decision
from smartcomm.channels.registry import ProviderSender, sender_for
from smartcomm.config import config
from smartcomm.delivery.facts import FactsLoader
from smartcomm.delivery.ledger import KEEPS_CONTENT, Reason, Source, Status, issue_key_of
from smartcomm.delivery.policy import Decision, Defer, Rules, Send, Suppress, Tally, decide
from smartcomm.delivery.repository import LedgerRepository
from smartcomm.delivery.schemas import InlineSource, content_to_json
from smartcomm.delivery.service import PlanContext, candidate_of, delivery_service, event_row, queue_job
from smartcomm.delivery.tokens import list_unsubscribe_headers, message_links
from smartcomm.delivery.tracking import track_contents
from smartcomm.kit.db import committed, held_session, release_held, session_scope, writers_turn
from smartcomm.kit.jobs import pause_point
from smartcomm.kit.leases import is_gone, this_process
from smartcomm.kit.time import utcnow
from smartcomm.models import MailingCategory, Message, MessageContent
from smartcomm.personalization.context import RenderContext, context_builder
from smartcomm.personalization.errors import RecipientSkipped, RenderError
from smartcomm.personalization.hooks import issuing
from smartcomm.personalization.renderer import (
    RenderedContent,
    VersionSource,
    compile_version,
    render_compiled,
    renderer,
    with_subject,
)
from smartcomm.personalization.sample import sample_customer_context

logger = logging.getLogger(__name__)

BATCH_SIZE = 200
RUN_SECONDS = 30.0  # a dispatch job hands over to a fresh one after this long (other jobs get a turn)
FIRST_RETRY = timedelta(seconds=30)
LAST_RETRY = timedelta(hours=1)
SIMULATION_DELAY = (20, 90)  # seconds before a sandbox message is opened (and maybe clicked)
NO_UNSUBSCRIBE = frozenset({Source.CONFIRMATION})  # asking to confirm an address is not a mailing
# Where a held message waits: no claim reaches it until whoever held it sets a time again.
HELD_UNTIL = datetime(2999, 1, 1, tzinfo=UTC)

# `check(session, messages)` returns {message id: (action, reason)} for claimed messages that must not go
# now: action "hold" (back to planned, out of every claim: a paused mailing) or "cancel".
HoldCheck = Callable[[Session, Sequence[Message]], dict[int, tuple[str, str]]]
_hold_checks: dict[str, HoldCheck] = {}


def register_hold_check(name: str, check: HoldCheck) -> None:
    """Another area (mailings) stops its claimed messages before they are judged and rendered."""
    _hold_checks[name] = check


# `listener(session, outcomes)` learns what happened to messages, in the transaction that records it.
OutcomeListener = Callable[[Session, Sequence["Outcome"]], None]
_outcome_listeners: dict[str, OutcomeListener] = {}


def register_outcome_listener(name: str, listener: OutcomeListener) -> None:
    """Another area (mailings: pausing after provider failures) follows the outcomes of sends."""
    _outcome_listeners[name] = listener


class NotYours(Exception):
    """The message is no longer this worker's to send (cancelled meanwhile, or taken back)."""


# --- what a batch produces ----------------------------------------------------------------------------


@dataclass
class Outcome:
    """What to write for one message: its new values and history, and what follows from it."""

    message: Message
    values: dict[str, Any]
    events: list[dict[str, Any]] = field(default_factory=list)
    content: dict[str, Any] | None = None
    delivered: bool = False
    invalid_contact: bool = False
    viber_lost: bool = False  # a Viber message that will never arrive: its SMS leg goes now
    retry_at: datetime | None = None


@dataclass
class Ready:
    """A message judged, rendered and addressed: ready to be handed over."""

    message: Message
    outgoing: OutgoingMessage
    content: dict[str, Any]
    headers: dict[str, str]


def retry_delay(attempts: int, retry_after: float | None) -> timedelta:
    """Exponential back-off: 30 s, 1 min, 2 min … up to an hour; at least what the provider asked for."""
    backoff: timedelta = min(FIRST_RETRY * 2 ** max(attempts - 1, 0), LAST_RETRY)
    return max(backoff, timedelta(seconds=retry_after or 0))


class Outcomes:
    """Turns what happened to a message into an `Outcome`."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def suppressed(self, message: Message, reason: str) -> Outcome:
        status = Status.EXPIRED if reason == Reason.EXPIRED else Status.SUPPRESSED
        values = {"status": status, "reason": reason, "failed_at": self.now, "owner": None}
        outcome = Outcome(message, values, [event_row(message.id, status, self.now, reason=reason)])
        outcome.viber_lost = message.channel == Channel.VIBER
        return outcome

    def deferred(self, message: Message, until: datetime, reason: str, words: str | None = None) -> Outcome:
        if message.expires_at is not None and until >= message.expires_at:
            return self.expired(message, words)
        values = {"status": Status.PLANNED, "reason": reason, "next_attempt_at": until, "owner": None}
        if words is not None:
            values["detail"] = words[:1000]
        kind = "retry" if reason == Reason.RETRY else "deferred"
        event = event_row(message.id, kind, self.now, reason=reason, until=until.isoformat(), words=words)
        return Outcome(message, values, [event], retry_at=until if reason == Reason.RETRY else None)

    def expired(self, message: Message, words: str | None) -> Outcome:
        outcome = self.suppressed(message, Reason.EXPIRED)
        outcome.values["detail"] = (words or None) and words[:1000]
        return outcome

    def failed(self, message: Message, reason: str, words: str, invalid_contact: bool = False) -> Outcome:
        values = {
            "status": Status.FAILED,
            "reason": reason,
            "detail": words[:1000],
            "failed_at": self.now,
            "owner": None,
        }
        outcome = Outcome(
            message, values, [event_row(message.id, "failed", self.now, reason=reason, words=words)]
        )
        outcome.invalid_contact, outcome.viber_lost = invalid_contact, message.channel == Channel.VIBER
        return outcome

    def cancelled(self, message: Message, reason: str) -> Outcome:
        values = {"status": Status.CANCELLED, "reason": reason, "owner": None}
        return Outcome(message, values, [event_row(message.id, "cancelled", self.now, reason=reason)])

    def held(self, message: Message, reason: str) -> Outcome:
        """Planned again, out of every claim (its lifetime is not checked: holding is not waiting)."""
        values = {"status": Status.PLANNED, "reason": reason, "next_attempt_at": HELD_UNTIL, "owner": None}
        return Outcome(message, values, [event_row(message.id, "held", self.now, reason=reason)])

    def accepted(self, ready: Ready, accepted: Accepted, sender: ProviderSender) -> Outcome:
        message = ready.message
        status = Status.DELIVERED if accepted.delivered else Status.SENT
        values = {
            "status": status,
            "reason": None,
            "detail": None,
            "provider_id": sender.provider_id,
            "provider_message_id": accepted.provider_message_id,
            "is_sandbox": sender.is_sandbox,
            "sent_at": self.now,
            "delivered_at": self.now if accepted.delivered else None,
            "owner": None,
        }
        events = [event_row(message.id, "sent", self.now, provider_message_id=accepted.provider_message_id)]
        if accepted.delivered:
            events.append(event_row(message.id, "delivered", self.now))
        outcome = Outcome(message, values, events, delivered=accepted.delivered)
        if sender.is_sandbox or message.source_kind in KEEPS_CONTENT:
            outcome.content = {
                "message_id": message.id,
                "content": ready.content,
                "headers": ready.headers,
                "rendered_at": self.now,
            }
        return outcome

    def unconfirmed(self, message: Message, words: str) -> Outcome:
        values = {
            "status": Status.SENT,
            "reason": Reason.UNCONFIRMED,
            "detail": words[:1000],
            "sent_at": self.now,
            "owner": None,
        }
        return Outcome(message, values, [event_row(message.id, "unconfirmed", self.now, words=words)])


# --- writing outcomes ---------------------------------------------------------------------------------


def write_outcomes(session: Session, outcomes: Sequence[Outcome], owner: str) -> None:
    """Record outcomes (only for rows still this worker's) and what follows from them."""
    if not outcomes:
        return
    repository = LedgerRepository(session)
    repository.update_owned([{"id": o.message.id, **o.values} for o in outcomes], owner)
    repository.add_events([event for o in outcomes for event in o.events])
    repository.save_contents([o.content for o in outcomes if o.content is not None])
    for outcome in outcomes:
        _follow_up(session, outcome)
    for listener in _outcome_listeners.values():
        listener(session, outcomes)


def _follow_up(session: Session, outcome: Outcome) -> None:
    message = outcome.message
    if outcome.invalid_contact:
        delivery_service.invalidate_contact(session, message)
    if outcome.delivered:
        message.status = Status.DELIVERED
        delivery_service.delivered(session, message)
    if outcome.viber_lost:
        delivery_service.release_cascade(session, [message.id])


# --- the dispatcher -----------------------------------------------------------------------------------


class Dispatcher:
    def __init__(self, owner: str | None = None, batch_size: int = BATCH_SIZE) -> None:
        self.owner = owner or this_process()
        self.batch_size = batch_size

    def run(self, seconds: float = RUN_SECONDS) -> int:
        """Send batches until nothing is due (or `seconds` passed: then another job carries on); returns
        the number of messages handled."""
        started, handled = time.monotonic(), 0
        while True:
            count = self.run_batch()
            handled += count
            if count == 0:
                return handled
            if time.monotonic() - started > seconds:
                queue_job("delivery.dispatch")
                return handled

    def run_batch(self) -> int:
        now = utcnow()
        with writers_turn(background=True), session_scope() as session:
            ids = LedgerRepository(session).claim(self.owner, now, self.batch_size)
        if not ids:
            return 0
        pause_point("delivery.claimed")
        batch = Batch(self.owner, ids, now)
        batch.prepare()
        batch.send()
        return len(ids)


class Batch:
    """One claimed batch, from judging to the last outcome."""

    def __init__(self, owner: str, ids: list[int], now: datetime) -> None:
        self.owner = owner
        self.ids = ids
        self.now = now
        self.outcomes = Outcomes(now)
        self.ready: list[Ready] = []
        self.simulated: list[int] = []
        self.cascade_checks: dict[datetime, list[int]] = defaultdict(list)

    # --- judging and rendering ---------------------------------------------------------------------

    def prepare(self) -> None:
        """Judge and render the batch (reads), then record what will not be sent now."""
        with session_scope(read_only=True) as session:
            messages = LedgerRepository(session).by_ids(self.ids)
            ordered = [messages[i] for i in self.ids if i in messages]
            held = self._judge(session, ordered)
        with writers_turn(background=True), session_scope() as session:
            write_outcomes(session, held, self.owner)
        self._after(held)

    def _judge(self, session: Session, messages: list[Message]) -> list[Outcome]:
        context = PlanContext(session, self.now)
        held: list[Outcome] = []
        messages = self._unheld(session, messages, held)
        going = self._cascade_legs(session, messages, context, held)
        loader = FactsLoader(session, context.rules, context.project_zone, self.now)
        judged = loader.load(going)
        tally = loader.tally(going)
        sendable: list[tuple[Message, str | None]] = []
        for message, found in zip(going, judged, strict=True):
            decision = self._decide(message, found.facts, context.rules, tally)
            if isinstance(decision, Send):
                sendable.append((message, found.recipient))
            else:
                held.append(self._held(message, decision))
        held += self._render(session, sendable)
        return held

    def _decide(self, message: Message, facts: Any, rules: Rules, tally: Tally) -> Decision:
        candidate = candidate_of(message, message.expires_at)
        decision = decide(candidate, facts, rules, self.now, tally)
        if isinstance(decision, Send):
            tally.count(candidate)
        return decision

    def _held(self, message: Message, decision: Decision) -> Outcome:
        if isinstance(decision, Suppress):
            return self.outcomes.suppressed(message, decision.reason)
        assert isinstance(decision, Defer)
        return self.outcomes.deferred(message, decision.until, decision.reason)

    def _unheld(self, session: Session, messages: list[Message], held: list[Outcome]) -> list[Message]:
        """The messages no registered check holds back (a paused or cancelled mailing's are)."""
        stopped: dict[int, tuple[str, str]] = {}
        for check in _hold_checks.values():
            stopped |= check(session, messages)
        for message in messages:
            if message.id in stopped:
                action, reason = stopped[message.id]
                stop = self.outcomes.held if action == "hold" else self.outcomes.cancelled
                held.append(stop(message, reason))
        return [message for message in messages if message.id not in stopped]

    def _cascade_legs(
        self, session: Session, messages: list[Message], context: PlanContext, held: list[Outcome]
    ) -> list[Message]:
        """SMS legs of a cascade go only once their Viber message is lost or late."""
        legs = [m for m in messages if m.cascade_of is not None]
        vibers = LedgerRepository(session).by_ids([m.cascade_of for m in legs if m.cascade_of is not None])
        going: list[Message] = []
        for message in messages:
            viber = vibers.get(message.cascade_of) if message.cascade_of is not None else None
            if viber is None:
                going.append(message)
                continue
            settings = _cascade_settings(context.cascade, message)
            decision = sms_decision(viber.status, viber.sent_at, self.now, settings)
            if decision == "cancel":
                held.append(self.outcomes.cancelled(message, Reason.CASCADE_DELIVERED))
            elif decision == "wait":
                start = viber.sent_at or max(self.now, viber.next_attempt_at)
                held.append(self.outcomes.deferred(message, start + settings.timeout, Reason.CASCADE_WAIT))
            else:
                going.append(message)
        return going

    def _render(self, session: Session, sendable: list[tuple[Message, str | None]]) -> list[Outcome]:
        if not sendable:
            return []
        contexts = self._contexts(session, [message for message, _ in sendable])
        sources = LedgerRepository(session).contents(
            [m.id for m, _ in sendable if m.template_version_id is None]
        )
        categories = _categories(session, {m.category_id for m, _ in sendable if m.category_id is not None})
        failed: list[Outcome] = []
        rendered: list[tuple[Message, str | None, RenderedContent]] = []
        for message, recipient in sendable:
            try:
                with issuing(session, message.id):
                    content = self._content(session, message, contexts, sources.get(message.id))
            except RecipientSkipped as skipped:  # e.g. no promo code left: not a failure of the send
                failed.append(self.outcomes.suppressed(message, skipped.reason))
                continue
            except RenderError as error:
                failed.append(self.outcomes.failed(message, Reason.RENDER_ERROR, str(error)))
                continue
            rendered.append((message, recipient, content))
        tracked = track_contents(session, [(message.id, content) for message, _, content in rendered])
        for (message, recipient, content), sent in zip(rendered, tracked, strict=True):
            self.ready.append(self._ready(message, recipient, content, sent, categories))
        return failed

    def _contexts(self, session: Session, messages: list[Message]) -> dict[int | None, RenderContext]:
        ids = sorted({i for i in map(_rendered_for, messages) if i is not None})
        found = context_builder.for_customers(session, ids)
        contexts: dict[int | None, RenderContext] = dict(found.items())
        if any(_rendered_for(m) is None or _rendered_for(m) not in contexts for m in messages):
            contexts[None] = sample_customer_context(session)
        return contexts

    def _content(
        self,
        session: Session,
        message: Message,
        contexts: dict[int | None, RenderContext],
        source: MessageContent | None,
    ) -> RenderedContent:
        context = contexts.get(_rendered_for(message)) or contexts[None]
        options = message.options or {}
        context = context.with_values(event=options.get("context") or {}, **message_links(message.id))
        utm, key = options.get("utm"), issue_key_of(message.idempotency_key, options)
        preview = message.source_kind == Source.TEST  # a test copy issues no real promo code
        if message.template_version_id is not None:
            content = renderer.render(
                message.template_version_id,
                context,
                utm=utm,
                message_key=key,
                preview=preview,
                session=session,
            )
            subject = options.get("subject")  # an A/B variant's own subject
            return with_subject(content, subject, context, key) if subject else content
        if source is None or source.source is None:
            raise RenderError("the message has no content: its template was deleted", "no_template")
        inline = InlineSource.of(source.source)
        compiled = compile_version(
            VersionSource(inline.channel, inline.parts, inline.utm, inline.text_derived), draft=True
        )
        return render_compiled(compiled, context, utm=utm, message_key=key, preview=preview)

    def _ready(
        self,
        message: Message,
        recipient: str | None,
        content: RenderedContent,
        sent: RenderedContent,
        categories: dict[int, MailingCategory],
    ) -> Ready:
        """`sent` is `content` with its links rewritten for tracking (and the open pixel); the ledger keeps
        `content`, so looking at a message in the Outbox never counts as an open or a click."""
        headers = _email_headers(message, categories) if message.channel == Channel.EMAIL else {}
        sender = SenderIdentity(**(message.options or {}).get("sender", {}))
        outgoing = OutgoingMessage(
            message.id,
            Channel(message.channel),
            recipient or "",
            sent,
            sender=sender,
            headers=headers,
            expires_at=message.expires_at,
        )
        message.recipient = recipient
        return Ready(message, outgoing, content_to_json(content), headers)

    # --- sending -------------------------------------------------------------------------------------

    def send(self) -> None:
        by_channel: dict[str, list[Ready]] = defaultdict(list)
        for ready in self.ready:
            by_channel[ready.message.channel].append(ready)
        for channel, group in by_channel.items():
            _ChannelRun(self, Channel(channel), group).run()
        self._after_all()

    def _after(self, outcomes: Sequence[Outcome]) -> None:
        """A dispatcher is woken when the first retry of these outcomes is due (the others follow, and the
        periodic run is the safety net)."""
        retries = [outcome.retry_at for outcome in outcomes if outcome.retry_at is not None]
        if retries:
            queue_job("delivery.dispatch", at=min(retries))

    def _after_all(self) -> None:
        if self.simulated:
            delay = random.uniform(*SIMULATION_DELAY)  # noqa: S311 (a demo's pacing, not a secret)
            queue_job("delivery.simulate", self.simulated, at=utcnow() + timedelta(seconds=delay))
        for due, ids in self.cascade_checks.items():
            queue_job("delivery.cascade_check", ids, at=due)


class _ChannelRun:
    """The messages of one channel in a batch, through one sender."""

    def __init__(self, batch: Batch, channel: Channel, group: list[Ready]) -> None:
        self.batch = batch
        self.channel = channel
        self.group = group
        self.pending: list[Outcome] = []
        self.handed: set[int] = set()
        self.done: set[int] = set()
        self._writer: Session | None = None

    def run(self) -> None:
        with session_scope(read_only=True) as session:
            sender = sender_for(session, self.channel, self._on_receipt)
        try:
            self._send_all(sender)
        finally:
            self._finish()
            self._close_writer()

    def _send_all(self, sender: ProviderSender) -> None:
        try:
            sender.open()
        except RetryableError as error:  # the provider cannot be reached: every message waits for it
            for ready in self.group:
                self._record(self._retry(ready.message, str(error), error.retry_after), at_once=False)
            return
        try:
            for ready in self.group:
                if ready.message.id not in self.done:  # not taken back meanwhile (a paused mailing)
                    self._send_one(sender, ready)
        finally:
            sender.close()

    def writer(self) -> Session:
        """The session of the run's tiny transactions: one connection held for all of them (a transaction
        per message, not a connection checkout per message)."""
        if self._writer is None:
            self._writer = held_session()
            with committed(self._writer):
                LedgerRepository(self._writer).commit_without_waiting(True)
        return self._writer

    @contextmanager
    def _transaction(self) -> Iterator[Session]:
        """One of the run's tiny transactions. On SQLite it first waits for its turn among the writers (an
        OS lock that wakes it the moment the writer before it lets go): a worker's dispatchers hand over
        hundreds of messages a second between them, and SQLite's own busy wait sleeps milliseconds
        between tries for a lock that is free again within a fraction of one. A background turn: a
        receipt being stored or the trigger it fires goes first."""
        with writers_turn(background=True), committed(self.writer()) as session:
            yield session

    def _close_writer(self) -> None:
        if self._writer is None:
            return
        with committed(self._writer):
            LedgerRepository(self._writer).commit_without_waiting(False)
        release_held(self._writer)

    def _send_one(self, sender: ProviderSender, ready: Ready) -> None:
        outcomes, message = self.batch.outcomes, ready.message
        try:
            accepted = sender.send(ready.outgoing, self._handing_over(message))
        except NotYours:
            self.done.add(message.id)
            return
        except OutcomeUnknown as error:
            self._record(outcomes.unconfirmed(message, str(error)))
        except PermanentError as error:
            reason = Reason.BOUNCED if error.invalid_contact else Reason.PROVIDER_REFUSED
            self._record(outcomes.failed(message, reason, str(error), error.invalid_contact))
        except RetryableError as error:
            self._record(self._retry(message, str(error), error.retry_after))
        except Exception as error:  # a bug or a database failure: never lose track of a handed-over message
            logger.exception("sending message %s failed", message.id)
            self._record(self._unexpected(message, str(error)))
        else:
            self._accepted(ready, accepted, sender)

    def _accepted(self, ready: Ready, accepted: Accepted, sender: ProviderSender) -> None:
        outcome = self.batch.outcomes.accepted(ready, accepted, sender)
        self._record(outcome)
        message = ready.message
        if sender.is_sandbox:
            self.batch.simulated.append(message.id)
        if message.channel == Channel.VIBER and not accepted.delivered:
            timeout = _cascade_settings(CascadeSettings(), message).timeout
            due = (self.batch.now + timeout).replace(second=0, microsecond=0) + timedelta(minutes=1)
            self.batch.cascade_checks[due].append(message.id)

    def _handing_over(self, message: Message) -> Callable[[], None]:
        def handing_over() -> None:
            if message.id in self.handed:
                return
            with self._transaction() as session:
                write_outcomes(session, self.pending, self.batch.owner)
                mine = LedgerRepository(session).mark_queued(message.id, self.batch.owner, utcnow())
            self._written()
            if not mine:
                raise NotYours(f"message {message.id} is no longer this worker's to send")
            self.handed.add(message.id)
            pause_point("delivery.handed_over")

        return handing_over

    def _record(self, outcome: Outcome, at_once: bool = True) -> None:
        self.pending.append(outcome)
        self.done.add(outcome.message.id)
        failed = outcome.retry_at is not None or outcome.values.get("reason") == Reason.PROVIDER_REFUSED
        if failed and at_once:
            self._write_failure()

    def _write_failure(self) -> None:
        """A provider failure is written at once (not with the next hand-over): what follows from it — a
        mailing pausing itself — takes back the rest of this run's messages before they are tried."""
        waiting = [ready.message.id for ready in self.group if ready.message.id not in self.done]
        with self._transaction() as session:
            write_outcomes(session, self.pending, self.batch.owner)
            mine = LedgerRepository(session).still_owned(waiting, self.batch.owner) if waiting else set()
        self._written()
        self.done.update(set(waiting) - mine)

    def _written(self) -> None:
        self.batch._after(self.pending)
        self.pending = []

    def _retry(self, message: Message, words: str, retry_after: float | None) -> Outcome:
        until = self.batch.now + retry_delay(message.attempts, retry_after)
        return self.batch.outcomes.deferred(message, until, Reason.RETRY, words)

    def _unexpected(self, message: Message, words: str) -> Outcome:
        if message.id in self.handed:
            return self.batch.outcomes.unconfirmed(message, words)
        return self._retry(message, words, None)

    def _finish(self) -> None:
        """The last outcomes of the run, and the messages that got none (released, or unconfirmed)."""
        for ready in self.group:
            if ready.message.id not in self.done:
                self._record(self._unexpected(ready.message, "the send was interrupted"))
        with self._transaction() as session:
            write_outcomes(session, self.pending, self.batch.owner)
        self._written()

    def _on_receipt(self, update: Any) -> None:
        """A delivery receipt arriving on the sending connection (SMPP) is applied in a transaction of
        its own."""
        with session_scope() as session:
            delivery_service.apply_receipts(session, [update])


# --- the reaper ---------------------------------------------------------------------------------------


def reap() -> list[int]:
    """Messages a gone worker held: never handed over → planned again (sent by the next worker); handed
    over without an answer → sent, reason "unconfirmed" (never sent again). Returns the ids reaped."""
    with session_scope(read_only=True) as session:
        owners = LedgerRepository(session).owners_in_flight()
    reaped: list[int] = []
    for owner, claimed_at in owners:
        if owner != this_process() and (owner is None or is_gone(owner, claimed_at)):
            reaped += _reap_owner(owner)
    return reaped


def _reap_owner(owner: str | None) -> list[int]:
    now = utcnow()
    with session_scope() as session:
        repository = LedgerRepository(session)
        released = repository.release_rendered(owner)
        unconfirmed = repository.settle_unconfirmed(owner, now)
        repository.add_events(
            [event_row(i, "released", now) for i in released]
            + [event_row(i, "unconfirmed", now, words="the worker sending it stopped") for i in unconfirmed]
        )
    if released:
        queue_job("delivery.dispatch")
    return released + unconfirmed


# --- helpers ------------------------------------------------------------------------------------------


def _rendered_for(message: Message) -> int | None:
    """The customer whose data the message is rendered with: its addressee, or — for a test copy sent to
    a tester's address — the customer it is rendered for."""
    if message.customer_id is not None:
        return message.customer_id
    render_as = (message.options or {}).get("render_as")
    return int(render_as) if isinstance(render_as, int) else None


def _cascade_settings(defaults: CascadeSettings, message: Message) -> CascadeSettings:
    minutes = (message.options or {}).get("cascade_timeout_minutes")
    return CascadeSettings(viber_timeout_minutes=minutes) if minutes else defaults


def _categories(session: Session, ids: set[int]) -> dict[int, MailingCategory]:
    if not ids:
        return {}
    return {
        c.id: c for c in session.scalars(select(MailingCategory).where(MailingCategory.id.in_(sorted(ids))))
    }


def message_domain() -> str:
    return urlsplit(config.public_base_url).hostname or "smartcomm.local"


def _email_headers(message: Message, categories: dict[int, MailingCategory]) -> dict[str, str]:
    """Message-ID (the same for every attempt of a message: receivers may drop a repeat), the List-ID of
    the message's category, and the one-click List-Unsubscribe of a customer's message."""
    domain = message_domain()
    headers = {"Message-ID": f"<{message.id}.{message.idempotency_key[:16]}@{domain}>"}
    category = categories.get(message.category_id) if message.category_id is not None else None
    if category is not None:
        headers["List-ID"] = f"{category.name} <{category.code}.{domain}>"
    if message.customer_id is not None and message.source_kind not in NO_UNSUBSCRIBE:
        headers |= list_unsubscribe_headers(message.id)
    return headers
