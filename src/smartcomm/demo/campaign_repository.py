"""SQL of the demo's trigger campaigns and of what the base did today (see `demo.communications.campaigns`,
`demo.today`): registrations to enter, the campaigns' messages to hand over, the action history dated
back, the receipts their attribution looks at, and the birthdays of the day.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, bindparam, func, or_, select, update
from sqlalchemy.orm import Session

from smartcomm.delivery.ledger import Source
from smartcomm.models import AuditEntry, Campaign, CampaignMessage, Customer, Journey, Message, Receipt

CHUNK = 900


class CampaignDemoRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def campaign_names(self, names: Sequence[str]) -> set[str]:
        """Which of these campaign names are taken."""
        return set(self.session.scalars(select(Campaign.name).where(Campaign.name.in_(list(names)))))

    def registrations(self, start: datetime, end: datetime) -> list[int]:
        """The customers who registered in (start, end], in the order they did."""
        statement = (
            select(Customer.id)
            .where(Customer.registered_at > start, Customer.registered_at <= end)
            .order_by(Customer.registered_at, Customer.id)
        )
        return [int(id_) for id_ in self.session.scalars(statement)]

    def due_messages(
        self, campaign_ids: Sequence[int], until: datetime
    ) -> list[tuple[int, int, str, datetime, str]]:
        """The campaigns' messages waiting to be handed over whose time has come by `until`: (id, campaign
        id, channel, due, node), in id order."""
        statement = (
            select(
                Message.id,
                CampaignMessage.campaign_id,
                Message.channel,
                Message.next_attempt_at,
                CampaignMessage.node,
            )
            .join(CampaignMessage, CampaignMessage.message_id == Message.id)
            .where(Message.source_kind == Source.CAMPAIGN, Message.source_id.in_(list(campaign_ids)))
            .where(Message.status == "planned", Message.next_attempt_at <= until)
            .where(or_(Message.reason.is_(None), Message.reason != "cascade_wait"))
            .order_by(Message.id)
        )
        return [
            (int(row[0]), int(row[1]), str(row[2]), row[3], str(row[4]))
            for row in self.session.execute(statement)
        ]

    def due_journeys(self, campaign_ids: Sequence[int], moment: datetime, limit: int) -> list[Journey]:
        """The campaigns' journeys due at `moment`, earliest first (the engine's claim, for several
        campaigns at once: the past is walked by one process)."""
        statement = (
            select(Journey)
            .where(Journey.status == "waiting", Journey.campaign_id.in_(list(campaign_ids)))
            .where(Journey.wake_at <= moment)
            .order_by(Journey.wake_at, Journey.id)
            .limit(limit)
            .execution_options(populate_existing=True)
        )
        return list(self.session.scalars(statement))

    def messages_of_node(self, campaign_id: int, node: str) -> list[Message]:
        """The messages of one send node that were handed over, in id order."""
        statement = (
            select(Message)
            .join(CampaignMessage, CampaignMessage.message_id == Message.id)
            .where(CampaignMessage.campaign_id == campaign_id, CampaignMessage.node == node)
            .where(Message.handed_over_at.is_not(None))
            .order_by(Message.id)
        )
        return list(self.session.scalars(statement))

    def recipients_receipts(self, campaign_ids: Sequence[int], since: datetime) -> list[int]:
        """The receipts purchased since a moment by customers the campaigns sent something to: the ones
        whose attribution the campaigns' touches may change."""
        recipients = select(Message.customer_id).where(
            Message.source_kind == Source.CAMPAIGN,
            Message.source_id.in_(list(campaign_ids)),
            Message.handed_over_at.is_not(None),
        )
        statement = (
            select(Receipt.id)
            .where(Receipt.purchased_at >= since, Receipt.customer_id.in_(recipients))
            .order_by(Receipt.id)
        )
        return [int(id_) for id_ in self.session.scalars(statement)]

    # --- the action history, dated back ----------------------------------------------------------------

    def last_audit_id(self) -> int:
        return int(self.session.scalar(select(func.max(AuditEntry.id))) or 0)

    def date_audit(self, after_id: int, at: datetime) -> None:
        """The history rows written after `after_id` happened at `at`."""
        self.session.execute(
            update(AuditEntry)
            .where(AuditEntry.id > after_id)
            .values(occurred_at=at)
            .execution_options(synchronize_session=False)
        )

    # --- birthdays -------------------------------------------------------------------------------------

    def reachable_birth_dates(self) -> list[tuple[int, date | None]]:
        """(customer id, birth date) of the customers with a usable e-mail address, by id."""
        statement = (
            select(Customer.id, Customer.birth_date)
            .where(and_(Customer.email.is_not(None), Customer.email_valid.is_(True)))
            .where(Customer.allow_email.is_(True))
            .order_by(Customer.id)
        )
        return [(int(id_), born) for id_, born in self.session.execute(statement)]

    def set_birth_dates(self, rows: Sequence[tuple[int, date]]) -> None:
        if not rows:
            return
        table: Any = Customer.__table__
        statement = (
            update(table).where(table.c.id == bindparam("c_id")).values(birth_date=bindparam("c_born"))
        )
        self.session.execute(statement, [{"c_id": id_, "c_born": born} for id_, born in rows])
