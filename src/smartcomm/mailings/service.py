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
from smartcomm.delivery.dispatch import HELD_UNTIL, register_hold_check
from smartcomm.delivery.ledger import Bucket, Source, Status, bucket_of
from smartcomm.delivery.service import dispatch_after_commit
from smartcomm.kit.db import on_commit
from smartcomm.kit.errors import Conflict, FieldError, InvalidInput, NotFound
from smartcomm.kit.pagination import Page, PageParams
from smartcomm.kit.time import utcnow
from smartcomm.mailings import planning
from smartcomm.mailings.repository import MailingRepository
from smartcomm.mailings.schemas import (
    RUNNING,
    MailingCreate,
    MailingFields,
    MailingProgress,
    MailingStatus,
    MailingUpdate,
    VolumeOut,
)
from smartcomm.models import Mailing

COLLECT_BATCH = 2000
VOLUME_BATCH = 2000
PAUSED_REASON = "mailing_paused"  # the ledger reason of a paused mailing's held messages
CANCELLED_REASON = "mailing_cancelled"
TEMPLATE_CHANNELS = {"email": "email", "sms": "sms", "sms_viber": "viber", "push": "push"}
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
)
COPIED_FIELDS = (
    "channel",
    *PLAIN_FIELDS,
    "sender",
    "include_audience_ids",
    "exclude_audience_ids",
    "utm",
)
NOT_NULL_DEFAULTS: dict[str, Any] = {"control_percent": 0.0, "deliver_immediately": False}


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
        return {i: _progress(statuses.get(i, {}), control.get(i, 0)) for i in mailing_ids}

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
        for name in ("include_audience_ids", "exclude_audience_ids"):
            if name in given:
                setattr(mailing, name, sorted(set(getattr(data, name) or [])))
        if "utm" in given:
            mailing.utm = {str(key): value for key, value in (data.utm or {}).items()}

    def _validate(self, session: Session, channel: str, data: MailingFields) -> None:
        """Everything the draft names exists, and its templates are of its channel."""
        repository = MailingRepository(session)
        errors = self._template_errors(repository, channel, data)
        if data.category_id is not None and not repository.category_exists(data.category_id):
            errors.append(FieldError("category_id", "There is no such mailing category"))
        if data.segment_id is not None and not repository.segment_exists(data.segment_id):
            errors.append(FieldError("segment_id", "There is no such segment"))
        for name in ("include_audience_ids", "exclude_audience_ids"):
            missing = repository.missing_audiences(getattr(data, name) or [])
            if missing:
                errors.append(FieldError(name, f"There are no target audiences {missing}"))
        if errors:
            raise InvalidInput("; ".join(f"{e.field}: {e.message}" for e in errors), errors)

    @staticmethod
    def _template_errors(
        repository: MailingRepository, channel: str, data: MailingFields
    ) -> list[FieldError]:
        errors: list[FieldError] = []
        wanted = {"template_version_id": TEMPLATE_CHANNELS[channel]}
        if channel == planning.CASCADE:
            wanted["sms_template_version_id"] = "sms"
        elif data.sms_template_version_id is not None:
            errors.append(FieldError("sms_template_version_id", "Only a Viber → SMS mailing has an SMS leg"))
        for name, expected in wanted.items():
            version_id = getattr(data, name)
            if version_id is None:
                continue
            found = repository.template_channel(version_id)
            if found is None:
                errors.append(FieldError(name, "There is no such template version"))
            elif found != expected:
                errors.append(FieldError(name, f"The template is for {found}, not {expected}"))
        return errors

    # --- the messaging volume ------------------------------------------------------------------------

    def volume(self, session: Session, mailing_id: int, now: datetime | None = None) -> VolumeOut:
        """The report buckets of the mailing's audience if it were sent now, judged by the communication
        policy in batches (nothing is written); control-group members are counted apart."""
        mailing = self.get(session, mailing_id)
        moment = now or utcnow()
        repository = MailingRepository(session)
        buckets: Counter[str] = Counter()
        audience = control = 0
        after = 0
        while batch := repository.audience_batch(mailing, moment, after, VOLUME_BATCH):
            after = batch[-1]
            recipients, drawn = planning.split_control(mailing, batch)
            audience, control = audience + len(batch), control + len(drawn)
            buckets += planning.judge(session, mailing, recipients, moment)
        return VolumeOut(
            audience=audience, control=control, buckets={b.value: buckets.get(b, 0) for b in Bucket}
        )

    # --- launching -----------------------------------------------------------------------------------

    def launch(self, session: Session, actor: Actor, mailing_id: int, now: datetime | None = None) -> Mailing:
        """Send a draft: at its `scheduled_at` when that is ahead (scheduled), else now (collecting)."""
        moment = now or utcnow()
        mailing = self._draft(session, mailing_id)
        self._check_ready(session, mailing)
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

    def _check_ready(self, session: Session, mailing: Mailing) -> None:
        data = MailingFields.model_validate(
            {
                name: getattr(mailing, name)
                for name in MailingFields.model_fields
                if name not in ("sender", "utm")
            }
        )
        self._validate(session, mailing.channel, data)
        errors = []
        if mailing.template_version_id is None:
            errors.append(FieldError("template_version_id", "Choose the template to send"))
        if mailing.channel == planning.CASCADE and mailing.sms_template_version_id is None:
            errors.append(FieldError("sms_template_version_id", "Choose the SMS template of the cascade"))
        if mailing.segment_id is None and not mailing.include_audience_ids:
            errors.append(FieldError("segment_id", "Choose a segment or target audiences to send to"))
        if errors:
            raise InvalidInput("; ".join(f"{e.field}: {e.message}" for e in errors), errors)

    def _start(self, session: Session, mailing: Mailing, now: datetime) -> None:
        """Freeze the audience as of now and collect it into the ledger (a job, after the commit)."""
        mailing.status = MailingStatus.COLLECTING
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
        batch = repository.audience_batch(mailing, mailing.started_at, mailing.collect_checkpoint or 0, size)
        if not batch:
            mailing.status, mailing.collected_at = MailingStatus.SENDING, moment
            self._settle(session, mailing, moment)
            return False
        recipients, control = planning.split_control(mailing, batch)
        repository.add_control_members(mailing.id, control, moment)
        planning.plan(session, mailing, recipients, moment)
        mailing.collect_checkpoint, mailing.updated_at = batch[-1], moment  # the heartbeat of collecting
        session.flush()
        return True

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
        collecting = mailing.collected_at is None
        mailing.status = MailingStatus.COLLECTING if collecting else MailingStatus.SENDING
        mailing.pause_reason = None
        repository = MailingRepository(session)
        released = repository.release(mailing.id, PAUSED_REASON, now)
        repository.add_events(released, "resumed", now, PAUSED_REASON)
        if collecting:
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
        if MailingRepository(session).waiting(mailing.id) > 0:
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


def _progress(statuses: dict[str, int], control: int) -> MailingProgress:
    def total(*names: str) -> int:
        return sum(statuses.get(name, 0) for name in names)

    return MailingProgress(
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
