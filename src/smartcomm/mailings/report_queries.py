"""Every SQL statement of a mailing's report: its messages' figures, unsubscribes and complaints, people's
e-mail opens by quarter hour, the members of its groups and their purchases, and the per-recipient rows.

The figures and opens are the shared ones of `analytics.messages`, asked about the mailing's messages.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, func, literal, select
from sqlalchemy.orm import Session

from smartcomm.analytics import messages
from smartcomm.analytics.messages import MessageFigures, quarter_of, quarter_start
from smartcomm.delivery.ledger import Source
from smartcomm.models import (
    AttributedReceipt,
    Customer,
    MailingAssignment,
    MailingControlMember,
    Message,
    Receipt,
)
from smartcomm.models.receipts import PURCHASE_STATUSES

EXPORT_BATCH = 2000


class MailingReportQueries:
    def __init__(self, session: Session) -> None:
        self.session = session

    @property
    def is_postgres(self) -> bool:
        return self.session.get_bind().dialect.name == "postgresql"

    # --- the messages ----------------------------------------------------------------------------------

    def message_figures(self, mailing_id: int) -> MessageFigures:
        return messages.message_figures(self.session, _of_mailing(mailing_id))

    def unsubscribes(self, mailing_id: int) -> tuple[int, int]:
        """(messages unsubscribed from, messages complained about): each message counted once."""
        return messages.unsubscribes(self.session, _of_mailing(mailing_id))

    def email_opens_by_quarter(self, mailing_id: int) -> list[tuple[datetime, int]]:
        """People's opens of the mailing's e-mails per UTC quarter hour (its start, the count)."""
        return messages.email_opens_by_quarter(self.session, _of_mailing(mailing_id))

    def handed_over_by_quarter(
        self, start: datetime, end: datetime, channels: Sequence[str] | None
    ) -> list[tuple[datetime, str, int]]:
        """Mailing messages handed to providers in [start, end), per UTC quarter hour and channel."""
        bucket = quarter_of(self.session, Message.handed_over_at)
        statement = (
            select(bucket, Message.channel, func.count())
            .where(
                Message.source_kind == Source.MAILING,
                Message.handed_over_at >= start,
                Message.handed_over_at < end,
            )
            .group_by(bucket, Message.channel)
        )
        if channels is not None:
            statement = statement.where(Message.channel.in_(list(channels)))
        return [(quarter_start(int(q)), str(ch), int(n)) for q, ch, n in self.session.execute(statement)]

    # --- the groups ------------------------------------------------------------------------------------

    def recipients(self, mailing_id: int) -> Select[Any]:
        """Customers with a message of the mailing (any status: suppressed ones were in the audience)."""
        return (
            select(Message.customer_id.label("customer_id"))
            .where(*_of_mailing(mailing_id), Message.customer_id.is_not(None))
            .distinct()
        )

    def variant_members(self, mailing_id: int, variant: int | None) -> Select[Any]:
        """Customers drawn into a variant (None: those who waited for the winner)."""
        a = MailingAssignment
        chosen = a.variant.is_(None) if variant is None else a.variant == variant
        return select(a.customer_id.label("customer_id")).where(a.mailing_id == mailing_id, chosen)

    def control_members(self, mailing_id: int) -> Select[Any]:
        member = MailingControlMember
        return select(member.customer_id.label("customer_id")).where(member.mailing_id == mailing_id)

    def assigned_variants(self, mailing_id: int) -> list[int | None]:
        """The variants that have members (None for the rest who waited for the winner)."""
        a = MailingAssignment
        statement = select(a.variant).where(a.mailing_id == mailing_id).distinct()
        return sorted(self.session.scalars(statement), key=lambda v: (v is None, v or 0))

    def size(self, members: Select[Any]) -> int:
        return int(self.session.scalar(select(func.count()).select_from(members.subquery())) or 0)

    def delivered(self, mailing_id: int, members: Select[Any]) -> int:
        """Members with at least one delivered message of the mailing."""
        group = members.subquery()
        statement = select(func.count(func.distinct(Message.customer_id))).where(
            *_of_mailing(mailing_id),
            Message.delivered_at.is_not(None),
            Message.customer_id.in_(select(group.c.customer_id)),
        )
        return int(self.session.scalar(statement) or 0)

    def purchases(self, members: Select[Any], start: datetime, end: datetime) -> list[tuple[int, Decimal]]:
        """(receipts, amount) of each member who bought: paid receipts purchased in [start, end)."""
        group = members.subquery()
        statement = (
            select(func.count(), func.sum(Receipt.total))
            .where(
                Receipt.customer_id.in_(select(group.c.customer_id)),
                Receipt.status.in_(PURCHASE_STATUSES),
                Receipt.purchased_at >= start,
                Receipt.purchased_at < end,
            )
            .group_by(Receipt.customer_id)
        )
        return [(int(count), Decimal(amount)) for count, amount in self.session.execute(statement)]

    # --- per recipient ---------------------------------------------------------------------------------

    def recipient_rows(self, mailing_id: int, batch: int = EXPORT_BATCH) -> Iterator[Sequence[Any]]:
        """The mailing's messages, in id order and batches: the customer, the outcome, the engagement and
        the receipts credited to the message."""
        after = 0
        while rows := self._recipient_batch(mailing_id, after, batch):
            yield rows
            after = rows[-1][0]

    def _recipient_batch(self, mailing_id: int, after: int, limit: int) -> list[Any]:
        credited = (
            select(
                AttributedReceipt.message_id.label("message_id"),
                func.count().label("receipts"),
                func.sum(AttributedReceipt.amount).label("amount"),
            )
            .where(AttributedReceipt.credited.is_(True), AttributedReceipt.source_kind == Source.MAILING)
            .where(AttributedReceipt.source_id == mailing_id)
            .group_by(AttributedReceipt.message_id)
            .subquery()
        )
        m = Message
        statement = (
            select(
                m.id,
                Customer.external_id,
                m.channel,
                m.recipient,
                m.status,
                m.reason,
                m.sent_at,
                m.delivered_at,
                m.opened_at,
                m.clicked_at,
                m.opens,
                m.clicks,
                func.coalesce(credited.c.receipts, literal(0)),
                credited.c.amount,
            )
            .outerjoin(Customer, Customer.id == m.customer_id)
            .outerjoin(credited, credited.c.message_id == m.id)
            .where(*_of_mailing(mailing_id), m.id > after)
            .order_by(m.id)
            .limit(limit)
        )
        return list(self.session.execute(statement).all())


def _of_mailing(mailing_id: int) -> list[Any]:
    return [Message.source_kind == Source.MAILING, Message.source_id == mailing_id]
