"""Every SQL statement of mass mailings: the mailings, their frozen audience, their control groups, and
their messages in the ledger (read and held in bulk by source)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import case, exists, func, insert, or_, select, union, update
from sqlalchemy.dialects.postgresql import insert as postgres_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from smartcomm.delivery.ledger import Source, Status
from smartcomm.delivery.repository import EVENTS
from smartcomm.kit.bulk import chunked
from smartcomm.kit.pagination import Page, PageParams
from smartcomm.kit.repository import Repository
from smartcomm.models import (
    AttributedReceipt,
    Audience,
    AudienceMember,
    Customer,
    Mailing,
    MailingAssignment,
    MailingCategory,
    MailingControlMember,
    Message,
    MessageTemplateVersion,
    Segment,
    SegmentMembership,
    WatcherGroup,
)

# Messages a worker may still send: recorded, or claimed and not yet settled.
WAITING = (Status.PLANNED, Status.RENDERED, Status.QUEUED)
# Messages a pause or a cancel can still take back: not handed to a provider yet.
NOT_HANDED_OVER = (Status.PLANNED, Status.RENDERED)
# A customer counts as reached (or still on the way, or refused by the policy) with a message in one of
# these; "resend to those not reached" is for the others: every message of theirs failed, expired or was
# cancelled.
NOT_TO_RESEND = (*WAITING, Status.SENT, Status.DELIVERED, Status.OPENED, Status.CLICKED, Status.SUPPRESSED)
PERSON_OPENED = (Status.OPENED, Status.CLICKED)


class MailingRepository(Repository[Mailing]):
    model = Mailing

    @property
    def is_postgres(self) -> bool:
        return self.session.get_bind().dialect.name == "postgresql"

    # --- mailings ------------------------------------------------------------------------------------

    def locked(self, mailing_id: int) -> Mailing | None:
        """The mailing, its row locked until the transaction ends (PostgreSQL; SQLite has one writer), so
        a pause and a collect batch never interleave."""
        statement = select(Mailing).where(Mailing.id == mailing_id).execution_options(populate_existing=True)
        if self.is_postgres:
            statement = statement.with_for_update()
        return self.session.scalar(statement)

    def search(self, params: PageParams, channel: str | None, status: str | None) -> Page[Mailing]:
        statement = select(Mailing).order_by(Mailing.created_at.desc(), Mailing.id.desc())
        if channel is not None:
            statement = statement.where(Mailing.channel == channel)
        if status is not None:
            statement = statement.where(Mailing.status == status)
        return self.paginate(statement, params)

    def ids_with_status(self, status: str, due_before: datetime | None = None) -> list[int]:
        statement = select(Mailing.id).where(Mailing.status == status).order_by(Mailing.id)
        if due_before is not None:
            statement = statement.where(Mailing.scheduled_at <= due_before)
        return list(self.session.scalars(statement))

    def stalled_collecting(self, before: datetime) -> list[int]:
        """Collecting mailings whose last batch (or start) is older than `before`."""
        statement = select(Mailing.id).where(Mailing.status == "collecting", Mailing.updated_at < before)
        return list(self.session.scalars(statement.order_by(Mailing.id)))

    def statuses(self, mailing_ids: Sequence[int]) -> dict[int, str]:
        statement = select(Mailing.id, Mailing.status).where(Mailing.id.in_(list(mailing_ids)))
        return {int(row[0]): str(row[1]) for row in self.session.execute(statement)}

    # --- what a draft names --------------------------------------------------------------------------

    def template_channel(self, version_id: int) -> str | None:
        return self.session.scalar(
            select(MessageTemplateVersion.channel).where(MessageTemplateVersion.id == version_id)
        )

    def category_exists(self, category_id: int) -> bool:
        return self._exists(MailingCategory.id == category_id)

    def segment_exists(self, segment_id: int) -> bool:
        return self._exists(Segment.id == segment_id)

    def missing_audiences(self, audience_ids: Sequence[int]) -> list[int]:
        found = set(self.session.scalars(select(Audience.id).where(Audience.id.in_(list(audience_ids)))))
        return [audience_id for audience_id in audience_ids if audience_id not in found]

    def missing_watcher_groups(self, group_ids: Sequence[int]) -> list[int]:
        found = set(self.session.scalars(select(WatcherGroup.id).where(WatcherGroup.id.in_(list(group_ids)))))
        return [group_id for group_id in group_ids if group_id not in found]

    def _exists(self, condition: Any) -> bool:
        return bool(self.session.scalar(select(exists().where(condition))))

    # --- the audience --------------------------------------------------------------------------------

    def audience_batch(self, mailing: Mailing, at: datetime, after: int, limit: int) -> list[int]:
        """The next `limit` customer ids of the mailing's audience as it was at `at` (segment members then,
        members of the included audiences added by then, minus the excluded audiences' members), in id
        order after `after`. Reading membership as of a moment freezes the audience without copying it."""
        sources = self._audience_sources(mailing, at)
        if not sources:
            return []
        combined: Any = sources[0] if len(sources) == 1 else _union(sources)
        members = combined.subquery()
        customer_id = members.c.customer_id
        statement = (
            select(customer_id)
            .distinct()
            .join(Customer, Customer.id == customer_id)  # memberships carry no foreign key
            # The bound on both sides of the join: PostgreSQL merges the two ordered scans, and without its
            # own bound the customers' one starts at the first id for every batch (quadratic in the audience).
            .where(customer_id > after, Customer.id > after)
            .order_by(customer_id)
            .limit(limit)
        )
        if mailing.exclude_audience_ids:
            excluded = select(AudienceMember.customer_id).where(
                AudienceMember.audience_id.in_(mailing.exclude_audience_ids),
                AudienceMember.customer_id == customer_id,
            )
            statement = statement.where(~exists(excluded))
        return list(self.session.scalars(statement))

    def _audience_sources(self, mailing: Mailing, at: datetime) -> list[Any]:
        sources: list[Any] = []
        if mailing.segment_id is not None:
            stays = SegmentMembership
            sources.append(
                select(stays.customer_id.label("customer_id")).where(
                    stays.segment_id == mailing.segment_id,
                    stays.entered_at <= at,
                    or_(stays.exited_at.is_(None), stays.exited_at > at),
                )
            )
        if mailing.include_audience_ids:
            sources.append(
                select(AudienceMember.customer_id.label("customer_id")).where(
                    AudienceMember.audience_id.in_(mailing.include_audience_ids),
                    AudienceMember.added_at <= at,
                )
            )
        return sources

    def audience_members(self, audience_id: int, customer_ids: Sequence[int], at: datetime) -> set[int]:
        """Which of these customers were members of the target audience at `at`."""
        statement = select(AudienceMember.customer_id).where(
            AudienceMember.audience_id == audience_id,
            AudienceMember.added_at <= at,
            AudienceMember.customer_id.in_(list(customer_ids)),
        )
        return set(self.session.scalars(statement))

    def strata(self, customer_ids: Sequence[int], fields: Sequence[str]) -> list[tuple[int, tuple[Any, ...]]]:
        """(customer id, the values of the stratification fields) of each customer; the age band and
        "buyer" are derived from the birth date and the receipt count."""
        columns = {
            "gender": Customer.gender,
            "age_band": Customer.birth_date,
            "city": Customer.city,
            "region": Customer.region,
            "card_status": Customer.card_status,
            "buyer": Customer.receipt_count,
        }
        statement = select(Customer.id, *(columns[name] for name in fields)).where(
            Customer.id.in_(list(customer_ids))
        )
        return [(int(row[0]), tuple(row[1:])) for row in self.session.execute(statement)]

    # --- the control group ---------------------------------------------------------------------------

    def add_control_members(self, mailing_id: int, customer_ids: Sequence[int], now: datetime) -> None:
        """Record members; one recorded before (a batch collected again) is left as it is."""
        if not customer_ids:
            return
        build = postgres_insert if self.is_postgres else sqlite_insert
        statement = build(MailingControlMember).on_conflict_do_nothing()
        rows = [{"mailing_id": mailing_id, "customer_id": c, "drawn_at": now} for c in customer_ids]
        for part in chunked(rows, 500):
            self.session.execute(statement, list(part))

    def control_members_among(self, mailing_id: int, customer_ids: Sequence[int]) -> set[int]:
        statement = select(MailingControlMember.customer_id).where(
            MailingControlMember.mailing_id == mailing_id,
            MailingControlMember.customer_id.in_(list(customer_ids)),
        )
        return set(self.session.scalars(statement))

    def control_members(self, mailing_id: int) -> list[int]:
        statement = (
            select(MailingControlMember.customer_id)
            .where(MailingControlMember.mailing_id == mailing_id)
            .order_by(MailingControlMember.customer_id)
        )
        return list(self.session.scalars(statement))

    def control_counts(self, mailing_ids: Sequence[int]) -> dict[int, int]:
        statement = (
            select(MailingControlMember.mailing_id, func.count())
            .where(MailingControlMember.mailing_id.in_(list(mailing_ids)))
            .group_by(MailingControlMember.mailing_id)
        )
        return {int(row[0]): int(row[1]) for row in self.session.execute(statement)}

    # --- A/B variants --------------------------------------------------------------------------------

    def add_assignments(self, mailing_id: int, variants: dict[int, int | None], now: datetime) -> None:
        """Record the variant of each customer; one recorded before (a batch collected again) stays."""
        if not variants:
            return
        build = postgres_insert if self.is_postgres else sqlite_insert
        statement = build(MailingAssignment).on_conflict_do_nothing()
        rows = [
            {"mailing_id": mailing_id, "customer_id": c, "variant": v, "assigned_at": now}
            for c, v in variants.items()
        ]
        for part in chunked(rows, 500):
            self.session.execute(statement, list(part))

    def assignments(self, mailing_id: int, customer_ids: Sequence[int]) -> dict[int, int | None]:
        statement = select(MailingAssignment.customer_id, MailingAssignment.variant).where(
            MailingAssignment.mailing_id == mailing_id,
            MailingAssignment.customer_id.in_(list(customer_ids)),
        )
        return {int(row[0]): row[1] for row in self.session.execute(statement)}

    def waiting_for_winner(self, mailing_id: int, after: int, limit: int) -> list[int]:
        """The next customers left for the winner, in id order after `after`."""
        statement = (
            select(MailingAssignment.customer_id)
            .where(
                MailingAssignment.mailing_id == mailing_id,
                MailingAssignment.variant.is_(None),
                MailingAssignment.customer_id > after,
            )
            .order_by(MailingAssignment.customer_id)
            .limit(limit)
        )
        return list(self.session.scalars(statement))

    def give_winner(self, mailing_id: int, customer_ids: Sequence[int], winner: int) -> None:
        for part in chunked(list(customer_ids), 500):
            self.session.execute(
                update(MailingAssignment)
                .where(
                    MailingAssignment.mailing_id == mailing_id,
                    MailingAssignment.customer_id.in_(part),
                    MailingAssignment.variant.is_(None),
                )
                .values(variant=winner)
                .execution_options(synchronize_session=False)
            )

    def variant_results(self, mailing_id: int) -> dict[int, dict[str, Any]]:
        """Per variant: messages handed over, people who opened, who clicked, and the credited revenue."""
        variant = MailingAssignment.variant
        joined = (
            select(
                variant,
                func.count(Message.id),
                func.count(Message.id).filter(Message.opens > 0),
                func.count(Message.id).filter(Message.clicks > 0),
            )
            .join(
                Message,
                (Message.source_kind == Source.MAILING)
                & (Message.source_id == MailingAssignment.mailing_id)
                & (Message.customer_id == MailingAssignment.customer_id),
            )
            .where(MailingAssignment.mailing_id == mailing_id, variant.is_not(None))
            .where(Message.handed_over_at.is_not(None), Message.cascade_of.is_(None))
            .group_by(variant)
        )
        results: dict[int, dict[str, Any]] = {}
        for index, sent, opened, clicked in self.session.execute(joined):
            results[int(index or 0)] = {"sent": int(sent), "opened": int(opened), "clicked": int(clicked)}
        revenue = (
            select(variant, func.coalesce(func.sum(AttributedReceipt.amount), 0))
            .join(
                AttributedReceipt,
                (AttributedReceipt.source_kind == Source.MAILING)
                & (AttributedReceipt.source_id == MailingAssignment.mailing_id)
                & (AttributedReceipt.customer_id == MailingAssignment.customer_id)
                & AttributedReceipt.credited,
            )
            .where(MailingAssignment.mailing_id == mailing_id, variant.is_not(None))
            .group_by(variant)
        )
        for index, amount in self.session.execute(revenue):
            results.setdefault(int(index or 0), {"sent": 0, "opened": 0, "clicked": 0})["revenue"] = amount
        return results

    # --- resending -----------------------------------------------------------------------------------

    def not_reached(self, mailing_id: int, after: int, limit: int) -> list[int]:
        """The next customers (in id order after `after`) all of whose messages of the mailing failed,
        expired or were cancelled."""
        reached = case((Message.status.in_(NOT_TO_RESEND), 1), else_=0)
        statement = (
            select(Message.customer_id)
            .where(Message.source_kind == Source.MAILING, Message.source_id == mailing_id)
            .where(Message.customer_id > after)
            .group_by(Message.customer_id)
            .having(func.max(reached) == 0)
            .order_by(Message.customer_id)
            .limit(limit)
        )
        return [int(customer_id or 0) for customer_id in self.session.scalars(statement)]

    # --- the mailing's messages ----------------------------------------------------------------------

    def status_counts(self, mailing_ids: Sequence[int]) -> dict[int, dict[str, int]]:
        """Per mailing: its messages by status."""
        statement = (
            select(Message.source_id, Message.status, func.count())
            .where(Message.source_kind == Source.MAILING, Message.source_id.in_(list(mailing_ids)))
            .group_by(Message.source_id, Message.status)
        )
        found: dict[int, dict[str, int]] = {}
        for source_id, status, count in self.session.execute(statement):
            found.setdefault(int(source_id or 0), {})[status] = count
        return found

    def recipient_counts(self, mailing_ids: Sequence[int]) -> dict[int, int]:
        """Per mailing: the customers it recorded a message for (a cascade's SMS leg is not another one)."""
        statement = (
            select(Message.source_id, func.count(func.distinct(Message.customer_id)))
            .where(Message.source_kind == Source.MAILING, Message.source_id.in_(list(mailing_ids)))
            .group_by(Message.source_id)
        )
        return {int(row[0] or 0): int(row[1]) for row in self.session.execute(statement)}

    def reason_counts(self, mailing_id: int) -> dict[str | None, int]:
        """The mailing's suppressed messages by reason, and (under None) every other message."""
        statement = (
            select(Message.status, Message.reason, func.count())
            .where(Message.source_kind == Source.MAILING, Message.source_id == mailing_id)
            .group_by(Message.status, Message.reason)
        )
        found: dict[str | None, int] = {}
        for status, reason, count in self.session.execute(statement):
            key = reason if status == Status.SUPPRESSED else None
            found[key] = found.get(key, 0) + count
        return found

    def waiting(self, mailing_id: int) -> int:
        statement = select(func.count()).where(
            Message.source_kind == Source.MAILING,
            Message.source_id == mailing_id,
            Message.status.in_(WAITING),
        )
        return int(self.session.scalar(statement) or 0)

    def waiting_by_reason(self, mailing_id: int) -> dict[str, int]:
        """The mailing's messages waiting to be sent, by why they wait (a send window, the warm-up …)."""
        statement = (
            select(Message.reason, func.count())
            .where(
                Message.source_kind == Source.MAILING,
                Message.source_id == mailing_id,
                Message.status.in_(WAITING),
                Message.reason.is_not(None),
            )
            .group_by(Message.reason)
        )
        return {str(reason): int(count) for reason, count in self.session.execute(statement)}

    def hold(self, mailing_id: int, reason: str, until: datetime) -> list[int]:
        """Take back every message of the mailing not handed over yet: planned again, out of every claim. A
        claimed one loses its worker, whose hand-over then finds it is no longer its own."""
        return self._update_messages(
            mailing_id,
            NOT_HANDED_OVER,
            {"status": Status.PLANNED, "reason": reason, "next_attempt_at": until, "owner": None},
        )

    def release(self, mailing_id: int, reason: str, now: datetime) -> list[int]:
        """The held messages are due again (the gate re-defers those outside their window)."""
        statement = (
            update(Message)
            .where(
                Message.source_kind == Source.MAILING,
                Message.source_id == mailing_id,
                Message.status == Status.PLANNED,
                Message.reason == reason,
            )
            .values(reason=None, next_attempt_at=now)
            .returning(Message.id)
            .execution_options(synchronize_session=False)
        )
        return list(self.session.scalars(statement))

    def cancel(self, mailing_id: int, reason: str) -> list[int]:
        return self._update_messages(
            mailing_id, NOT_HANDED_OVER, {"status": Status.CANCELLED, "reason": reason, "owner": None}
        )

    def _update_messages(self, mailing_id: int, statuses: Sequence[str], values: dict[str, Any]) -> list[int]:
        statement = (
            update(Message)
            .where(
                Message.source_kind == Source.MAILING,
                Message.source_id == mailing_id,
                Message.status.in_(list(statuses)),
            )
            .values(**values)
            .returning(Message.id)
            .execution_options(synchronize_session=False)
        )
        return list(self.session.scalars(statement))

    def first_message(self, mailing_id: int) -> Message | None:
        """The mailing's first recorded message (what watchers get a copy of)."""
        statement = (
            select(Message)
            .where(Message.source_kind == Source.MAILING, Message.source_id == mailing_id)
            .where(Message.cascade_of.is_(None))
            .order_by(Message.id)
            .limit(1)
        )
        return self.session.scalar(statement)

    def count_failures(self, mailing_id: int, failures: int) -> tuple[int, int | None]:
        """Add provider failures in a row; returns the count and the mailing's own limit."""
        statement = (
            update(Mailing)
            .where(Mailing.id == mailing_id)
            .values(failures_in_row=Mailing.failures_in_row + failures)
            .returning(Mailing.failures_in_row, Mailing.failure_limit)
            .execution_options(synchronize_session=False)
        )
        row = self.session.execute(statement).one()
        return int(row[0]), row[1]

    def reset_failures(self, mailing_ids: Sequence[int]) -> None:
        self.session.execute(
            update(Mailing)
            .where(Mailing.id.in_(list(mailing_ids)), Mailing.failures_in_row > 0)
            .values(failures_in_row=0)
            .execution_options(synchronize_session=False)
        )

    def add_events(self, message_ids: Sequence[int], kind: str, when: datetime, reason: str) -> None:
        rows = [
            {
                "message_id": i,
                "kind": kind,
                "occurred_at": when,
                "is_machine": False,
                "data": {"reason": reason},
            }
            for i in message_ids
        ]
        for part in chunked(rows, 500):
            self.session.execute(insert(EVENTS), list(part))


def _union(selects: list[Any]) -> Any:
    """UNION of the audience's sources (typed loosely: mypy cannot expand SQLAlchemy's variadic union)."""
    build: Any = union
    return build(*selects)
