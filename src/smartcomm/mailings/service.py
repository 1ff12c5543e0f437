"""Mass mailings: drafts, the messaging volume, launching, collecting the audience into the send ledger,
pausing, resuming, cancelling, and settling a mailing once nothing of it waits.

Lifecycle: draft → scheduled → collecting → sending → sent, and paused / cancelled. Every action is the
mutation and its history row in the caller's transaction; jobs are queued by name after the commit.
The ledger does the rest: a customer's message is one row under its idempotency key, so collecting a batch
again (a worker killed between batches) never plans anyone twice.
"""

from __future__ import annotations

import secrets
from collections import Counter
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from smartcomm.audit.actor import Actor
from smartcomm.audit.service import audit_service, diff
from smartcomm.delivery.dispatch import HELD_UNTIL, register_hold_check, register_outcome_listener
from smartcomm.delivery.ledger import Bucket, Source, Status, bucket_of
from smartcomm.delivery.service import delivery_service, dispatch_after_commit
from smartcomm.kit.db import on_commit
from smartcomm.kit.errors import Conflict, FieldError, InvalidInput, NotFound
from smartcomm.kit.pagination import Page, PageParams
from smartcomm.kit.time import utcnow
from smartcomm.mailings import ab_testing, collecting, planning, sending, validation
from smartcomm.mailings import attribution_rules as _attribution_rules  # noqa: F401 (registers the rules)
from smartcomm.mailings.repository import MailingRepository
from smartcomm.mailings.schemas import (
    RUNNING,
    MailingCreate,
    MailingFields,
    MailingProgress,
    MailingStatus,
    MailingUpdate,
    TestSendIn,
    VolumeOut,
)
from smartcomm.models import Mailing, Message
from smartcomm.promocodes import stock as promo_stock
from smartcomm.segments.references import segments_naming

COLLECT_BATCH = 2000
VOLUME_BATCH = 2000
PAUSED_REASON = "mailing_paused"  # the ledger reason of a paused mailing's held messages
CANCELLED_REASON = "mailing_cancelled"
# Fields copied as they are into a draft's row (the others need converting).
PLAIN_FIELDS = (
    "name",
    "category_id",
    "template_version_id",
    "sms_template_version_id",
    "segment_id",
    "control_percent",
    "control_seed",
    "lifetime_hours",
    "scheduled_at",
    "rate_per_minute",
    "deliver_immediately",
    "control_audience_id",
    "exclude_global_control",
    "failure_limit",
)
# Fields held as JSON: lists of ids or names, and the nested settings.
LIST_FIELDS = ("include_audience_ids", "exclude_audience_ids", "watcher_group_ids")
NESTED_FIELDS = ("variants", "ab_test", "attribution_rule")
COPIED_FIELDS = (
    "channel",
    *PLAIN_FIELDS,
    *LIST_FIELDS,
    *NESTED_FIELDS,
    "sender",
    "utm",
    "control_strata",
)
NOT_NULL_DEFAULTS: dict[str, Any] = {
    "control_percent": 0.0,
    "deliver_immediately": False,
    "exclude_global_control": True,
}


def queue_job(name: str, *args: Any, at: datetime | None = None) -> None:
    """Queue a mailing job by name now, or at `at`."""
    from smartcomm.mailings.tasks import JOBS  # the job module imports this one

    task = JOBS[name]
    if at is None:
        task(*args)
    else:
        task.schedule(args, eta=at)


class MailingService:
    # --- reading -------------------------------------------------------------------------------------

    def get(self, session: Session, mailing_id: int) -> Mailing:
        mailing = MailingRepository(session).get(mailing_id)
        if mailing is None:
            raise NotFound("Mailing", mailing_id)
        return mailing

    def search(
        self, session: Session, params: PageParams, channel: str | None = None, status: str | None = None
    ) -> Page[Mailing]:
        """Mailings, the newest first."""
        return MailingRepository(session).search(params, channel, status)

    def progress(self, session: Session, mailing_ids: list[int]) -> dict[int, MailingProgress]:
        """Where each mailing's messages stand, and its control group's size."""
        repository = MailingRepository(session)
        statuses = repository.status_counts(mailing_ids)
        control = repository.control_counts(mailing_ids)
        recipients = repository.recipient_counts(mailing_ids)
        return {
            i: _progress(statuses.get(i, {}), control.get(i, 0), recipients.get(i, 0)) for i in mailing_ids
        }

    def control_members(self, session: Session, mailing_id: int) -> list[int]:
        return MailingRepository(session).control_members(self.get(session, mailing_id).id)

    def recorded_buckets(self, session: Session, mailing_id: int) -> dict[str, int]:
        """The report buckets of the messages the mailing recorded (its volume as sent)."""
        counts: Counter[str] = Counter()
        for reason, count in MailingRepository(session).reason_counts(mailing_id).items():
            counts[bucket_of(reason)] += count
        return {bucket.value: counts.get(bucket, 0) for bucket in Bucket}

    # --- drafts --------------------------------------------------------------------------------------

    def create(self, session: Session, actor: Actor, data: MailingCreate) -> Mailing:
        """A new draft (its control-group seed drawn now unless given)."""
        self._validate(session, data.channel, data)
        mailing = Mailing(
            channel=data.channel,
            status=MailingStatus.DRAFT,
            control_seed=secrets.randbelow(2**31),
            created_by_id=actor.user_id,
            updated_by_id=actor.user_id,
        )
        self._apply(mailing, data, data.model_fields_set | {"name"})
        MailingRepository(session).add(mailing)
        self._audit(session, actor, mailing, "create", diff({}, _snapshot(mailing)))
        return mailing

    def update(self, session: Session, actor: Actor, mailing_id: int, data: MailingUpdate) -> Mailing:
        """Change a draft; fields not sent stay. A mailing no longer a draft answers 409."""
        mailing = self._draft(session, mailing_id)
        self._validate(session, mailing.channel, data)
        if "name" in data.model_fields_set and data.name is None:
            raise InvalidInput.for_field("name", "A mailing needs a name")
        before = _snapshot(mailing)
        self._apply(mailing, data, data.model_fields_set)
        mailing.updated_by_id, mailing.updated_at = actor.user_id, utcnow()
        session.flush()
        self._audit(session, actor, mailing, "update", diff(before, _snapshot(mailing)))
        return mailing

    def delete(self, session: Session, actor: Actor, mailing_id: int) -> None:
        """Delete a draft; a mailing no longer a draft answers 409 (its messages stay in the ledger)."""
        mailing = self._draft(session, mailing_id)
        users = ", ".join(segment.name for segment in segments_naming(session, "mailing", mailing_id))
        if users:
            raise Conflict(
                f"The mailing is used in the conditions of: {users}",
                [FieldError("mailing", f"used by the segments: {users}", "in_use")],
            )
        self._audit(session, actor, mailing, "delete", diff(_snapshot(mailing), {}))
        MailingRepository(session).delete(mailing)

    def copy(self, session: Session, actor: Actor, mailing_id: int) -> Mailing:
        """A new draft with the settings of any mailing, and a control-group seed of its own."""
        source = self.get(session, mailing_id)
        values = {name: getattr(source, name) for name in COPIED_FIELDS}
        values["name"] = f"{source.name} (copy)"[:200]
        values["control_seed"] = secrets.randbelow(2**31)
        copy = Mailing(
            **values,
            status=MailingStatus.DRAFT,
            created_by_id=actor.user_id,
            updated_by_id=actor.user_id,
        )
        MailingRepository(session).add(copy)
        self._audit(session, actor, copy, "copy", {"copied_from": [None, source.id]})
        return copy

    def _draft(self, session: Session, mailing_id: int) -> Mailing:
        mailing = MailingRepository(session).locked(mailing_id)
        if mailing is None:
            raise NotFound("Mailing", mailing_id)
        if mailing.status != MailingStatus.DRAFT:
            raise Conflict(f"Only a draft can be changed or deleted; this mailing is {mailing.status}")
        return mailing

    @staticmethod
    def _apply(mailing: Mailing, data: MailingFields, given: set[str]) -> None:
        for name in PLAIN_FIELDS:
            if name in given:
                value = getattr(data, name)
                setattr(mailing, name, NOT_NULL_DEFAULTS.get(name) if value is None else value)
        if mailing.control_seed is None:
            mailing.control_seed = secrets.randbelow(2**31)
        if "sender" in given:
            mailing.sender = data.sender.model_dump(exclude_none=True) if data.sender else {}
        for name in LIST_FIELDS:
            if name in given:
                setattr(mailing, name, sorted(set(getattr(data, name) or [])))
        if "utm" in given:
            mailing.utm = {str(key): value for key, value in (data.utm or {}).items()}
        if "control_strata" in given:
            mailing.control_strata = list(dict.fromkeys(data.control_strata or []))
        if "variants" in given:
            variants = data.variants or []
            mailing.variants = [v.model_dump(mode="json", exclude_none=True) for v in variants]
        for name in ("ab_test", "attribution_rule"):
            if name in given:
                value = getattr(data, name)
                setattr(mailing, name, value.model_dump(mode="json", exclude_none=True) if value else None)

    @staticmethod
    def _validate(session: Session, channel: str, data: MailingFields) -> None:
        validation.validate(session, channel, data)

    # --- the messaging volume ------------------------------------------------------------------------

    def volume(self, session: Session, mailing_id: int, now: datetime | None = None) -> VolumeOut:
        """The report buckets of the mailing's audience if it were sent now, judged by the communication
        policy in batches (nothing is written); control-group members are counted apart."""
        mailing = self.get(session, mailing_id)
        moment = now or utcnow()
        repository = MailingRepository(session)
        buckets: Counter[str] = Counter()
        control = collecting.ControlDraw(session, mailing, moment)
        audience = controlled = 0
        after = 0
        while batch := repository.audience_batch(mailing, moment, after, VOLUME_BATCH):
            after = batch[-1]
            recipients, drawn = planning.split_control(batch, control.among(batch))
            audience, controlled = audience + len(batch), controlled + len(drawn)
            buckets += planning.judge(session, mailing, recipients, moment)
        # Good recipients a promo code group named by the templates could not serve are skipped when sent.
        short = promo_stock.recipients_short(
            session, planning.template_texts(session, mailing), buckets[Bucket.GOOD]
        )
        buckets[Bucket.GOOD] -= short
        buckets[Bucket.NO_PROMOCODE] += short
        return VolumeOut(
            audience=audience, control=controlled, buckets={b.value: buckets.get(b, 0) for b in Bucket}
        )

    # --- launching -----------------------------------------------------------------------------------

    def launch(self, session: Session, actor: Actor, mailing_id: int, now: datetime | None = None) -> Mailing:
        """Send a draft: at its `scheduled_at` when that is ahead (scheduled), else now (collecting)."""
        moment = now or utcnow()
        mailing = self._draft(session, mailing_id)
        validation.check_ready(session, mailing)
        if mailing.scheduled_at is not None and mailing.scheduled_at > moment:
            mailing.status = MailingStatus.SCHEDULED
            at = mailing.scheduled_at
            on_commit(session, lambda: queue_job("mailings.start_due", at=at))
            action = "schedule"
        else:
            self._start(session, mailing, moment)
            action = "launch"
        session.flush()
        self._audit(session, actor, mailing, action, {"status": [MailingStatus.DRAFT, mailing.status]})
        return mailing

    def _start(self, session: Session, mailing: Mailing, now: datetime) -> None:
        """Freeze the audience as of now and collect it into the ledger (a job, after the commit)."""
        mailing.status, mailing.collect_phase = MailingStatus.COLLECTING, collecting.AUDIENCE
        mailing.started_at, mailing.collect_checkpoint = now, None
        mailing_id = mailing.id
        on_commit(session, lambda: queue_job("mailings.collect", mailing_id))

    def start_due(self, session: Session, now: datetime | None = None) -> list[int]:
        """Scheduled mailings whose time has come start collecting."""
        moment = now or utcnow()
        started = []
        for mailing_id in MailingRepository(session).ids_with_status(MailingStatus.SCHEDULED, moment):
            mailing = MailingRepository(session).locked(mailing_id)
            if mailing is not None and mailing.status == MailingStatus.SCHEDULED:
                self._start(session, mailing, moment)
                started.append(mailing_id)
        session.flush()
        return started

    # --- collecting ----------------------------------------------------------------------------------

    def collect_batch(
        self, session: Session, mailing_id: int, size: int = COLLECT_BATCH, now: datetime | None = None
    ) -> bool:
        """Record the next batch of the frozen audience in the ledger (control-group members apart) and
        move the checkpoint past it, in the caller's transaction; False when there is nothing more to do
        (collected, or the mailing is no longer collecting: paused, cancelled)."""
        moment = now or utcnow()
        repository = MailingRepository(session)
        mailing = repository.locked(mailing_id)
        if mailing is None or mailing.status != MailingStatus.COLLECTING or mailing.started_at is None:
            return False
        if collecting.collect_batch(session, mailing, size, moment):
            return True
        self._settle(session, mailing, moment)
        session.flush()
        return False

    # --- pause, resume, cancel -----------------------------------------------------------------------

    def pause(self, session: Session, actor: Actor, mailing_id: int, reason: str | None = None) -> Mailing:
        """Stop sending: every message not handed over yet is held (collecting stops after its batch)."""
        mailing = self._locked(session, mailing_id)
        if mailing.status not in RUNNING:
            raise Conflict(
                f"Only a collecting or sending mailing can be paused; this one is {mailing.status}"
            )
        before, now = mailing.status, utcnow()
        mailing.status, mailing.pause_reason = MailingStatus.PAUSED, reason
        repository = MailingRepository(session)
        held = repository.hold(mailing.id, PAUSED_REASON, HELD_UNTIL)
        repository.add_events(held, "held", now, PAUSED_REASON)
        session.flush()
        changes: dict[str, list[Any]] = {"status": [before, mailing.status], "held": [None, len(held)]}
        self._audit(session, actor, mailing, "pause", changes)
        return mailing

    def resume(self, session: Session, actor: Actor, mailing_id: int) -> Mailing:
        """Carry on where the pause stopped: held messages are due again, collecting goes on from its
        checkpoint. Nobody already recorded is planned again."""
        mailing = self._locked(session, mailing_id)
        if mailing.status != MailingStatus.PAUSED:
            raise Conflict(f"Only a paused mailing can be resumed; this one is {mailing.status}")
        now = utcnow()
        unfinished = mailing.collected_at is None
        mailing.status = MailingStatus.COLLECTING if unfinished else MailingStatus.SENDING
        mailing.pause_reason, mailing.failures_in_row = None, 0
        repository = MailingRepository(session)
        released = repository.release(mailing.id, PAUSED_REASON, now)
        repository.add_events(released, "resumed", now, PAUSED_REASON)
        if unfinished:
            mailing_id = mailing.id
            on_commit(session, lambda: queue_job("mailings.collect", mailing_id))
        dispatch_after_commit(session)
        session.flush()
        changes: dict[str, list[Any]] = {
            "status": [MailingStatus.PAUSED, mailing.status],
            "released": [None, len(released)],
        }
        self._audit(session, actor, mailing, "resume", changes)
        return mailing

    def cancel(self, session: Session, actor: Actor, mailing_id: int) -> Mailing:
        """Stop for good: every message not handed over yet is cancelled."""
        mailing = self._locked(session, mailing_id)
        if mailing.status not in (MailingStatus.SCHEDULED, MailingStatus.PAUSED, *RUNNING):
            raise Conflict(f"This mailing is {mailing.status}: there is nothing to cancel")
        before, now = mailing.status, utcnow()
        mailing.status, mailing.finished_at = MailingStatus.CANCELLED, now
        repository = MailingRepository(session)
        cancelled = repository.cancel(mailing.id, CANCELLED_REASON)
        repository.add_events(cancelled, "cancelled", now, CANCELLED_REASON)
        session.flush()
        changes: dict[str, list[Any]] = {
            "status": [before, mailing.status],
            "cancelled": [None, len(cancelled)],
        }
        self._audit(session, actor, mailing, "cancel", changes)
        return mailing

    def _locked(self, session: Session, mailing_id: int) -> Mailing:
        mailing = MailingRepository(session).locked(mailing_id)
        if mailing is None:
            raise NotFound("Mailing", mailing_id)
        return mailing

    # --- test sends, resending, the A/B winner --------------------------------------------------------

    def test_send(self, session: Session, actor: Actor, mailing_id: int, data: TestSendIn) -> Message:
        """A test copy to a tester's address, rendered for a customer (the sample one when none given)."""
        mailing = self.get(session, mailing_id)
        request = sending.test_request(session, mailing, data)
        message = delivery_service.plan(session, [request])[0]
        dispatch_after_commit(session)
        changes: dict[str, list[Any]] = {"test_sent_to": [None, request.recipient]}
        self._audit(session, actor, mailing, "test_send", changes)
        return message

    def resend_not_reached(self, session: Session, actor: Actor, mailing_id: int) -> Mailing:
        """Send once more to the customers none of whose messages got through (failed, expired, cancelled);
        everyone reached — or still on the way — is left alone."""
        mailing = self._locked(session, mailing_id)
        if mailing.status != MailingStatus.SENT:
            raise Conflict(f"Only a sent mailing can be resent; this one is {mailing.status}")
        mailing.resend_round += 1
        mailing.status, mailing.collect_phase = MailingStatus.COLLECTING, collecting.RESEND
        mailing.collect_checkpoint = mailing.collected_at = mailing.finished_at = None
        mailing.updated_at = utcnow()
        mailing_id = mailing.id
        on_commit(session, lambda: queue_job("mailings.collect", mailing_id))
        session.flush()
        changes: dict[str, list[Any]] = {
            "status": [MailingStatus.SENT, mailing.status],
            "resend_round": [mailing.resend_round - 1, mailing.resend_round],
        }
        self._audit(session, actor, mailing, "resend", changes)
        return mailing

    def choose_due_winners(self, session: Session, now: datetime | None = None) -> list[int]:
        """A/B tests whose test share has had its wait get their winner, which then goes to the rest."""
        moment = now or utcnow()
        chosen = []
        for mailing_id in MailingRepository(session).ids_with_status(MailingStatus.SENDING):
            mailing = MailingRepository(session).locked(mailing_id)
            due = ab_testing.winner_due_at(mailing) if mailing is not None else None
            if mailing is not None and mailing.status == MailingStatus.SENDING and due and due <= moment:
                self._give_winner(session, mailing, moment)
                chosen.append(mailing_id)
        session.flush()
        return chosen

    def _give_winner(self, session: Session, mailing: Mailing, now: datetime) -> None:
        winner, reason = ab_testing.choose(session, mailing)
        mailing.winner_variant, mailing.winner_reason, mailing.winner_chosen_at = winner, reason, now
        mailing.status, mailing.collect_phase = MailingStatus.COLLECTING, collecting.WINNER
        mailing.collect_checkpoint = mailing.collected_at = None
        mailing.updated_at = now
        mailing_id = mailing.id
        on_commit(session, lambda: queue_job("mailings.collect", mailing_id))
        changes: dict[str, list[Any]] = {"winner": [None, reason["winner"]]}
        self._audit(session, Actor.system(), mailing, "choose_winner", changes)

    def pause_after_failures(self, session: Session, mailing_id: int, reason: str) -> None:
        """The provider failed too many messages in a row: the mailing pauses itself, saying why."""
        mailing = MailingRepository(session).locked(mailing_id)
        if mailing is not None and mailing.status in RUNNING:
            self.pause(session, Actor.system(), mailing_id, reason)

    # --- settling ------------------------------------------------------------------------------------

    def settle_sending(self, session: Session, now: datetime | None = None) -> list[int]:
        """Sending mailings of which nothing waits any more become sent; returns their ids."""
        moment = now or utcnow()
        settled = []
        for mailing_id in MailingRepository(session).ids_with_status(MailingStatus.SENDING):
            mailing = MailingRepository(session).locked(mailing_id)
            sending = mailing is not None and mailing.status == MailingStatus.SENDING
            if sending and mailing is not None and self._settle(session, mailing, moment):
                settled.append(mailing_id)
        session.flush()
        return settled

    @staticmethod
    def _settle(session: Session, mailing: Mailing, now: datetime) -> bool:
        if ab_testing.waits_for_winner(mailing) or MailingRepository(session).waiting(mailing.id) > 0:
            return False
        mailing.status, mailing.finished_at = MailingStatus.SENT, now
        return True

    # --- the dispatcher's check ----------------------------------------------------------------------

    def stopped_messages(self, session: Session, messages: Any) -> dict[int, tuple[str, str]]:
        """Claimed messages of paused mailings are held, those of cancelled ones cancelled."""
        ids = sorted(
            {m.source_id for m in messages if m.source_kind == Source.MAILING and m.source_id is not None}
        )
        if not ids:
            return {}
        statuses = MailingRepository(session).statuses(ids)
        stopped: dict[int, tuple[str, str]] = {}
        for message in messages:
            status = statuses.get(message.source_id) if message.source_kind == Source.MAILING else None
            if status == MailingStatus.PAUSED:
                stopped[message.id] = ("hold", PAUSED_REASON)
            elif status == MailingStatus.CANCELLED:
                stopped[message.id] = ("cancel", CANCELLED_REASON)
        return stopped

    # --- history -------------------------------------------------------------------------------------

    @staticmethod
    def _audit(
        session: Session, actor: Actor, mailing: Mailing, action: str, changes: dict[str, list[Any]]
    ) -> None:
        audit_service.record(
            session,
            actor,
            object_type="mailing",
            object_id=mailing.id,
            action=action,
            changes=changes,
            object_label=mailing.name,
        )


def _snapshot(mailing: Mailing) -> dict[str, Any]:
    return {name: getattr(mailing, name) for name in COPIED_FIELDS}


def _progress(statuses: dict[str, int], control: int, recipients: int) -> MailingProgress:
    def total(*names: str) -> int:
        return sum(statuses.get(name, 0) for name in names)

    return MailingProgress(
        recipients=recipients,
        planned=total(Status.PLANNED, Status.RENDERED, Status.QUEUED),
        sent=total(Status.SENT, Status.DELIVERED, Status.OPENED, Status.CLICKED),
        delivered=total(Status.DELIVERED, Status.OPENED, Status.CLICKED),
        failed=total(Status.FAILED, Status.EXPIRED),
        suppressed=total(Status.SUPPRESSED),
        cancelled=total(Status.CANCELLED),
        control=control,
    )


mailing_service = MailingService()
# The dispatcher asks before judging a claimed batch: a paused mailing's messages wait, a cancelled one's go.
register_hold_check("mailings", mailing_service.stopped_messages)
# …and counts its provider failures in a row, pausing a mailing at its limit.
register_outcome_listener("mailings", sending.FailureWatch(mailing_service.pause_after_failures))
